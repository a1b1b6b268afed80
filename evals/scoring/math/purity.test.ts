import { build } from "esbuild";
import { describe, expect, it } from "vitest";

// The worker scores completions with these modules inside workerd, so they must bundle for a
// platform with no Node built-ins. esbuild's "neutral" platform resolves no `node:` module.
function bundleNeutral(options: { entry?: string; contents?: string }) {
  return build({
    ...(options.entry ? { entryPoints: [options.entry] } : {}),
    ...(options.contents
      ? { stdin: { contents: options.contents, resolveDir: import.meta.dirname, loader: "ts" } }
      : {}),
    bundle: true,
    platform: "neutral",
    format: "esm",
    mainFields: ["module", "main"],
    write: false,
    logLevel: "silent",
  });
}

describe("MATH scorers run without Node built-ins", () => {
  it("bundles evals/scoring/math/index.ts for a neutral platform", async () => {
    const result = await bundleNeutral({ entry: `${import.meta.dirname}/index.ts` });
    expect(result.errors).toEqual([]);
  });

  it("would notice a Node import (the check itself can fail)", async () => {
    const impure = 'import { readFileSync } from "node:fs"; export const x = readFileSync;';
    await expect(bundleNeutral({ contents: impure })).rejects.toThrow(/node:fs/);
  });
});
