// DESIGN §7 in workerd: two checkpoints whose only difference is the block's external weights
// (`block.onnx.data`) never share a sample, and a reused sample names the run and runner it came from.
import { describe, expect, it } from "vitest";
import type { RunDetail, SamplePage } from "../protocol.ts";
import { expectJson, makeToken } from "../testing/api.ts";
import { checkpointFixture, registerCheckpoint } from "../testing/checkpoint-fixture.ts";
import { completions, createRun, lease, postResults, registerGsm8k } from "../testing/world.ts";

async function runAll(runner: string, text: string): Promise<number> {
  let posted = 0;
  for (let held = await lease(runner); held; held = await lease(runner)) {
    const res = await postResults(
      runner,
      held.lease_id,
      completions(held, () => text),
    );
    expect(res.status).toBe(200);
    posted += held.prompts.length;
  }
  return posted;
}

describe("result identity", () => {
  it("keeps checkpoints that differ only in block.onnx.data apart", async () => {
    const submit = await makeToken("submit");
    const runner = await makeToken("runner", "trusted-runner", true);
    await registerGsm8k(submit);
    const a = await registerCheckpoint(submit, await checkpointFixture("same", 256, "weights A"));
    const b = await registerCheckpoint(submit, await checkpointFixture("same", 256, "weights B"));
    expect(a).not.toBe(b);
    const world = { submit, runner, runner2: runner, trusted: runner, checkpoint: a };

    const runA = await createRun(world);
    expect(await runAll(runner, "A")).toBe(12);
    const runB = await createRun({ ...world, checkpoint: b });
    expect(runB.reused_samples).toBe(0);
    expect(runB.state).toBe("active");
    expect(await runAll(runner, "B")).toBe(12);

    const samplesB = await expectJson<SamplePage>(200, "GET", `/api/runs/${runB.id}/samples`, {
      token: submit,
    });
    expect(samplesB.samples).toHaveLength(12);
    for (const sample of samplesB.samples) {
      expect(sample.reused).toBe(false);
      expect(sample.reused_from).toBeNull();
      expect(sample.completion).toContain("The answer is B.");
    }

    // The same configuration on A again is taken whole from the first run on A, and says so.
    const again = await createRun(world);
    expect(again.state).toBe("finished");
    expect(again.reused_samples).toBe(12);
    expect(again.reused_from).toEqual([
      { run_id: runA.id, runner: expect.any(String), runner_name: "trusted-runner", samples: 12 },
    ]);
    const samples = await expectJson<SamplePage>(200, "GET", `/api/runs/${again.id}/samples`, {
      token: submit,
    });
    for (const sample of samples.samples) {
      expect(sample.reused_from).toMatchObject({ run_id: runA.id });
      expect(sample.completion).toContain("The answer is A.");
    }
    const keysA = new Set(samples.samples.map((s) => s.key));
    expect(samplesB.samples.filter((s) => keysA.has(s.key))).toEqual([]);
    const detail = await expectJson<RunDetail>(200, "GET", `/api/runs/${runB.id}`, {
      token: submit,
    });
    expect(detail.reused_from).toEqual([]);
  });
});
