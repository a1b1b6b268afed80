import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { UnsupportedArchitectureError } from "./errors.ts";
import { referenceLogits } from "./reference.ts";
import { loadSourceModel } from "./source.ts";
import { buildRecurrentWeights } from "./surgery.ts";
import { RAVEN_SPLIT, writeRavenFromStories } from "./testing/raven-fixture.ts";
import { STORY_PROMPTS, stories260kDir, stories260kTokenizer } from "./testing/stories.ts";

const work = mkdtempSync(join(tmpdir(), "evals-raven-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const ids = stories260kTokenizer().encode(STORY_PROMPTS[4]).ids;
// The fixture is stories260k renamed into raven's fused layout with a random adapter (seed 5):
// surgery with the same split and seed is the same model, so the two must agree bit for bit.
const surgery = buildRecurrentWeights(loadSourceModel(stories260kDir), {
  split: [...RAVEN_SPLIT],
  adapter: "random",
  seed: 5,
});

function ravenDir(name: string, options?: Parameters<typeof writeRavenFromStories>[2]): string {
  const dir = join(work, name);
  writeRavenFromStories(dir, 5, options);
  return dir;
}

describe("raven checkpoint import", () => {
  it("unfuses Wqkv and mlp.fc and computes what surgery on the plain model computes", () => {
    const raven = buildRecurrentWeights(loadSourceModel(ravenDir("plain")));
    expect(raven.layers).toEqual({ prelude: [0], block: [1, 2, 3], coda: [4] });
    expect(raven.tiedEmbeddings).toBe(false);
    for (const r of [1, 4]) {
      const expected = referenceLogits(surgery, ids, { recurrences: r });
      expect(referenceLogits(raven, ids, { recurrences: r })).toEqual(expected);
    }
  });

  it("takes embed_scale from init_values and ignores the config's bos/eos", () => {
    const source = loadSourceModel(
      ravenDir("scaled", { config: { init_values: { embed_scale: 8 } } }),
    );
    expect(source.config.dims.embedScale).toBe(8);
    expect(source.config.bosTokenId).toBeNull();
    expect(source.config.eosTokenIds).toEqual([]);
    const scaled = referenceLogits(buildRecurrentWeights(source), ids, { recurrences: 2 });
    expect(scaled).not.toEqual(referenceLogits(surgery, ids, { recurrences: 2 }));
  });

  it("refuses Huginn sandwich norms by tensor name instead of ignoring them", () => {
    const h = surgery.dims.hiddenSize;
    const dir = ravenDir("sandwich", {
      extraTensors: {
        "transformer.core_block.0.norm_3.weight": { data: new Float32Array(h), shape: [h] },
      },
    });
    expect(() => buildRecurrentWeights(loadSourceModel(dir))).toThrow(UnsupportedArchitectureError);
    expect(() => buildRecurrentWeights(loadSourceModel(dir))).toThrow(
      /transformer\.core_block\.0\.norm_3\.weight/,
    );
  });

  it("names a missing fused tensor", () => {
    const dir = ravenDir("short", { config: { n_layers_in_recurrent_block: 4 } });
    expect(() => buildRecurrentWeights(loadSourceModel(dir))).toThrow(
      /tensor transformer\.core_block\.3\.attn\.Wqkv\.weight is missing/,
    );
  });
});
