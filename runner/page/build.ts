// Bundles the engine page with esbuild (once per process; the output lives in an ignored folder).
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
export const pageDistDir = resolve(here, "../../.evals/page");

let building: Promise<string> | null = null;

/** Returns the path of the bundled page script, building it on first use. */
export function buildEnginePage(): Promise<string> {
  building ??= (async () => {
    mkdirSync(pageDistDir, { recursive: true });
    const outfile = join(pageDistDir, "engine-page.js");
    await build({
      entryPoints: [join(here, "engine-page.ts")],
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "chrome120",
      outfile,
      logLevel: "silent",
    });
    return outfile;
  })();
  return building;
}
