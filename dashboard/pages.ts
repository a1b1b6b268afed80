// The dashboard's HTML pages, written from one head, header and footer at build time so a
// change to the shared parts (stylesheet, nav, colour scheme) reaches every page at once.

export interface PageSpec {
  /** File under dashboard/public. */
  file: string;
  title: string;
  /** The page script in dashboard/src/pages (built to /js/<script>.js); none for static pages. */
  script?: string;
  /** Static content of <main> for pages without a script. */
  body?: string;
}

export const PAGES: PageSpec[] = [
  { file: "index.html", title: "Leaderboard", script: "leaderboard" },
  { file: "run.html", title: "Run", script: "run" },
  { file: "samples.html", title: "Samples", script: "samples" },
  { file: "compare.html", title: "Compare", script: "compare" },
  { file: "checkpoint.html", title: "Checkpoint", script: "checkpoint" },
  {
    file: "flops.html",
    title: "How FLOPs are counted",
    // The formula of model/flops.ts (flopsPerToken, flopsForSample), written out for readers of the plots.
    body: `<article class="prose">
      <h1>How FLOPs are counted</h1>
      <p>The FLOPs axis of every plot is the <strong>mean FLOPs per sample</strong> of a run at one r, computed on the server from the checkpoint's parameter counts and each sample's token counts (<code>model/flops.ts</code>).</p>
      <p>One token at context length <var>t</var> (it attends to <var>t</var> positions, itself included) costs</p>
      <pre class="formula" tabindex="0">FLOPs(t) = 2·(P_prelude + P_coda + P_head) + 2·r·(P_block + P_adapter)
         + 4·t·n_heads·head_dim·(L_prelude + L_coda + r·L_block)</pre>
      <p>where <var>P</var> are parameter counts, <var>L</var> layer counts and <var>r</var> the number of recurrences: a matrix multiply costs 2 FLOPs per weight, and attention 4 per position per head dimension per layer (scores and the weighted sum). A sample processes each of its <var>n</var> = prompt + generated tokens once, the <var>k</var>-th at context length <var>k</var>:</p>
      <pre class="formula" tabindex="0">FLOPs(sample) = n·[2·(P_prelude + P_coda + P_head) + 2·r·(P_block + P_adapter)]
              + 4·n_heads·head_dim·(L_prelude + L_coda + r·L_block)·n(n+1)/2</pre>
      <p>A checkpoint with no recurrent block ignores r. Loglikelihood tasks generate nothing: a sample is the compute of its requests' input tokens. Embedding lookups, norms and the softmax are not counted.</p>
      <p><a href="/">Back to the leaderboard</a></p>
    </article>`,
  },
  {
    file: "404.html",
    title: "Not found",
    body: `<div class="message" role="alert">
      <h1>Page not found</h1>
      <p>There is no such page. Runs live at <code>/run?id=&lt;run id&gt;</code>; the leaderboard is at <a href="/">/</a>.</p>
    </div>`,
  },
];

const escapeHtml = (text: string) =>
  text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");

/** One page's HTML: the shared head (charset, viewport, colour schemes, stylesheet), nav and footer. */
export function pageHtml(page: PageSpec): string {
  const script = page.script
    ? `\n  <script type="module" src="/js/${page.script}.js"></script>`
    : "";
  const main = page.body ?? '<p class="loading">Loading…</p>';
  const noscript = page.script
    ? `\n  <noscript><p>This dashboard needs JavaScript; the same data is at <a href="/api/leaderboard">/api/leaderboard</a>.</p></noscript>`
    : "";
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light dark">
  <title>${escapeHtml(page.title)} · evals</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/style.css">${script}
</head>
<body data-page="${page.script ?? "static"}">
  <header class="site">
    <a class="brand" href="/">evals</a>
    <nav aria-label="Site">
      <a href="/">Leaderboard</a>
      <a href="/compare">Compare</a>
      <a href="/api/openapi.json">API</a>
    </nav>
  </header>
  <main id="app">${main}</main>
  <footer class="site"><p class="muted small">Accuracy of depth-recurrent language models against test-time recurrences r and FLOPs. Prompts and metrics as lm-evaluation-harness.</p></footer>${noscript}
</body>
</html>
`;
}
