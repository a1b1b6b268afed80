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

describe("result identity of checkpoints that quantize activations", () => {
  it("keeps each backend's samples apart: int8 kernels round differently on node and WASM", async () => {
    const submit = await makeToken("submit");
    const runner = await makeToken("runner", "i8-runner", true);
    await registerGsm8k(submit);
    const fixture = await checkpointFixture("i8", 256);
    fixture.manifest.dtype = "i8";
    fixture.manifest.quantization = {
      bits: 8,
      block_size: 32,
      scheme: "symmetric_per_column",
      linear: "DynamicQuantizeMatMul",
      embedding: "block",
    };
    const checkpoint = await registerCheckpoint(submit, fixture);
    const world = { submit, runner, runner2: runner, trusted: runner, checkpoint };
    const keysBy = async (backend: "node" | "wasm") => {
      const run = await createRun(world);
      expect(run.reused_samples).toBe(0);
      for (let held = await lease(runner); held; held = await lease(runner)) {
        const results = completions(held, () => backend).map((r) => ({ ...r, backend }));
        expect((await postResults(runner, held.lease_id, results)).status).toBe(200);
      }
      const page = await expectJson<SamplePage>(200, "GET", `/api/runs/${run.id}/samples`, {
        token: submit,
      });
      expect(page.samples).toHaveLength(12);
      return new Map(page.samples.map((s) => [s.doc_id, s.key]));
    };
    const onNode = await keysBy("node");
    // The same run again is computed again (its runner's backend is unknown when it is created),
    // and a WASM runner's samples get keys of their own.
    const onWasm = await keysBy("wasm");
    for (const [doc, key] of onNode) expect(onWasm.get(doc)).not.toBe(key);
  });
});
