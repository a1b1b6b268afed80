// Builds the dashboard's page scripts into dashboard/public/js and its HTML pages (both
// git-ignored, from dashboard/pages.ts), which the worker serves as static assets beside the
// committed CSS (wrangler.toml `[assets]`).
//
//   npm run build:dashboard            # once; `npm run api` and the dashboard tests build first
import { readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { PAGES, pageHtml } from "./pages.ts";

const here = dirname(fileURLToPath(import.meta.url));
export const PUBLIC_DIR = join(here, "public");

/** Bundles every page in dashboard/src/pages (shared code split into chunks); returns the files. */
export async function buildDashboard(options: { minify?: boolean } = {}): Promise<string[]> {
  const pages = join(here, "src/pages");
  const entryPoints = readdirSync(pages)
    .filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts"))
    .map((file) => join(pages, file));
  const result = await build({
    entryPoints,
    outdir: join(PUBLIC_DIR, "js"),
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: options.minify ?? true,
    sourcemap: true,
    chunkNames: "chunks/[name]-[hash]",
    metafile: true,
    logLevel: "warning",
  });
  for (const spec of PAGES) writeFileSync(join(PUBLIC_DIR, spec.file), pageHtml(spec));
  return Object.keys(result.metafile.outputs);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = await buildDashboard();
  console.log(
    `dashboard: ${files.filter((f) => f.endsWith(".js")).length} scripts in ${PUBLIC_DIR}/js`,
  );
}
