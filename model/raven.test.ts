// Raven checkpoints written as the authors' converters write them (testing/raven-fixture.ts) import
// with the right flavour and compute what the spec oracle (testing/raven-spec-forward.ts) computes.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TensorError, UnsupportedArchitectureError } from "./errors.ts";
import { exportModel } from "./export-model.ts";
import { referenceLogits } from "./reference.ts";
import { loadSourceModel } from "./source.ts";
import { buildRecurrentWeights } from "./surgery.ts";
import {
  FIXTURE_FLAVOUR,
  maxDifference,
  RAVEN_FIXTURE_KINDS,
  specCheckpointOf,
  writeRavenFixture,
} from "./testing/raven-fixture.ts";
import { specRavenLogits } from "./testing/raven-spec-forward.ts";

const work = mkdtempSync(join(tmpdir(), "evals-raven-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const ids = [1, 40, 77, 120, 5, 250, 33, 9, 18, 299, 64, 2];
let counter = 0;
const fresh = (
  kind: (typeof RAVEN_FIXTURE_KINDS)[number],
  options?: Parameters<typeof writeRavenFixture>[2],
) => writeRavenFixture(join(work, `${kind}-${counter++}`), kind, options);

describe.each(RAVEN_FIXTURE_KINDS)("%s as its converter writes it", (kind) => {
  const fixture = fresh(kind);
  const source = loadSourceModel(fixture.dir);

  it("imports as its flavour with the spec's placement, theta and embedding scale", () => {
    const huginn = kind === "huginn";
    expect(source.config.flavour).toBe(FIXTURE_FLAVOUR[kind]);
    const c = fixture.config as Record<string, number>;
    expect(source.config.dims).toMatchObject({
      normPlacement: { "retrofit-llama": "pre", "retrofit-olmo2": "post", huginn: "sandwich" }[
        FIXTURE_FLAVOUR[kind]
      ],
      ropeTheta: huginn ? c.rope_base : c.rope_theta,
      embedScale: huginn ? Math.sqrt(c.n_embd) : 1,
      vocabSize: c.padded_vocab_size,
      maxPositionEmbeddings: huginn ? c.block_size : c.max_position_embeddings,
    });
    const weights = buildRecurrentWeights(source);
    expect(weights.tiedEmbeddings).toBe(huginn);
    expect(weights.finalNormBeforeCoda).toBe(huginn);
    expect(weights.layers).toEqual({ prelude: [0], block: [1, 2], coda: [3] });
  });

  it("our reference forward equals the spec oracle within 1e-4 at r = 1, 2, 4, 8", () => {
    const weights = buildRecurrentWeights(source);
    for (const r of [1, 2, 4, 8]) {
      const expected = specRavenLogits(specCheckpointOf(fixture), ids, { recurrences: r });
      expect(
        maxDifference(referenceLogits(weights, ids, { recurrences: r }), expected),
      ).toBeLessThan(1e-4);
    }
  });
});

describe("bad raven checkpoints are refused with the file, the tensor or key, and the fix", () => {
  it("a Huginn checkpoint that also has OLMo-2 q/k norms mixes flavour markers", () => {
    const fixture = fresh("huginn", {
      extraTensors: {
        "transformer.coda.0.attn.q_norm.weight": { data: new Float32Array(64), shape: [64] },
      },
    });
    expect(() => loadSourceModel(fixture.dir)).toThrow(UnsupportedArchitectureError);
    expect(() => loadSourceModel(fixture.dir)).toThrow(
      /config\.json: the checkpoint mixes markers of two raven flavours: Huginn tensor .* and OLMo-2 retrofit tensor transformer\.coda\.0\.attn\.q_norm\.weight/,
    );
  });

  it("Huginn with num_key_value_heads ≠ n_heads", () => {
    const fixture = fresh("huginn", { config: { num_key_value_heads: 2 } });
    expect(() => loadSourceModel(fixture.dir)).toThrow(
      /config\.json: key num_key_value_heads 2 differs from n_heads 4; .*fix config\.json/,
    );
  });

  it("a tensor no flavour explains (an adapter bias) is refused, not ignored", () => {
    const fixture = fresh("retrofit-tinyllama", {
      extraTensors: { "transformer.adapter.bias": { data: new Float32Array(64), shape: [64] } },
    });
    expect(() => buildRecurrentWeights(loadSourceModel(fixture.dir))).toThrow(
      /model\.safetensors: tensor transformer\.adapter\.bias has no place in a retrofit-llama raven checkpoint .*remove the tensor or fix config\.json/,
    );
  });

  it("a split that promises more layers than are stored names the missing tensor", () => {
    const fixture = fresh("retrofit-olmo2", { config: { n_layers_in_recurrent_block: 3 } });
    expect(() => buildRecurrentWeights(loadSourceModel(fixture.dir))).toThrow(TensorError);
    expect(() => buildRecurrentWeights(loadSourceModel(fixture.dir))).toThrow(
      /tensor transformer\.core_block\.2\.attn\.Wqkv\.weight is missing/,
    );
  });

  it("--split on a raven checkpoint is refused (it is already split)", async () => {
    const fixture = fresh("retrofit-tinyllama");
    await expect(
      exportModel({ from: fixture.dir, out: join(work, "split-out"), split: [1, 1, 1] }),
    ).rejects.toThrow(/already split .*drop --split/);
  });
});

describe("stop and start ids of raven checkpoints", () => {
  it("come from the tokenizer's special tokens; Huginn's configured ids are dropped and logged", async () => {
    const fixture = fresh("retrofit-tinyllama");
    const notes: string[] = [];
    const manifest = await exportModel({
      from: fixture.dir,
      out: join(work, "ids-out"),
      onNote: (line) => notes.push(line),
    });
    expect(manifest.tokens.bos_token_id).toBe(1);
    expect(manifest.tokens.eos_token_ids).toEqual([2]);
    expect(manifest.tokens.pad_token_id).toBeNull();
    expect(notes).toContain(
      "dropped config.json bos_token_id 65504: outside the vocabulary (300 ids)",
    );
    expect(notes).toContain(
      "dropped generation_config.json eos_token_id 65508: outside the vocabulary (300 ids)",
    );
    expect(notes).toContain("rope_base 500000 ignored: retrofits rotate with rope_theta 10000");
    expect(manifest.config_default_recurrence).toBe(32);
    expect(manifest.train_recurrence).toBeNull();
  });

  it("an id inside the vocabulary that the tokenizer does not mark special is an ordinary word", async () => {
    // As 65504 is in a Llama-3 vocabulary: here id 100, a byte token of the fixture's tokenizer.
    const fixture = fresh("retrofit-llama32", {
      config: { bos_token_id: 100, eos_token_id: [100, 2] },
    });
    const notes: string[] = [];
    const manifest = await exportModel({
      from: fixture.dir,
      out: join(work, "ids-word"),
      onNote: (line) => notes.push(line),
    });
    expect(manifest.tokens.bos_token_id).toBe(1);
    expect(manifest.tokens.eos_token_ids).toEqual([2]);
    expect(notes).toContain(
      "dropped config.json bos_token_id 100: the tokenizer does not mark it special",
    );
    expect(notes).toContain(
      "dropped config.json eos_token_id 100: the tokenizer does not mark it special",
    );
  });
});
