// Builds the dashboard's page scripts into dashboard/public/js (git-ignored), which the worker
// serves as static assets beside the committed HTML and CSS (wrangler.toml `[assets]`).
//
//   npm run build:dashboard            # once; `npm run api` and the dashboard tests build first
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

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
  return Object.keys(result.metafile.outputs);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = await buildDashboard();
  console.log(
    `dashboard: ${files.filter((f) => f.endsWith(".js")).length} scripts in ${PUBLIC_DIR}/js`,
  );
}
