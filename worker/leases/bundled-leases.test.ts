// Bundled leases (issue 17): a runner that sweeps r holds a shard and its queued siblings (same
// documents, other r) under one lease; each result goes to the shard of its r; heartbeats,
// releases and failures apply to the shards still held. In real workerd with real D1.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Lease, LeaseRequest, ResultIn, RunDetail } from "../protocol.ts";
import { call, expectJson } from "../testing/api.ts";
import { type BindingCall, countedCall } from "../testing/binding-calls.ts";
import {
  CAPABILITIES,
  completions,
  createRun,
  lease,
  postResults,
  setupWorld,
} from "../testing/world.ts";

const SWEEP: LeaseRequest = {
  ...CAPABILITIES,
  capabilities: { ...CAPABILITIES.capabilities, max_memory_bytes: 2 ** 32, sweep: true },
};

/** Every prompt of the lease at every r of its bundle. */
function bundleResults(held: Lease, rs = held.bundle!.map((s) => s.recurrences)): ResultIn[] {
  return rs.flatMap((r) =>
    completions(held, () => "18").map((result) => ({ ...result, recurrences: r })),
  );
}

async function shardStates(runId: string): Promise<Record<string, string>> {
  const { results } = await env.DB.prepare(
    "SELECT recurrences, doc_start, state FROM shards WHERE run_id = ? ORDER BY doc_start, recurrences",
  )
    .bind(runId)
    .all<{ recurrences: number; doc_start: number; state: string }>();
  return Object.fromEntries(results.map((s) => [`r${s.recurrences}@${s.doc_start}`, s.state]));
}

describe("bundled leases", () => {
  it("gives a sweeping runner every r of a document range, and an older runner one shard", async () => {
    const world = await setupWorld();
    const run = await createRun(world, { limit: 4, shard_size: 2, recurrences: [4, 1, 16] });
    const held = (await lease(world.runner, SWEEP))!;
    expect(held.shard).toMatchObject({ recurrences: 4, doc_start: 0, doc_end: 2 });
    expect(held.generation.recurrences).toBe(4);
    expect(held.bundle!.map((s) => s.recurrences)).toEqual([1, 4, 16]);
    expect(held.bundle!.map((s) => s.id)).toContain(held.shard.id);
    expect(held.prompts.map((p) => p.doc_index)).toEqual([0, 1]);
    expect(await shardStates(run.id)).toEqual({
      "r1@0": "leased",
      "r4@0": "leased",
      "r16@0": "leased",
      "r1@2": "queued",
      "r4@2": "queued",
      "r16@2": "queued",
    });

    // A runner without the capability: today's lease, one shard, no `bundle`.
    const single = (await lease(world.runner2))!;
    expect(single.bundle).toBeUndefined();
    expect(single.shard).toMatchObject({ recurrences: 4, doc_start: 2 });
    expect(Object.keys(single).sort()).toEqual(
      ["checkpoint", "deadline", "generation", "kind", "lease_id", "prompts", "shard"].sort(),
    );
    expect((await shardStates(run.id))["r1@2"]).toBe("queued");
    // Declaring `sweep: false` is the same as not declaring it.
    const noSweep = {
      ...SWEEP,
      capabilities: { ...SWEEP.capabilities, sweep: false },
    };
    const second = (await lease(world.runner2, noSweep))!;
    expect(second.bundle).toBeUndefined();
    expect(second.shard).toMatchObject({ recurrences: 1, doc_start: 2 });
  });

  it("never gives a shard to two racing runners, bundled or not", async () => {
    const world = await setupWorld();
    // 12 document ranges × 3 r = 36 shards.
    await createRun(world, { limit: 24, shard_size: 2, recurrences: [1, 2, 4] });
    const requests = [
      () => lease(world.runner, SWEEP),
      () => lease(world.runner2, SWEEP),
      () => lease(world.trusted),
    ];
    const attempts = await Promise.all(Array.from({ length: 45 }, (_, i) => requests[i % 3]()));
    const granted = attempts.filter((l): l is Lease => l !== null);
    const held = granted.flatMap((l) => l.bundle?.map((s) => s.id) ?? [l.shard.id]);
    expect(held).toHaveLength(36);
    expect(new Set(held).size).toBe(36);
    expect(granted.some((l) => (l.bundle?.length ?? 0) > 1)).toBe(true);
    const rows = await env.DB.prepare(
      "SELECT count(*) AS n, count(DISTINCT bundle) AS leases FROM shards WHERE state = 'leased'",
    ).first<{ n: number; leases: number }>();
    expect(rows).toEqual({ n: 36, leases: granted.length });
  });

  it("routes each result to the shard of its r and refuses an r the lease does not hold", async () => {
    const world = await setupWorld();
    const run = await createRun(world, { limit: 2, shard_size: 2, recurrences: [1, 4, 16] });
    // Another lease holds r = 16, so the bundle is r = 1 and 4.
    await env.DB.prepare(
      "UPDATE shards SET state = 'leased', bundle = 'elsewhere', lease_id = 'elsewhere' WHERE run_id = ? AND recurrences = 16",
    )
      .bind(run.id)
      .run();
    const held = (await lease(world.runner, SWEEP))!;
    expect(held.bundle!.map((s) => s.recurrences)).toEqual([1, 4]);

    const wrong = await postResults(world.runner, held.lease_id, bundleResults(held, [1, 16]));
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { detail: string }).detail).toMatch(
      /^results\.2\.recurrences: .*holds r = 1, r = 4/,
    );

    const results = bundleResults(held);
    const first = await postResults(world.runner, held.lease_id, [...results.slice(0, 3)]);
    expect(await first.json()).toEqual({
      accepted: 3,
      duplicates: 0,
      shard_state: "done",
      remaining: 0,
      shards: [
        { id: held.bundle![0].id, recurrences: 1, state: "done", remaining: 0 },
        { id: held.bundle![1].id, recurrences: 4, state: "leased", remaining: 1 },
      ],
    });
    const all = await postResults(world.runner, held.lease_id, results);
    expect(await all.json()).toMatchObject({
      accepted: 1,
      duplicates: 3,
      shards: [{ state: "done" }, { state: "done" }],
    });
    const samples = await env.DB.prepare(
      "SELECT recurrences, count(*) AS n FROM samples WHERE run_id = ? GROUP BY recurrences",
    )
      .bind(run.id)
      .all<{ recurrences: number; n: number }>();
    expect(samples.results).toEqual([
      { recurrences: 1, n: 2 },
      { recurrences: 4, n: 2 },
    ]);
    // Posting again to a finished bundle counts duplicates, as for one shard.
    const again = await postResults(world.runner, held.lease_id, results);
    expect(await again.json()).toMatchObject({ accepted: 0, duplicates: 4, shard_state: "done" });
  });

  it("keeps the r that finished when the lease fails, and leases the failing r alone", async () => {
    const world = await setupWorld();
    const run = await createRun(world, { limit: 2, shard_size: 2, recurrences: [1, 4, 32] });
    const held = (await lease(world.runner, SWEEP))!;
    expect(held.bundle!.map((s) => s.recurrences)).toEqual([1, 4, 32]);
    await postResults(world.runner, held.lease_id, bundleResults(held, [1, 4]));
    const failed = await expectJson(200, "POST", `/api/leases/${held.lease_id}/fail`, {
      token: world.runner,
      json: { reason: "r = 32: out of memory" },
    });
    const r32 = held.bundle!.find((s) => s.recurrences === 32)!.id;
    expect(failed).toEqual({
      shard_state: "queued",
      failures: 1,
      shards: [{ id: r32, recurrences: 32, state: "queued", failures: 1 }],
    });
    expect(await shardStates(run.id)).toEqual({
      "r1@0": "done",
      "r4@0": "done",
      "r32@0": "queued",
    });
    // A shard that failed rides in no bundle: r = 32 comes back alone.
    const again = (await lease(world.runner, SWEEP))!;
    expect(again.bundle).toEqual([{ id: r32, recurrences: 32 }]);
    const detail = await expectJson<RunDetail>(200, "GET", `/api/runs/${run.id}`, {
      token: world.submit,
    });
    expect(detail.failures.map((f) => f.recurrences)).toEqual([32]);
    expect(detail.progress.find((p) => p.recurrences === 4)?.samples_done).toBe(2);
  });

  it("extends and releases every shard still held, leaving finished ones done", async () => {
    const world = await setupWorld();
    const run = await createRun(world, { limit: 2, shard_size: 2, recurrences: [1, 4] });
    const held = (await lease(world.runner, SWEEP))!;
    await postResults(world.runner, held.lease_id, bundleResults(held, [1]));
    const before = await env.DB.prepare(
      "SELECT max(deadline) AS d FROM shards WHERE run_id = ? AND state = 'leased'",
    )
      .bind(run.id)
      .first<{ d: number }>();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await expectJson(200, "POST", `/api/leases/${held.lease_id}/heartbeat`, {
      token: world.runner,
    });
    const after = await env.DB.prepare(
      "SELECT min(deadline) AS d FROM shards WHERE run_id = ? AND state = 'leased'",
    )
      .bind(run.id)
      .first<{ d: number }>();
    expect(after!.d).toBeGreaterThan(before!.d);

    const released = await expectJson(200, "POST", `/api/leases/${held.lease_id}/release`, {
      token: world.runner,
    });
    expect(released).toMatchObject({
      shard_state: "queued",
      failures: 0,
      shards: [{ recurrences: 4, state: "queued" }],
    });
    expect(await shardStates(run.id)).toEqual({ "r1@0": "done", "r4@0": "queued" });
    const gone = await call("POST", `/api/leases/${held.lease_id}/heartbeat`, {
      token: world.runner,
    });
    expect(gone.status).toBe(409);
  });

  it("leases and posts a bundle in as many binding calls as one shard", async () => {
    const world = await setupWorld();
    await createRun(world, { limit: 4, shard_size: 4, recurrences: [1] });
    await createRun(world, { limit: 4, shard_size: 4, recurrences: [1, 2, 4, 8, 16, 32] });
    const counts = async (request: LeaseRequest) => {
      const leasing: BindingCall[] = [];
      const res = await countedCall(leasing, "POST", "/api/leases", world.runner, request);
      const held = (await res.json()) as Lease;
      const posting: BindingCall[] = [];
      const results = bundleResults(held, held.bundle?.map((s) => s.recurrences) ?? [1]);
      const posted = await countedCall(
        posting,
        "POST",
        `/api/leases/${held.lease_id}/results`,
        world.runner,
        { results },
      );
      expect(posted.status).toBe(200);
      return { shards: held.bundle?.length ?? 1, leasing: leasing.length, posting: posting.length };
    };
    const one = await counts(CAPABILITIES);
    const six = await counts(SWEEP);
    expect(one.shards).toBe(1);
    expect(six.shards).toBe(6);
    // (The first call also reads the runner's token, so a bundle may cost less, never more.)
    expect(six.leasing).toBeLessThanOrEqual(one.leasing);
    expect(six.posting).toBeLessThanOrEqual(one.posting);
  });
});
