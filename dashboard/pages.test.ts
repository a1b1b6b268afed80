// The pages share one head: same stylesheet, viewport and colour schemes, each its own title
// and script, and the files the build writes are exactly these.
import { describe, expect, it } from "vitest";
import { PAGES, pageHtml } from "./pages.ts";

describe("dashboard pages", () => {
  it("share one head and differ only in title, script and main", () => {
    const heads = PAGES.map((page) =>
      pageHtml(page)
        .split("</head>")[0]
        .replace(/<title>.*<\/title>/, "")
        .replace(/\n {2}<script[^\n]*<\/script>/, ""),
    );
    expect(new Set(heads).size).toBe(1);
    expect(heads[0]).toContain('<meta name="color-scheme" content="light dark">');
    expect(heads[0]).toContain('<link rel="stylesheet" href="/style.css">');
    expect(PAGES.map((p) => p.file).sort()).toEqual(
      [
        "404.html",
        "checkpoint.html",
        "compare.html",
        "flops.html",
        "index.html",
        "run.html",
        "samples.html",
      ].sort(),
    );
    for (const page of PAGES) {
      const html = pageHtml(page);
      expect(html).toContain(`<title>${page.title} · evals</title>`);
      if (page.script) expect(html).toContain(`src="/js/${page.script}.js"`);
      expect(html.match(/<h1/g)?.length ?? 0).toBeLessThanOrEqual(1);
    }
  });
});
