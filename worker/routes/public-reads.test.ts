// The dashboard's reads in real workerd: one document across r, the doc × r correctness matrix,
// and the public facts of checkpoints with published runs (a non-recurrent baseline included).
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, expectJson } from "../testing/api.ts";
import { checkpointFixture, registerCheckpoint } from "../testing/checkpoint-fixture.ts";
import { completions, createRun, lease, postResults, setupWorld } from "../testing/world.ts";
import {
  type PublicCheckpoint,
  publicCheckpoint,
  type RunDocument,
  type RunOutcomes,
} from "./public-reads.ts";

const golds = env.TEST_GSM8K_TEST.split("\n")
  .slice(0, 6)
  .map((line) => (JSON.parse(line).answer as string).split("####").at(-1)!.trim());

describe("dashboard reads", () => {
  it("serve documents, outcomes and published checkpoints; unpublished runs stay private", async () => {
    const world = await setupWorld();
    const run = await createRun(world);
    // r = 4 answers documents 0–2 right, r = 1 only document 0.
    const answer = (r: number) => (docId: string) => {
      const index = Number(docId.split("/").at(-1));
      return index === 0 || (r === 4 && index < 3) ? golds[index] : "12345";
    };
    const first = await lease(world.trusted);
    await postResults(world.trusted, first!.lease_id, completions(first!, answer(1)));

    // While the run is going: outcomes show nulls where no result exists yet.
    const partial = await expectJson<RunOutcomes>(200, "GET", `/api/runs/${run.id}/outcomes`, {
      token: world.submit,
    });
    expect(partial.tasks[0].recurrences).toEqual([1, 4]);
    expect(partial.tasks[0].docs.map((d) => d.correct)).toEqual([
      [1, null],
      [0, null],
      [0, null],
      [null, null],
      [null, null],
      [null, null],
    ]);

    for (let held = await lease(world.trusted); held; held = await lease(world.trusted)) {
      await postResults(
        world.trusted,
        held.lease_id,
        completions(held, answer(held.shard.recurrences)),
      );
    }
    expect((await call("GET", `/api/runs/${run.id}/outcomes`)).status).toBe(404);
    expect((await call("GET", `/api/runs/${run.id}/docs/gsm8k_cot_sean/1`)).status).toBe(404);
    await expectJson(200, "POST", `/api/runs/${run.id}/publish`, { token: world.submit });

    const outcomes = await expectJson<RunOutcomes>(200, "GET", `/api/runs/${run.id}/outcomes`);
    expect(outcomes.tasks[0]).toMatchObject({
      task: "gsm8k_cot_sean",
      primary_metric: "exact_match,flexible-extract",
    });
    expect(outcomes.tasks[0].docs.map((d) => d.correct)).toEqual([
      [1, 1],
      [0, 1],
      [0, 1],
      [0, 0],
      [0, 0],
      [0, 0],
    ]);
    expect(outcomes.tasks[0].docs[1].doc_id).toBe("gsm8k/1");

    const doc = await expectJson<RunDocument>(
      200,
      "GET",
      `/api/runs/${run.id}/docs/gsm8k_cot_sean/1`,
    );
    expect(doc.prompt).toContain("Let's think step by step.");
    expect(doc.gold).toContain(`#### ${golds[1]}`);
    expect(
      doc.samples.map((s) => [s.recurrences, s.metrics["exact_match,flexible-extract"]]),
    ).toEqual([
      [1, 0],
      [4, 1],
    ]);
    expect(doc.samples[1].completion).toContain(golds[1]);
    const missing = await call("GET", `/api/runs/${run.id}/docs/gsm8k_cot_sean/99`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: "not_found" });

    // A non-recurrent checkpoint cut from the same source shares its source_id; this one is a q8
    // export, so its card carries the precision and the agreement measured at export.
    const base = await checkpointFixture("base");
    base.manifest.dtype = "q8";
    base.manifest.quantization = {
      bits: 8,
      block_size: 32,
      scheme: "asymmetric",
      embedding: "fp16",
    };
    base.manifest.fidelity = {
      reference: "fp32",
      prompts: "gsm8k test[0:32]",
      prompt_count: 32,
      continuation_tokens: 64,
      per_recurrence: [{ recurrences: 1, top1_agreement: 0.984, mean_kl: 0.0021, max_kl: 0.31 }],
    };
    base.manifest.layers.block = [];
    base.manifest.graphs.block = null;
    base.manifest.adapter = null;
    base.manifest.parameters = { ...base.manifest.parameters, block: 0, adapter: 0 };
    base.manifest.train_recurrence = null;
    const baseId = await registerCheckpoint(world.submit, base);
    const baseRun = await createRun({ ...world, checkpoint: baseId }, { recurrences: [1] });
    for (let held = await lease(world.runner); held; held = await lease(world.runner)) {
      await postResults(
        world.runner,
        held.lease_id,
        completions(held, () => "0"),
      );
    }
    await expectJson(200, "POST", `/api/runs/${baseRun.id}/publish`, { token: world.submit });

    const { checkpoints } = await expectJson<{ checkpoints: PublicCheckpoint[] }>(
      200,
      "GET",
      "/api/leaderboard/checkpoints",
    );
    expect(checkpoints).toHaveLength(2);
    const recurrent = checkpoints.find((c) => c.id === world.checkpoint)!;
    const flat = checkpoints.find((c) => c.id === baseId)!;
    expect(recurrent).toMatchObject({
      family: "llama",
      recurrent: true,
      layers: { prelude: 1, block: 3, coda: 1 },
      adapter: "random-s0",
      // The submitter's directory ("../shared/models/stories260k") is not public; its name is.
      source: { kind: "path", path: "stories260k" },
    });
    expect(recurrent.provenance).toEqual({
      flavour: "llama",
      source: "stories260k (local)",
      adapter: "random seed=0",
      train_recurrence: null,
      config_default_recurrence: null,
    });
    expect(flat).toMatchObject({ recurrent: false, layers: { block: 0 }, adapter: null });
    expect(flat.provenance.adapter).toBe("none");
    expect(recurrent).toMatchObject({ dtype: "fp32", fidelity: null });
    expect(flat.dtype).toBe("q8");
    expect(flat.fidelity).toEqual(base.manifest.fidelity);
    // Neither has fp16-compute graphs.
    expect([recurrent.f16_fidelity, flat.f16_fidelity]).toEqual([null, null]);
    expect(JSON.stringify(checkpoints)).not.toContain("../shared");
    expect(flat.source_id).toBe(recurrent.source_id);

    const doc2 = await call("GET", "/api/openapi.json");
    const paths = Object.keys(((await doc2.json()) as { paths: object }).paths);
    expect(paths).toEqual(
      expect.arrayContaining([
        "/api/runs/{id}/docs/{task}/{doc_index}",
        "/api/runs/{id}/outcomes",
        "/api/leaderboard/checkpoints",
      ]),
    );
  });

  it("names a raven checkpoint by its own flavour, repo@revision and config default r", async () => {
    const { manifest } = await checkpointFixture("raven");
    manifest.source = {
      ...manifest.source,
      kind: "hf",
      repo: "org/retrofit-llama-3.2",
      revision: "main",
      path: null,
      architecture: "RavenForCausalLM",
    };
    manifest.architecture.flavour = "retrofit-llama";
    manifest.adapter = { init: "trained", std: null, seed: null };
    manifest.config_default_recurrence = 32;
    const card = await publicCheckpoint("c".repeat(64), 1000, manifest);
    expect(card.family).toBe("retrofit-llama");
    expect(card.source).toMatchObject({ repo: "org/retrofit-llama-3.2", revision: "main" });
    expect(card.provenance).toEqual({
      flavour: "retrofit-llama",
      source: "org/retrofit-llama-3.2@main",
      adapter: "trained",
      train_recurrence: null,
      config_default_recurrence: 32,
    });
  });
});
