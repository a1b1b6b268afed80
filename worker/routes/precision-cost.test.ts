// The precision cost read in real workerd: an fp32 run and a q4 run of the same weights scored on
// the same GSM8K documents, paired per (task, r) with a McNemar p-value computed here by hand; a
// q4 export of other weights is never paired, and unpublished twins stay private.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, expectJson } from "../testing/api.ts";
import { checkpointFixture, registerCheckpoint } from "../testing/checkpoint-fixture.ts";
import {
  completions,
  createRun,
  lease,
  postResults,
  setupWorld,
  type World,
} from "../testing/world.ts";
import type { RunPrecisionCost } from "./precision-cost.ts";

const golds = env.TEST_GSM8K_TEST.split("\n")
  .slice(0, 6)
  .map((line) => (JSON.parse(line).answer as string).split("####").at(-1)!.trim());

/** Runs `world.checkpoint` (r = 1, 4, six documents) answering right where `right(doc, r)`. */
async function scoredRun(world: World, right: (doc: number, r: number) => boolean) {
  const run = await createRun(world);
  for (let held = await lease(world.trusted); held; held = await lease(world.trusted)) {
    const r = held.shard.recurrences;
    const answer = (docId: string) => {
      const doc = Number(docId.split("/").at(-1));
      return right(doc, r) ? golds[doc] : "12345";
    };
    await postResults(world.trusted, held.lease_id, completions(held, answer));
  }
  return run;
}

async function q4Export(
  variant: string,
  adapterSeed = 0,
): Promise<Awaited<ReturnType<typeof checkpointFixture>>> {
  const fixture = await checkpointFixture(variant);
  fixture.manifest.dtype = "q4";
  fixture.manifest.quantization = {
    bits: 4,
    block_size: 32,
    scheme: "asymmetric",
    embedding: "fp16",
  };
  fixture.manifest.adapter = { ...fixture.manifest.adapter!, seed: adapterSeed };
  return fixture;
}

describe("precision cost", () => {
  it("pairs an fp32 and a q4 run of the same weights on their shared documents", async () => {
    const world = await setupWorld();
    // fp32: r = 1 right on document 0; r = 4 right on documents 0–4.
    const fp32 = await scoredRun(world, (doc, r) => (r === 1 ? doc === 0 : doc < 5));
    const q4Id = await registerCheckpoint(world.submit, await q4Export("q4"));
    // q4: r = 1 right on documents 0 and 1; r = 4 right on none.
    const q4 = await scoredRun({ ...world, checkpoint: q4Id }, (doc, r) => r === 1 && doc < 2);
    // Another q4 export, of different weights (another adapter seed): never paired.
    const otherId = await registerCheckpoint(world.submit, await q4Export("other", 7));
    await scoredRun({ ...world, checkpoint: otherId }, () => false);

    const path = `/api/runs/${q4.id}/precision-cost`;
    const owner = await expectJson<RunPrecisionCost>(200, "GET", path, { token: world.submit });
    expect(owner).toMatchObject({ run_id: q4.id, dtype: "q4" });
    expect(owner.comparisons.map((c) => [c.run_id, c.dtype])).toEqual([[fp32.id, "fp32"]]);
    // r = 1: discordant 0 one way, 1 the other: p = 2 · 2^-1 = 1 (capped).
    // r = 4: 5 documents right only at fp32, none only at q4: p = 2 · 2^-5 = 0.0625.
    expect(owner.comparisons[0].rows).toEqual([
      {
        task: "gsm8k_cot_sean",
        recurrences: 1,
        reference: "fp32",
        lossy: "q4",
        paired: 6,
        reference_accuracy: 1 / 6,
        lossy_accuracy: 2 / 6,
        delta_points: expect.closeTo(100 / 6, 9),
        only_reference: 0,
        only_lossy: 1,
        p_value: 1,
      },
      {
        task: "gsm8k_cot_sean",
        recurrences: 4,
        reference: "fp32",
        lossy: "q4",
        paired: 6,
        reference_accuracy: 5 / 6,
        lossy_accuracy: 0,
        delta_points: expect.closeTo(-500 / 6, 9),
        only_reference: 5,
        only_lossy: 0,
        p_value: 0.0625,
      },
    ]);

    // The fp32 run sees the same pairs from its side.
    const fromFp32 = await expectJson<RunPrecisionCost>(
      200,
      "GET",
      `/api/runs/${fp32.id}/precision-cost`,
      {
        token: world.submit,
      },
    );
    expect(fromFp32.comparisons.map((c) => [c.run_id, c.dtype])).toEqual([[q4.id, "q4"]]);
    expect(fromFp32.comparisons[0].rows).toEqual(owner.comparisons[0].rows);

    // Unpublished runs are private: the public sees the q4 run once published, and its fp32 twin
    // only once that is published too.
    expect((await call("GET", path)).status).toBe(404);
    await expectJson(200, "POST", `/api/runs/${q4.id}/publish`, { token: world.submit });
    expect((await expectJson<RunPrecisionCost>(200, "GET", path)).comparisons).toEqual([]);
    await expectJson(200, "POST", `/api/runs/${fp32.id}/publish`, { token: world.submit });
    expect((await expectJson<RunPrecisionCost>(200, "GET", path)).comparisons).toHaveLength(1);
  });
});
