// DESIGN §7 reuse across owners: a submitter reuses its own earlier samples whatever runner made
// them, but another submitter's only when a trusted runner produced them.
import { describe, expect, it } from "vitest";
import type { RunDetail } from "../protocol.ts";
import { call, expectJson, makeToken } from "../testing/api.ts";
import { completions, createRun, lease, postResults, setupWorld } from "../testing/world.ts";

const config = { limit: 2, shard_size: 2, recurrences: [1] };

/** Completes the next queued shard with `runner`; the shard must belong to `runId`. */
async function finish(runner: string, runId: string) {
  const held = (await lease(runner))!;
  expect(held.shard.run_id).toBe(runId);
  const res = await postResults(
    runner,
    held.lease_id,
    completions(held, () => "18"),
  );
  expect(res.status).toBe(200);
}

const view = (token: string, id: string) =>
  expectJson<RunDetail>(200, "GET", `/api/runs/${id}`, { token });

describe("result reuse across owners", () => {
  it("takes another owner's samples only from trusted runners", async () => {
    const world = await setupWorld();
    const other = await makeToken("submit", "other submitter");

    // Computed by an untrusted runner for the world's submitter.
    const untrusted = await createRun(world, { ...config, seed: 1 });
    await finish(world.runner, untrusted.id);
    const mine = await createRun(world, { ...config, seed: 1 });
    expect(mine).toMatchObject({ reused_samples: 2, state: "finished" });
    const theirs = await createRun({ ...world, submit: other }, { ...config, seed: 1 });
    expect(theirs).toMatchObject({ reused_samples: 0, state: "active" });
    await call("POST", `/api/runs/${theirs.id}/cancel`, { token: other });

    // Computed by a trusted runner: anyone may reuse it, and the view says where it came from.
    const trusted = await createRun(world, { ...config, seed: 2 });
    await finish(world.trusted, trusted.id);
    const reused = await createRun({ ...world, submit: other }, { ...config, seed: 2 });
    expect(reused).toMatchObject({ reused_samples: 2, state: "finished" });
    const detail = await view(other, reused.id);
    expect(detail.reused_from).toEqual([
      expect.objectContaining({ run_id: trusted.id, runner_name: "trusted-runner", samples: 2 }),
    ]);
  });
});
