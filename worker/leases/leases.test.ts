// Leasing under contention and failure, in real workerd with real D1.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Lease, RunDetail } from "../protocol.ts";
import { call, expectJson } from "../testing/api.ts";
import {
  CAPABILITIES,
  completions,
  createRun,
  lease,
  postResults,
  setupWorld,
} from "../testing/world.ts";

/** Moves a lease's deadline into the past, as if its runner went silent. */
async function expire(leaseId: string) {
  await env.DB.prepare("UPDATE shards SET deadline = ? WHERE lease_id = ?")
    .bind(Date.now() - 1, leaseId)
    .run();
}

const right = () => "18";

describe("leases", () => {
  it("never gives one shard to two racing runners", async () => {
    const world = await setupWorld();
    await createRun(world, { limit: 24, shard_size: 2, recurrences: [1, 2] }); // 24 shards
    const runners = [world.runner, world.runner2];
    const attempts = await Promise.all(Array.from({ length: 40 }, (_, i) => lease(runners[i % 2])));
    const granted = attempts.filter((l): l is Lease => l !== null);
    expect(granted).toHaveLength(24);
    expect(new Set(granted.map((l) => l.shard.id)).size).toBe(24);
    const { results } = await env.DB.prepare(
      "SELECT count(*) AS n, count(DISTINCT holder) AS holders FROM shards WHERE state = 'leased'",
    ).all<{ n: number; holders: number }>();
    expect(results[0]).toEqual({ n: 24, holders: 2 });
  });

  it("re-leases an expired shard and refuses the late runner", async () => {
    const world = await setupWorld();
    await createRun(world, { limit: 3, shard_size: 3, recurrences: [1] });
    const first = (await lease(world.runner))!;
    expect(await lease(world.runner2)).toBeNull();
    await expire(first.lease_id);
    const second = (await lease(world.runner2))!;
    expect(second.shard.id).toBe(first.shard.id);

    const late = await postResults(world.runner, first.lease_id, completions(first, right));
    expect(late.status).toBe(409);
    expect(await late.json()).toMatchObject({ error: "lease_not_held" });
    const beat = await call("POST", `/api/leases/${first.lease_id}/heartbeat`, {
      token: world.runner,
    });
    expect(beat.status).toBe(409);

    const ok = await postResults(world.runner2, second.lease_id, completions(second, right));
    expect(await ok.json()).toMatchObject({ accepted: 3, shard_state: "done" });
    const run = await expectJson<RunDetail>(200, "GET", `/api/runs/${second.shard.run_id}`, {
      token: world.submit,
    });
    expect(run.failures[0].reasons[0].reason).toMatch(/expired without results/);
    expect(run.state).toBe("finished");
  });

  it("counts results posted twice once, also within one post", async () => {
    const world = await setupWorld();
    await createRun(world, { limit: 4, shard_size: 4, recurrences: [1] });
    const held = (await lease(world.runner))!;
    const results = completions(held, right);
    const partial = await postResults(world.runner, held.lease_id, [
      results[0],
      results[0],
      results[1],
    ]);
    expect(await partial.json()).toEqual({
      accepted: 2,
      duplicates: 1,
      shard_state: "leased",
      remaining: 2,
      shards: [{ id: held.shard.id, recurrences: 1, state: "leased", remaining: 2 }],
    });
    const all = await postResults(world.runner, held.lease_id, results);
    expect(await all.json()).toEqual({
      accepted: 2,
      duplicates: 2,
      shard_state: "done",
      remaining: 0,
      shards: [{ id: held.shard.id, recurrences: 1, state: "done", remaining: 0 }],
    });
    const again = await postResults(world.runner, held.lease_id, results);
    expect(await again.json()).toEqual({
      accepted: 0,
      duplicates: 4,
      shard_state: "done",
      remaining: 0,
      shards: [{ id: held.shard.id, recurrences: 1, state: "done", remaining: 0 }],
    });
    const { results: rows } = await env.DB.prepare("SELECT count(*) AS n FROM samples").all<{
      n: number;
    }>();
    expect(rows[0].n).toBe(4);
  });

  it("re-leases only the documents that still lack results", async () => {
    const world = await setupWorld();
    await createRun(world, { limit: 4, shard_size: 4, recurrences: [1] });
    const first = (await lease(world.runner))!;
    await postResults(world.runner, first.lease_id, completions(first, right).slice(0, 3));
    await expire(first.lease_id);
    const second = (await lease(world.runner2))!;
    expect(second.prompts.map((p) => p.doc_index)).toEqual([3]);
  });

  it("fails a shard after three failure reports, with every reason visible", async () => {
    const world = await setupWorld();
    const run = await createRun(world, { limit: 2, shard_size: 2, recurrences: [1] });
    for (const attempt of [1, 2, 3]) {
      const held = (await lease(world.runner))!;
      const failed = await expectJson(200, "POST", `/api/leases/${held.lease_id}/fail`, {
        token: world.runner,
        json: { reason: `webgpu device lost (attempt ${attempt})` },
      });
      expect(failed).toMatchObject({
        shard_state: attempt < 3 ? "queued" : "failed",
        failures: attempt,
      });
    }
    expect(await lease(world.runner)).toBeNull();
    const detail = await expectJson<RunDetail>(200, "GET", `/api/runs/${run.id}`, {
      token: world.submit,
    });
    // Never `finished` with results missing: the run says what it lacks and why.
    expect(detail.state).toBe("incomplete");
    expect(detail.failures[0]).toMatchObject({ state: "failed" });
    expect(detail.failures[0].reasons.map((r) => [r.kind, r.reason])).toEqual([
      ["threw", "webgpu device lost (attempt 1)"],
      ["threw", "webgpu device lost (attempt 2)"],
      ["threw", "webgpu device lost (attempt 3)"],
    ]);
    expect(detail.missing).toEqual([
      {
        task: "gsm8k_cot_sean",
        recurrences: 1,
        doc_indices: [0, 1],
        why: expect.stringMatching(/3 failure\(s\) and 0 expired.*attempt 3/),
      },
    ]);
    const publish = await call("POST", `/api/runs/${run.id}/publish`, { token: world.submit });
    expect(publish.status).toBe(409);

    // A retry puts the shard back with a fresh budget; finishing it makes the run `finished`.
    const retried = await expectJson<RunDetail>(200, "POST", `/api/runs/${run.id}/retry`, {
      token: world.submit,
    });
    expect(retried.state).toBe("active");
    expect(retried.progress[0].shards).toMatchObject({ queued: 1, failed: 0 });
    const held = (await lease(world.runner))!;
    await postResults(world.runner, held.lease_id, completions(held, right));
    const done = await expectJson<RunDetail>(200, "GET", `/api/runs/${run.id}`, {
      token: world.submit,
    });
    expect(done.state).toBe("finished");
    expect(done.missing).toEqual([]);
    const again = await call("POST", `/api/runs/${run.id}/retry`, { token: world.submit });
    expect(again.status).toBe(409);
  });

  it("counts an expired lease apart from failures, with its own larger budget", async () => {
    const world = await setupWorld();
    const run = await createRun(world, { limit: 2, shard_size: 2, recurrences: [1] });
    // Three expiries would have failed the shard when they counted as failures (budget 3).
    for (let i = 0; i < 9; i++) {
      const held = (await lease(world.runner))!;
      await expire(held.lease_id);
    }
    const last = (await lease(world.runner))!;
    const { results } = await env.DB.prepare(
      "SELECT failures, expiries, state FROM shards WHERE id = ?",
    )
      .bind(last.shard.id)
      .all();
    expect(results[0]).toEqual({ failures: 0, expiries: 9, state: "leased" });
    await expire(last.lease_id);
    expect(await lease(world.runner)).toBeNull();
    const detail = await expectJson<RunDetail>(200, "GET", `/api/runs/${run.id}`, {
      token: world.submit,
    });
    expect(detail.state).toBe("incomplete");
    expect(detail.failures[0].reasons).toHaveLength(10);
    expect(detail.failures[0].reasons.every((r) => r.kind === "vanished")).toBe(true);
    expect(detail.missing).toEqual([
      expect.objectContaining({
        doc_indices: [0, 1],
        why: expect.stringMatching(/0 failure\(s\) and 10 expired lease\(s\).*runner vanished/),
      }),
    ]);
  });

  it("keeps a lapsed lease its runner's until the shard is leased again", async () => {
    const world = await setupWorld();
    await createRun(world, { limit: 2, shard_size: 2, recurrences: [1] });
    const held = (await lease(world.runner))!;
    // The API was away longer than the lease (a restart): nobody took the shard meanwhile.
    await expire(held.lease_id);
    await expectJson(200, "POST", `/api/leases/${held.lease_id}/heartbeat`, {
      token: world.runner,
    });
    await expire(held.lease_id);
    const res = await postResults(world.runner, held.lease_id, completions(held, right));
    expect(await res.json()).toMatchObject({ accepted: 2, shard_state: "done" });
    const { results } = await env.DB.prepare("SELECT failures, expiries FROM shards").all();
    expect(results).toEqual([{ failures: 0, expiries: 0 }]);
  });

  it("takes a released shard back without counting a failure", async () => {
    const world = await setupWorld();
    await createRun(world, { limit: 2, shard_size: 2, recurrences: [1] });
    const held = (await lease(world.runner))!;
    await postResults(world.runner, held.lease_id, completions(held, right).slice(0, 1));
    const released = await expectJson(200, "POST", `/api/leases/${held.lease_id}/release`, {
      token: world.runner,
    });
    expect(released).toMatchObject({ shard_state: "queued", failures: 0 });
    const again = await call("POST", `/api/leases/${held.lease_id}/release`, {
      token: world.runner,
    });
    expect(again.status).toBe(409);
    const next = (await lease(world.runner2))!;
    expect(next.shard.id).toBe(held.shard.id);
    expect(next.prompts).toHaveLength(1);
  });

  it("hands out only shards the runner's device can hold", async () => {
    const world = await setupWorld();
    await createRun(world, { limit: 2, shard_size: 2, recurrences: [1] });
    const small = { ...CAPABILITIES.capabilities, max_parameters: 1000 };
    expect(await lease(world.runner, { ...CAPABILITIES, capabilities: small })).toBeNull();
    const tinyBuffers = { ...CAPABILITIES.capabilities, max_buffer_bytes: 1024 };
    expect(await lease(world.runner, { ...CAPABILITIES, capabilities: tinyBuffers })).toBeNull();
    expect(await lease(world.runner)).not.toBeNull();
  });

  it("refuses a result computed by graphs the checkpoint does not have", async () => {
    const world = await setupWorld();
    await createRun(world, { limit: 2, shard_size: 2, recurrences: [1] });
    const held = (await lease(world.runner))!;
    const results = completions(held, right).map((r) => ({
      ...r,
      graph_variant: "webgpu_f16" as const,
    }));
    const res = await postResults(world.runner, held.lease_id, results);
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toMatch(
      /results\.0\.graph_variant: the checkpoint has no webgpu_f16 graphs/,
    );
    const ok = await postResults(world.runner, held.lease_id, completions(held, right));
    expect(await ok.json()).toMatchObject({ accepted: 2, shard_state: "done" });
  });

  it("refuses results after the run was cancelled", async () => {
    const world = await setupWorld();
    const run = await createRun(world, { limit: 2, shard_size: 2, recurrences: [1] });
    const held = (await lease(world.runner))!;
    await expectJson(200, "POST", `/api/runs/${run.id}/cancel`, { token: world.submit });
    const res = await postResults(world.runner, held.lease_id, completions(held, right));
    expect(res.status).toBe(409);
    expect(await lease(world.runner)).toBeNull();
  });

  it("lets only the holder post, heartbeat or fail", async () => {
    const world = await setupWorld();
    await createRun(world, { limit: 2, shard_size: 2, recurrences: [1] });
    const held = (await lease(world.runner))!;
    const other = await postResults(world.runner2, held.lease_id, completions(held, right));
    expect(other.status).toBe(409);
    for (const verb of ["heartbeat", "fail", "release"]) {
      const res = await call("POST", `/api/leases/${held.lease_id}/${verb}`, {
        token: world.runner2,
        json: { reason: "not mine" },
      });
      expect(res.status).toBe(409);
    }
    const unknown = await call("POST", "/api/leases/lease_nope/heartbeat", { token: world.runner });
    expect(unknown.status).toBe(404);
  });
});
