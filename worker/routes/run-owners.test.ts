// DESIGN §8 owners: a run belongs to the submit token that made it. Another submitter neither sees
// nor changes it; admins see all; once published it is public and read-only to everyone else.
import { describe, expect, it } from "vitest";
import type { RunSummary } from "../protocol.ts";
import { ADMIN, call, expectJson, makeToken } from "../testing/api.ts";
import { completions, createRun, lease, postResults, setupWorld } from "../testing/world.ts";

describe("run owners", () => {
  it("keeps unpublished runs to their owner and admins; published runs are read-only", async () => {
    const world = await setupWorld();
    const other = await makeToken("submit", "someone else");
    const run = await createRun(world, { limit: 2, shard_size: 2, recurrences: [1] });
    const ids = async (token: string | null) =>
      (await expectJson<{ runs: RunSummary[] }>(200, "GET", "/api/runs", { token })).runs.map(
        (r) => r.id,
      );

    expect(await ids(world.submit)).toEqual([run.id]);
    expect(await ids(ADMIN)).toEqual([run.id]);
    expect(await ids(other)).toEqual([]);
    expect(await ids(null)).toEqual([]);
    for (const [method, path] of [
      ["GET", `/api/runs/${run.id}`],
      ["GET", `/api/runs/${run.id}/samples`],
      ["GET", `/api/runs/${run.id}/export`],
      ["POST", `/api/runs/${run.id}/cancel`],
      ["POST", `/api/runs/${run.id}/publish`],
      ["POST", `/api/runs/${run.id}/retry`],
    ]) {
      expect({ method, path, status: (await call(method, path, { token: other })).status }).toEqual(
        { method, path, status: 404 },
      );
    }
    await expectJson(200, "GET", `/api/runs/${run.id}`, { token: ADMIN });

    const held = (await lease(world.runner))!;
    await postResults(
      world.runner,
      held.lease_id,
      completions(held, () => "18"),
    );
    await expectJson(200, "POST", `/api/runs/${run.id}/publish`, { token: world.submit });
    expect(await ids(other)).toEqual([run.id]);
    expect(await ids(null)).toEqual([run.id]);
    await expectJson(200, "GET", `/api/runs/${run.id}`, { token: other });
    for (const verb of ["cancel", "publish", "retry"]) {
      const res = await call("POST", `/api/runs/${run.id}/${verb}`, { token: other });
      expect({ verb, status: res.status }).toEqual({ verb, status: 403 });
    }
  });

  it("refuses a repeated task name or recurrence value with 400", async () => {
    const world = await setupWorld();
    for (const [field, json] of [
      ["tasks", { tasks: ["gsm8k_cot_sean", "gsm8k_cot_sean"], recurrences: [1] }],
      ["recurrences", { tasks: ["gsm8k_cot_sean"], recurrences: [1, 4, 1] }],
    ] as const) {
      const res = await call("POST", "/api/runs", {
        token: world.submit,
        json: { checkpoint: world.checkpoint, limit: 2, ...json },
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { detail: string }).detail).toContain(field);
    }
  });
});
