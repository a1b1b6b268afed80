// The dashboard's five HTML pages, written from one head, header and footer at build time so a
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
