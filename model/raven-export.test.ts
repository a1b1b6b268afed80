// Every raven flavour, written as its converter writes it, exports unchanged and its ONNX graphs on
// onnxruntime-node compute the spec oracle (testing/raven-spec-forward.ts): logits within 1e-4 at
// every position for r = 1, 2, 4, 8, prefill and token by token, and the same greedy tokens with
// the full KV cache. Each spec rule, changed alone in the oracle, breaks the agreement.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateBatch } from "../runner/engine/generate.ts";
import { openNodeModel } from "../runner/engine/node-sessions.ts";
import type { RecurrentModel } from "../runner/engine/recurrent-model.ts";
import { readCheckpoint } from "./checkpoint.ts";
import { exportModel } from "./export-model.ts";
import { flopsPerToken } from "./flops.ts";
import type { Manifest } from "./manifest.ts";
import { ortLogits, ortLogitsStepwise } from "./testing/ort-logits.ts";
import {
  FIXTURE_FLAVOUR,
  maxDifference,
  RAVEN_FIXTURE_KINDS,
  type RavenFixture,
  type RavenFixtureKind,
  specCheckpointOf,
  writeRavenFixture,
} from "./testing/raven-fixture.ts";
import {
  SPEC_MUTATIONS,
  type SpecMutation,
  specRavenLogits,
} from "./testing/raven-spec-forward.ts";

const work = mkdtempSync(join(tmpdir(), "evals-raven-export-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const prompt = [1, 40, 77, 120, 5, 250, 33, 9, 18, 299, 64];
const NEW_TOKENS = 6;

/** The rules each fixture can show (a rule whose two readings agree on a fixture is not listed). */
const OBSERVABLE: Record<RavenFixtureKind, SpecMutation[]> = {
  // rope_base = rope_theta = 500000 here, so the theta source shows on TinyLlama instead.
  "retrofit-llama32": [
    "rope-scaling-ignored",
    "adapter-e-first",
    "fc-up-first",
    "norm-placement",
    "embed-scale",
  ],
  "retrofit-tinyllama": [
    "theta-from-rope_base",
    "adapter-e-first",
    "fc-up-first",
    "norm-placement",
    "embed-scale",
  ],
  "retrofit-olmo2": [
    "adapter-e-first",
    "fc-up-first",
    "qk-norm-per-head",
    "norm-placement",
    "embed-scale",
  ],
  huginn: [
    "theta-from-rope_base",
    "adapter-e-first",
    "fc-up-first",
    "norm-placement",
    "huginn-no-inner-ln_f",
    "no-qk-bias",
    "embed-scale",
    "huginn-rotate-half",
  ],
};

it("every spec rule is shown by at least one fixture", () => {
  const shown = new Set(Object.values(OBSERVABLE).flat());
  expect(SPEC_MUTATIONS.filter((m) => !shown.has(m))).toEqual([]);
});

describe.each(RAVEN_FIXTURE_KINDS)("%s exported to ONNX", (kind) => {
  let fixture: RavenFixture;
  let model: RecurrentModel;
  let manifest: Manifest;
  beforeAll(async () => {
    fixture = writeRavenFixture(join(work, `${kind}-source`), kind);
    const out = join(work, kind);
    await exportModel({ from: fixture.dir, out });
    manifest = (await readCheckpoint(out)).manifest;
    model = await openNodeModel(await readCheckpoint(out));
  });

  it("records the flavour, the trained adapter and the config's default r", () => {
    const huginn = kind === "huginn";
    expect(manifest.architecture.flavour).toBe(FIXTURE_FLAVOUR[kind]);
    expect(manifest.adapter).toEqual({ init: "trained", std: null, seed: null });
    expect(manifest.config_default_recurrence).toBe(32);
    expect(manifest.train_recurrence).toBeNull();
    expect(manifest.source.architecture).toBe("RavenForCausalLM");
    expect(manifest.architecture.tie_word_embeddings).toBe(huginn);
    expect(manifest.state_init).toEqual({
      kind: "trunc_normal",
      std: 0.008703882797784892 * (huginn ? 8 : 1),
    });
    // Every stored value is a parameter: Huginn's norm_3/norm_4 and qk_bias, OLMo-2's q/k norms.
    const stored = [...fixture.tensors]
      .filter(([name]) => name !== "freqs_cis")
      .reduce((n, [, t]) => n + t.length, 0);
    expect(manifest.parameters.total).toBe(stored);
    expect(flopsPerToken(manifest, 4, 16)).toBeGreaterThan(flopsPerToken(manifest, 1, 16));
  });

  it("logits equal the spec oracle within 1e-4 at every position, r = 1, 2, 4, 8", async () => {
    for (const r of [1, 2, 4, 8]) {
      const expected = specRavenLogits(specCheckpointOf(fixture), prompt, { recurrences: r });
      expect(maxDifference(await ortLogits(model, prompt, r), expected), `r=${r}`).toBeLessThan(
        1e-4,
      );
      const stepwise = await ortLogitsStepwise(model, prompt, r, 3);
      expect(maxDifference(stepwise, expected), `r=${r} stepwise`).toBeLessThan(1e-4);
    }
  });

  it("greedy continuations with the full KV cache are the oracle's", async () => {
    for (const r of [1, 2, 4, 8]) {
      const [result] = await generateBatch(
        model,
        [{ promptIds: prompt, seed: 0 }],
        {
          recurrences: r,
          maxNewTokens: NEW_TOKENS,
          kv: "full",
          stateInit: "zeros",
          stopIds: [],
          stopStrings: [],
        },
        () => "",
      );
      // The oracle is causal: its argmax after each prefix of prompt + generated is its greedy step.
      const sequence = [...prompt, ...result.ids];
      const logits = specRavenLogits(specCheckpointOf(fixture), sequence.slice(0, -1), {
        recurrences: r,
      });
      const oracleNext = logits
        .slice(prompt.length - 1)
        .map((row) => row.indexOf(Math.max(...row)));
      expect(result.ids, `r=${r}`).toEqual(oracleNext);
    }
  });

  it("each observable spec rule, changed alone in the oracle, no longer matches the graphs", async () => {
    const exported = await ortLogits(model, prompt, 2);
    const spec = specCheckpointOf(fixture);
    expect(maxDifference(exported, specRavenLogits(spec, prompt, { recurrences: 2 }))).toBeLessThan(
      1e-4,
    );
    for (const mutation of OBSERVABLE[kind]) {
      const mutated = specRavenLogits(spec, prompt, { recurrences: 2, mutation });
      expect(maxDifference(exported, mutated), mutation).toBeGreaterThan(1e-2);
    }
  });
});
