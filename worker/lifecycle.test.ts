// The whole path in real workerd (D1, R2): upload → run → leases → results → aggregates →
// export → publish → leaderboard → a second run that reuses every result.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { flopsForSample } from "../model/flops.ts";
import type { Leaderboard, RunDetail, SamplePage } from "./protocol.ts";
import { call, expectJson } from "./testing/api.ts";
import { checkpointFixture } from "./testing/checkpoint-fixture.ts";
import { completions, createRun, lease, postResults, setupWorld } from "./testing/world.ts";

const golds = env.TEST_GSM8K_TEST.split("\n")
  .slice(0, 6)
  .map((line) => (JSON.parse(line).answer as string).split("####").at(-1)!.trim());

describe("run lifecycle", () => {
  it("runs, scores, aggregates, publishes and reuses results", async () => {
    const world = await setupWorld();
    const run = await createRun(world);
    expect(run.state).toBe("active");
    expect(run.tasks).toEqual([
      expect.objectContaining({ task: "gsm8k_cot_sean", num_fewshot: 1, doc_count: 6 }),
    ]);
    expect(run.progress.map((p) => [p.recurrences, p.shards.queued, p.samples_total])).toEqual([
      [1, 2, 6],
      [4, 2, 6],
    ]);

    // r = 4 answers everything right; r = 1 only the first document.
    const answer = (r: number) => (docId: string) => {
      const index = Number(docId.split("/").at(-1));
      return r === 4 || index === 0 ? golds[index] : "12345";
    };
    let leases = 0;
    for (let held = await lease(world.trusted); held; held = await lease(world.trusted)) {
      leases++;
      expect(held.prompts).toHaveLength(3);
      expect(held.prompts[0].prompt).toContain("Let's think step by step.");
      expect(held.generation).toMatchObject({
        until: ["Q:", "</s>", "<|im_end|>"],
        max_new_tokens: 256,
      });
      expect(held.checkpoint.files.map((f) => f.name)).toContain("block.onnx");
      await expectJson(200, "POST", `/api/leases/${held.lease_id}/heartbeat`, {
        token: world.trusted,
      });
      const res = await postResults(
        world.trusted,
        held.lease_id,
        completions(held, answer(held.shard.recurrences)),
      );
      expect(await res.json()).toEqual({
        accepted: 3,
        duplicates: 0,
        shard_state: "done",
        remaining: 0,
        shards: [
          { id: held.shard.id, recurrences: held.shard.recurrences, state: "done", remaining: 0 },
        ],
      });
    }
    expect(leases).toBe(4);

    const done = await expectJson<RunDetail>(200, "GET", `/api/runs/${run.id}`, {
      token: world.submit,
    });
    expect(done.state).toBe("finished");
    const [r1, r4] = done.aggregates;
    const metric = "exact_match,flexible-extract";
    expect(r1.metrics[metric].accuracy).toBeCloseTo(1 / 6);
    expect(r4.metrics[metric].accuracy).toBe(1);
    expect(r4.backends).toEqual(["wasm"]);
    const { manifest } = await checkpointFixture();
    const meanFlops =
      [0, 1, 2, 3, 4, 5].reduce((sum, i) => sum + flopsForSample(manifest, 4, 100 + i, 20), 0) / 6;
    expect(r4.mean_flops).toBeCloseTo(meanFlops);

    const wrong = await expectJson<SamplePage>(
      200,
      "GET",
      `/api/runs/${run.id}/samples?r=1&correct=false`,
      {
        token: world.submit,
      },
    );
    expect(wrong.samples.map((s) => s.doc_index)).toEqual([1, 2, 3, 4, 5]);
    expect(wrong.samples[0]).toMatchObject({
      backend: "wasm",
      device: "test device",
      reused: false,
    });
    const first = await expectJson<SamplePage>(200, "GET", `/api/runs/${run.id}/samples?limit=5`, {
      token: world.submit,
    });
    const rest = await expectJson<SamplePage>(
      200,
      "GET",
      `/api/runs/${run.id}/samples?limit=50&cursor=${encodeURIComponent(first.next_cursor!)}`,
      { token: world.submit },
    );
    expect(first.samples.length + rest.samples.length).toBe(12);
    expect(rest.next_cursor).toBeNull();

    const exported = await expectJson(200, "GET", `/api/runs/${run.id}/export?r=4`, {
      token: world.submit,
    });
    expect(exported.results.gsm8k_cot_sean[metric]).toBe(1);
    expect(exported.results.gsm8k_cot_sean).toHaveProperty("exact_match_stderr,flexible-extract");
    expect(exported["n-shot"]).toEqual({ gsm8k_cot_sean: 1 });

    // Unpublished runs are private; published ones and the leaderboard are public.
    expect((await call("GET", `/api/runs/${run.id}`)).status).toBe(404);
    await expectJson(200, "POST", `/api/runs/${run.id}/publish`, { token: world.submit });
    const open = await expectJson<RunDetail>(200, "GET", `/api/runs/${run.id}`);
    expect(open.verified).toBe(true);
    const board = await expectJson<Leaderboard>(200, "GET", "/api/leaderboard");
    const [entry] = board.tasks[0].entries;
    expect(entry).toMatchObject({
      run_id: run.id,
      verified: true,
      best: { recurrences: 4, accuracy: 1 },
    });
    expect(entry.by_recurrence.map((r) => r.effective_parameters)).toEqual([
      45184 + 135552 + 45184,
      45184 + 4 * 135552 + 45184,
    ]);

    // The same configuration again: every sample is reused, nothing to lease.
    const again = await createRun(world);
    expect(again.state).toBe("finished");
    expect(again.reused_samples).toBe(12);
    expect(again.aggregates).toEqual(done.aggregates);
    expect(await lease(world.runner)).toBeNull();
  });
});
