import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openNodeModel } from "../runner/engine/node-sessions.ts";
import { readCheckpoint } from "./checkpoint.ts";
import { exportModel } from "./export-model.ts";
import { referenceLogits } from "./reference.ts";
import { loadSourceModel } from "./source.ts";
import { buildRecurrentWeights } from "./surgery.ts";
import { ortLogits, ortLogitsStepwise, toleranceRatio } from "./testing/ort-logits.ts";
import { STORY_PROMPTS, stories260kDir, stories260kTokenizer } from "./testing/stories.ts";

const work = mkdtempSync(join(tmpdir(), "evals-export-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const tokenizer = stories260kTokenizer();
const prompts = STORY_PROMPTS.slice(0, 4).map((p) => tokenizer.encode(p).ids);
const source = loadSourceModel(stories260kDir);

async function exported(name: string, request: Omit<Parameters<typeof exportModel>[0], "out">) {
  const out = join(work, name);
  await exportModel({ ...request, out });
  return openNodeModel(await readCheckpoint(out));
}

describe("stories260k exported to ONNX equals the reference forward", () => {
  it("non-recurrent: logits within 1e-4 at every position, prefill and token by token", async () => {
    const model = await exported("plain", { from: stories260kDir });
    expect(model.manifest.graphs.block).toBeNull();
    const weights = buildRecurrentWeights(source);
    for (const ids of prompts) {
      const expected = referenceLogits(weights, ids, { recurrences: 1 });
      expect(toleranceRatio(await ortLogits(model, ids, 1), expected, 1e-4)).toBeLessThanOrEqual(1);
      expect(
        toleranceRatio(await ortLogitsStepwise(model, ids, 1, 2), expected, 1e-4),
      ).toBeLessThanOrEqual(1);
    }
  });

  it("--split 1,3,1 --adapter identity equals the non-recurrent export at r = 1", async () => {
    const plain = await exported("plain-2", { from: stories260kDir });
    const identity = await exported("identity", {
      from: stories260kDir,
      split: [1, 3, 1],
      adapter: "identity",
    });
    expect(identity.manifest.layers).toEqual({ prelude: [0], block: [1, 2, 3], coda: [4] });
    for (const ids of prompts) {
      const a = await ortLogits(identity, ids, 1);
      expect(toleranceRatio(a, await ortLogits(plain, ids, 1), 1e-4)).toBeLessThanOrEqual(1);
      const expected = referenceLogits(buildRecurrentWeights(source), ids, { recurrences: 1 });
      expect(
        toleranceRatio(await ortLogitsStepwise(identity, ids, 1, 1), expected, 1e-4),
      ).toBeLessThanOrEqual(1);
    }
  });

  it("random adapter: logits equal the reference at r = 1, 2, 4, 8 within 2e-3", async () => {
    const model = await exported("random", {
      from: stories260kDir,
      split: [1, 3, 1],
      adapter: "random",
      seed: 11,
    });
    const weights = buildRecurrentWeights(source, {
      split: [1, 3, 1],
      adapter: "random",
      seed: 11,
    });
    for (const r of [1, 2, 4, 8]) {
      for (const ids of prompts.slice(0, 2)) {
        const expected = referenceLogits(weights, ids, { recurrences: r });
        expect(
          toleranceRatio(await ortLogits(model, ids, r), expected, 2e-3, 2e-3),
        ).toBeLessThanOrEqual(1);
        expect(
          toleranceRatio(await ortLogitsStepwise(model, ids, r, 3), expected, 2e-3, 2e-3),
        ).toBeLessThanOrEqual(1);
      }
    }
  });
});
