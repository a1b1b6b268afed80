import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openNodeModel } from "../runner/engine/node-sessions.ts";
import { readCheckpoint } from "./checkpoint.ts";
import { exportModel } from "./export-model.ts";
import { klDivergence, measureFidelity } from "./fidelity.ts";
import { stories260kDir } from "./testing/stories.ts";

const work = mkdtempSync(join(tmpdir(), "evals-fidelity-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("klDivergence", () => {
  it("equals the hand-computed KL of two softmaxes, in nats", () => {
    // softmax([0, 0]) = (1/2, 1/2); softmax([0, ln 3]) = (1/4, 3/4).
    const p = Float32Array.from([0, 0]);
    const q = Float32Array.from([0, Math.log(3)]);
    const expected = 0.5 * Math.log(0.5 / 0.25) + 0.5 * Math.log(0.5 / 0.75);
    expect(klDivergence(p, q)).toBeCloseTo(expected, 6);
    expect(klDivergence(p, p)).toBe(0);
    // Shifting all logits leaves the distribution unchanged.
    expect(klDivergence(q, Float32Array.from([5, 5 + Math.log(3)]))).toBeCloseTo(0, 6);
  });
});

describe("the export-time fidelity gate", () => {
  it("q8 of stories260k: recorded in the manifest at r = 1, 4, 32, close to fp32", async () => {
    const out = join(work, "q8");
    const manifest = await exportModel({
      from: stories260kDir,
      out,
      split: [1, 3, 1],
      dtype: "q8",
      fidelity: { prompts: 2, tokens: 8 },
    });
    const { fidelity } = (await readCheckpoint(out)).manifest;
    expect(fidelity).toEqual(manifest.fidelity);
    expect(fidelity).toMatchObject({ reference: "fp32", prompt_count: 2, continuation_tokens: 8 });
    expect(fidelity?.prompts).toMatch(/^gsm8k test\[0:2\]/);
    expect(fidelity?.per_recurrence.map((row) => row.recurrences)).toEqual([1, 4, 32]);
    for (const row of fidelity!.per_recurrence) {
      expect(row.mean_kl).toBeLessThanOrEqual(row.max_kl);
      expect(Number.isFinite(row.max_kl)).toBe(true);
    }
    // At r = 1, 8-bit weights barely move the distribution (measured: 94% agreement, KL 0.005).
    expect(fidelity!.per_recurrence[0].top1_agreement).toBeGreaterThanOrEqual(0.8);
    expect(fidelity!.per_recurrence[0].mean_kl).toBeLessThan(0.05);

    // The same graphs against themselves: perfect agreement, no divergence.
    const model = await openNodeModel(await readCheckpoint(out));
    const self = await measureFidelity(model, model, [[1, 40, 50, 60]], {
      tokens: 4,
      recurrences: [2],
      promptSource: "fixed",
    });
    expect(self.per_recurrence).toEqual([
      { recurrences: 2, top1_agreement: 1, mean_kl: 0, max_kl: 0 },
    ]);
  });

  it("fp16: both graph sets measured, fp32-compute and fp16-compute (variants.webgpu_f16)", async () => {
    const manifest = await exportModel({
      from: stories260kDir,
      out: join(work, "fp16"),
      split: [1, 3, 1],
      dtype: "fp16",
      fidelity: { prompts: 1, tokens: 8 },
    });
    const variant = manifest.variants?.webgpu_f16?.fidelity;
    expect(manifest.fidelity?.per_recurrence.map((row) => row.recurrences)).toEqual([1, 4, 32]);
    expect(variant?.per_recurrence.map((row) => row.recurrences)).toEqual([1, 4, 32]);
    expect(variant).toMatchObject({ reference: "fp32", prompt_count: 1, continuation_tokens: 8 });
    // Half-precision compute moves the distribution, fp16 storage alone barely: the two differ.
    const [weightsOnly, compute] = [manifest.fidelity!, variant!].map((f) => f.per_recurrence[0]);
    expect(compute.mean_kl).toBeGreaterThan(weightsOnly.mean_kl);
    expect(compute.top1_agreement).toBeGreaterThanOrEqual(0.75);
    expect(compute.mean_kl).toBeLessThan(0.05);
  });

  it("is not run for fp32 or with 0 prompts, and refuses a bad token count before exporting", async () => {
    const fp32 = await exportModel({
      from: stories260kDir,
      out: join(work, "fp32"),
      fidelity: { prompts: 2, tokens: 8 },
    });
    expect(fp32.fidelity).toBeNull();
    const skipped = await exportModel({
      from: stories260kDir,
      out: join(work, "q4-skip"),
      dtype: "q4",
      fidelity: { prompts: 0, tokens: 8 },
    });
    expect(skipped.fidelity).toBeNull();
    await expect(
      exportModel({
        from: stories260kDir,
        out: join(work, "bad"),
        dtype: "q4",
        fidelity: { prompts: 2, tokens: 0 },
      }),
    ).rejects.toThrow(/--fidelity-tokens 0/);
  });
});
