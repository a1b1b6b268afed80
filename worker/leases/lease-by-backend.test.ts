// Leasing by backend (issue 17): onnxruntime-web's WebGPU provider has no kernel for i8's int8
// GEMMs, so those layers run on its CPU kernels there. A WebGPU runner takes such shards only when
// nothing else it can run is queued; other runners lease in queue order, as before.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Capabilities, LeaseRequest } from "../protocol.ts";
import { call } from "../testing/api.ts";
import { checkpointFixture, registerCheckpoint } from "../testing/checkpoint-fixture.ts";
import { CAPABILITIES, createRun, lease, setupWorld, type World } from "../testing/world.ts";

const asRunner = (capabilities: Partial<Capabilities>): LeaseRequest => ({
  ...CAPABILITIES,
  capabilities: { ...CAPABILITIES.capabilities, ...capabilities },
});
const WEBGPU = asRunner({ backends: ["webgpu"] });
/** A WebGPU runner that also runs WASM pages (`--backend auto` on a hardware adapter). */
const WEBGPU_AND_WASM = asRunner({ backends: ["webgpu", "wasm"] });
const WASM = asRunner({ backends: ["wasm"] });

/** Registers an i8 checkpoint, its `quantization` as `evals export --quant i8` writes it. */
async function registerI8(world: World): Promise<string> {
  const fixture = await checkpointFixture("i8");
  fixture.manifest.dtype = "i8";
  fixture.manifest.quantization = {
    bits: 8,
    block_size: 32,
    scheme: "symmetric_per_column",
    linear: "MatMulInteger",
    embedding: "block",
  };
  return registerCheckpoint(world.submit, fixture);
}

/**
 * A world whose queue holds an i8 run's shards before an fp32 run's (the i8 run is older, so queue
 * order alone would hand out the i8 shard first). One shard per run and r.
 */
async function i8BeforeFp32(recurrences = [1]) {
  const world = await setupWorld();
  const i8 = await createRun(world, {
    checkpoint: await registerI8(world),
    limit: 2,
    shard_size: 2,
    recurrences,
  });
  const fp32 = await createRun(world, { limit: 2, shard_size: 2, recurrences });
  return { world, i8: i8.id, fp32: fp32.id };
}

/** The runs of successive leases until the queue is empty. */
async function leasedRuns(token: string, request: LeaseRequest): Promise<string[]> {
  const runs: string[] = [];
  for (let held = await lease(token, request); held; held = await lease(token, request)) {
    runs.push(held.shard.run_id);
  }
  return runs;
}

describe("leasing by backend", () => {
  it("gives a WebGPU runner the fp32 shard first and the i8 one when it is all that is left", async () => {
    const { world, i8, fp32 } = await i8BeforeFp32();
    expect(await leasedRuns(world.runner, WEBGPU)).toEqual([fp32, i8]);
  });

  it("prefers, never refuses: a WebGPU runner that also runs WASM is ordered the same way", async () => {
    const { world, i8, fp32 } = await i8BeforeFp32();
    const first = await lease(world.runner, WEBGPU_AND_WASM);
    expect(first?.shard.run_id).toBe(fp32);
    const second = await lease(world.runner, WEBGPU_AND_WASM);
    expect(second?.shard.run_id).toBe(i8);
    expect(second?.checkpoint.manifest.quantization?.linear).toBe("MatMulInteger");
  });

  it("leaves a WASM runner's queue order alone", async () => {
    const { world, i8, fp32 } = await i8BeforeFp32();
    expect(await leasedRuns(world.runner, WASM)).toEqual([i8, fp32]);
  });

  it("leaves a runner of before memory ceilings and sweeps alone, and still requires backends", async () => {
    const { world, i8, fp32 } = await i8BeforeFp32();
    // CAPABILITIES is what runners declared before `max_memory_bytes` and `sweep`.
    expect(await leasedRuns(world.runner, CAPABILITIES)).toEqual([i8, fp32]);
    const { backends: _, ...noBackends } = CAPABILITIES.capabilities;
    const res = await call("POST", "/api/leases", {
      token: world.runner,
      json: { ...CAPABILITIES, capabilities: noBackends },
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("backends");
  });

  it("takes an fp32 shard that never failed before an i8 shard that failed once", async () => {
    const { world, i8, fp32 } = await i8BeforeFp32();
    const failed = (await lease(world.runner, WASM))!;
    expect(failed.shard.run_id).toBe(i8);
    const fail = await call("POST", `/api/leases/${failed.lease_id}/fail`, {
      token: world.runner,
      json: { reason: "page crashed" },
    });
    expect(fail.status).toBe(200);
    expect(await leasedRuns(world.runner2, WEBGPU)).toEqual([fp32, i8]);
  });

  it("bundles a sweeping WebGPU runner's siblings as before, fp32 first", async () => {
    const { world, i8, fp32 } = await i8BeforeFp32([1, 4]);
    const sweep = asRunner({ backends: ["webgpu"], max_memory_bytes: 2 ** 32, sweep: true });
    const first = (await lease(world.runner, sweep))!;
    expect(first.shard.run_id).toBe(fp32);
    expect(first.bundle?.map((s) => s.recurrences)).toEqual([1, 4]);
    const second = (await lease(world.runner, sweep))!;
    expect(second.shard.run_id).toBe(i8);
    expect(second.bundle?.map((s) => s.recurrences)).toEqual([1, 4]);
    expect(await lease(world.runner, sweep)).toBeNull();
  });

  it("marks the queued shards of i8 runs created before the column existed (migration 0006)", async () => {
    const { i8, fp32 } = await i8BeforeFp32();
    await env.DB.prepare("UPDATE shards SET webgpu_cpu_ops = 0").run();
    const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith("0006_"))!;
    const backfill = migration.queries.filter((q) => q.includes("SET webgpu_cpu_ops = 1"));
    expect(backfill).toHaveLength(1);
    await env.DB.prepare(backfill[0]).run();
    const { results } = await env.DB.prepare(
      "SELECT DISTINCT run_id, webgpu_cpu_ops FROM shards ORDER BY webgpu_cpu_ops",
    ).all<{ run_id: string; webgpu_cpu_ops: number }>();
    expect(results).toEqual([
      { run_id: fp32, webgpu_cpu_ops: 0 },
      { run_id: i8, webgpu_cpu_ops: 1 },
    ]);
  });
});
