// DESIGN §8 datasets: registering a version never changes what a name means. A submitter who
// registers a `gsm8k` with edited gold answers changes neither the canonical version nor anyone
// else's runs; only an admin moves the canonical pointer, and runs pin the files they used.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Dataset, Leaderboard, RunDetail } from "../protocol.ts";
import { ADMIN, call, expectJson, makeToken, sha256Hex, uploadBlob } from "../testing/api.ts";
import { completions, createRun, lease, postResults, setupWorld } from "../testing/world.ts";

// GSM8K's first test document (Janet's ducks) has the gold answer 18 in the published file.
const editedTest = () => env.TEST_GSM8K_TEST.replace("#### 18", "#### 99");

async function registerEdited(token: string): Promise<Dataset> {
  return expectJson<Dataset>(201, "POST", "/api/datasets", {
    token,
    json: {
      name: "gsm8k",
      files: {
        "test.jsonl": await uploadBlob(token, editedTest()),
        "fewshot_gsm8k_cot_8shot.jsonl": await sha256Hex(env.TEST_GSM8K_COT_FEWSHOT),
      },
    },
  });
}

/** Runs one document at r = 1 to the end, the runner answering 18; returns the run's view. */
async function runFirstDoc(
  world: Awaited<ReturnType<typeof setupWorld>>,
  token: string,
  extra: Record<string, unknown> = {},
): Promise<RunDetail> {
  const run = await createRun(
    { ...world, submit: token },
    {
      limit: 1,
      shard_size: 1,
      recurrences: [1],
      seed: Math.floor(Math.random() * 1e9), // a fresh result key, so nothing is reused
      ...extra,
    },
  );
  const held = (await lease(world.runner))!;
  expect(held.shard.run_id).toBe(run.id);
  const posted = await postResults(
    world.runner,
    held.lease_id,
    completions(held, () => "18"),
  );
  expect(posted.status).toBe(200);
  return expectJson<RunDetail>(200, "GET", `/api/runs/${run.id}`, { token });
}

/** The run's accuracy on its primary metric (one task, one r). */
const accuracy = (run: RunDetail) => {
  const [aggregate] = run.aggregates;
  return aggregate.metrics[aggregate.primary_metric].accuracy;
};

const datasets = async (token: string) =>
  (await expectJson<{ datasets: Dataset[] }>(200, "GET", "/api/datasets", { token })).datasets;

describe("datasets", () => {
  it("a submitter's edited gsm8k changes neither the canonical version nor others' runs", async () => {
    const world = await setupWorld();
    const original = {
      "fewshot_gsm8k_cot_8shot.jsonl": await sha256Hex(env.TEST_GSM8K_COT_FEWSHOT),
      "test.jsonl": await sha256Hex(env.TEST_GSM8K_TEST),
    };
    const before = await runFirstDoc(world, world.submit);
    expect(before.tasks[0].dataset_files).toEqual(original);
    expect(before.tasks[0].canonical_data).toBe(true);
    expect(accuracy(before)).toBe(1);

    const attacker = await makeToken("submit", "attacker");
    const edited = await registerEdited(attacker);
    expect(edited.canonical).toBe(false);
    expect(edited.files["test.jsonl"]).toBe(await sha256Hex(editedTest()));
    const listed = await datasets(world.submit);
    expect(listed.filter((d) => d.canonical).map((d) => d.files)).toEqual([original]);

    // Another run of the honest submitter is still built from, and scored against, the original.
    const after = await runFirstDoc(world, world.submit);
    expect(after.tasks[0].dataset_files).toEqual(original);
    expect(accuracy(after)).toBe(1);
    const earlier = await expectJson<RunDetail>(200, "GET", `/api/runs/${before.id}`, {
      token: world.submit,
    });
    expect(earlier.tasks).toEqual(before.tasks);

    // The attacker may pin its own version: that run says so and is scored against gold 99.
    const pinned = await runFirstDoc(world, attacker, { datasets: { gsm8k: edited.id } });
    expect(pinned.tasks[0].dataset_id).toBe(edited.id);
    expect(pinned.tasks[0].dataset_files["test.jsonl"]).toBe(edited.files["test.jsonl"]);
    expect(pinned.tasks[0].canonical_data).toBe(false);
    expect(accuracy(pinned)).toBe(0);
    const exported = await expectJson(200, "GET", `/api/runs/${pinned.id}/export`, {
      token: attacker,
    });
    expect(exported.configs.gsm8k_cot_sean.metadata.dataset_files).toEqual(edited.files);

    // Registering the same files again is the same version (200), still not canonical.
    const again = await call("POST", "/api/datasets", {
      token: attacker,
      json: { name: "gsm8k", files: edited.files },
    });
    expect(again.status).toBe(200);
    expect(((await again.json()) as Dataset).id).toBe(edited.id);
  });

  it("only an admin moves the canonical version; the leaderboard marks runs on other data", async () => {
    const world = await setupWorld();
    const canonical = (await datasets(world.submit)).find((d) => d.canonical)!;
    const edited = await registerEdited(world.submit);
    const run = await runFirstDoc(world, world.submit);
    await expectJson(200, "POST", `/api/runs/${run.id}/publish`, { token: world.submit });
    const entry = async () =>
      (await expectJson<Leaderboard>(200, "GET", "/api/leaderboard")).tasks[0].entries[0];
    expect((await entry()).canonical_data).toBe(true);

    const path = "/api/datasets/gsm8k/canonical";
    for (const token of [world.submit, world.runner]) {
      const res = await call("PUT", path, { token, json: { dataset: edited.id } });
      expect(res.status).toBe(403);
    }
    expect((await call("PUT", path, { json: { dataset: edited.id } })).status).toBe(401);
    expect((await datasets(world.submit)).find((d) => d.canonical)!.id).toBe(canonical.id);
    // A version of another name, or none at all, is refused by id.
    const missing = await call("PUT", "/api/datasets/math/canonical", {
      token: ADMIN,
      json: { dataset: edited.id },
    });
    expect(missing.status).toBe(404);
    const bad = await call("PUT", path, { token: ADMIN, json: { dataset: "not-an-id" } });
    expect(bad.status).toBe(400);

    const moved = await expectJson<Dataset>(200, "PUT", path, {
      token: ADMIN,
      json: { dataset: edited.id },
    });
    expect(moved).toMatchObject({ id: edited.id, canonical: true });
    expect((await datasets(world.submit)).filter((d) => d.canonical).map((d) => d.id)).toEqual([
      edited.id,
    ]);
    // The published run keeps its pinned files, and is now marked as run on non-canonical data.
    const view = await expectJson<RunDetail>(200, "GET", `/api/runs/${run.id}`);
    expect(view.tasks[0].dataset_id).toBe(canonical.id);
    expect(view.tasks[0].canonical_data).toBe(false);
    expect((await entry()).canonical_data).toBe(false);
  });

  it("refuses a pinned version that is not registered under the task's dataset name", async () => {
    const world = await setupWorld();
    const res = await call("POST", "/api/runs", {
      token: world.submit,
      json: {
        checkpoint: world.checkpoint,
        tasks: ["gsm8k_cot_sean"],
        recurrences: [1],
        datasets: { gsm8k: "0".repeat(64) },
      },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { detail: string }).detail).toContain("datasets.gsm8k");
  });
});
