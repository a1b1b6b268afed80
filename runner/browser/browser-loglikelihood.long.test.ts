// Loglikelihood requests in the engine page on onnxruntime-web (wasm) equal onnxruntime-node's:
// the same encoded pairs, the same summed log-probabilities within 1e-3, the same greedy flags,
// with and without one prefill per shared context.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportModel } from "../../model/export-model.ts";
import { STORY_PROMPTS, stories260kDir } from "../../model/testing/stories.ts";
import { loadNodeCheckpoint } from "../engine/load-node.ts";
import { encodePair, scoreLoglikelihood } from "../engine/loglikelihood.ts";
import { BrowserEngine } from "./browser-engine.ts";
import { launchChromium } from "./chromium.ts";

const work = mkdtempSync(join(tmpdir(), "evals-browser-ll-"));
const out = join(work, "split");
let browser: Browser;
beforeAll(async () => {
  await exportModel({ from: stories260kDir, out, split: [1, 3, 1], adapter: "random", seed: 7 });
  browser = await launchChromium();
}, 300_000);
afterAll(async () => {
  await browser?.close();
  rmSync(work, { recursive: true, force: true });
});

// Multiple-choice documents (shared contexts, one- and multi-token choices) and winogrande's
// two contexts against one continuation.
const REQUESTS = [
  ...[" time", " day there was a cat", " big", " dog and a cat played"].map((continuation) => ({
    context: STORY_PROMPTS[0],
    continuation,
  })),
  ...[" home.", " to the park and saw a bird", " happy"].map((continuation) => ({
    context: `${STORY_PROMPTS[2]} `,
    continuation,
  })),
  { context: "Sara wanted a cake so Sara", continuation: " baked it." },
  { context: "Sara wanted a cake so Mom", continuation: " baked it." },
];

describe("wasm loglikelihood = node loglikelihood (stories260k, split 1,3,1)", () => {
  let engine: BrowserEngine;
  beforeAll(async () => {
    engine = await BrowserEngine.open(out, { backend: "wasm", browser, threads: 2 });
  }, 300_000);
  afterAll(() => engine?.close());

  it.each([1, 4])(
    "r = %i: same pairs, log-probabilities within 1e-3, same greedy flags",
    async (r) => {
      const node = await loadNodeCheckpoint(out);
      const nodePairs = REQUESTS.map((q) =>
        encodePair(node.tokenizer, node.model.manifest.tokens, q, true),
      );
      const pagePairs = await engine.encodePairs(REQUESTS, true);
      expect(pagePairs).toEqual(nodePairs);
      for (const reuseContext of [true, false]) {
        const config = { recurrences: r, kv: "full" as const, batchSize: 3, reuseContext };
        const want = await scoreLoglikelihood(node.model, nodePairs, config);
        const got = await engine.loglikelihood(pagePairs, config);
        got.forEach((result, i) => {
          expect(Math.abs(result.logprob - want[i].logprob), `pair ${i}`).toBeLessThan(1e-3);
          expect(result.isGreedy).toBe(want[i].isGreedy);
          expect(result.inputTokens).toBe(want[i].inputTokens);
        });
      }
    },
    300_000,
  );
});

// WebGPU runs on SwiftShader here (~100x slower than wasm): a handful of requests at one r, enough
// to feed a shared context (device-tensor cache forks) and winogrande's two contexts.
describe("webgpu loglikelihood = node loglikelihood (stories260k, split 1,3,1)", () => {
  it("r = 4: four pairs with context reuse, log-probabilities within 1e-3, same greedy flags", async () => {
    const requests = [REQUESTS[0], REQUESTS[1], REQUESTS[7], REQUESTS[8]];
    const engine = await BrowserEngine.open(out, { backend: "webgpu", browser });
    try {
      expect(engine.report.backend).toBe("webgpu");
      const node = await loadNodeCheckpoint(out);
      const pairs = requests.map((q) =>
        encodePair(node.tokenizer, node.model.manifest.tokens, q, true),
      );
      const config = { recurrences: 4, kv: "full" as const, batchSize: 2, reuseContext: true };
      const want = await scoreLoglikelihood(node.model, pairs, config);
      const got = await engine.loglikelihood(pairs, config);
      got.forEach((result, i) => {
        expect(Math.abs(result.logprob - want[i].logprob), `pair ${i}`).toBeLessThan(1e-3);
        expect(result.isGreedy).toBe(want[i].isGreedy);
      });
    } finally {
      await engine.close();
    }
  }, 300_000);
});
