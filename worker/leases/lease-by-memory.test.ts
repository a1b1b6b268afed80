// Leasing by the memory a checkpoint needs (issue 17): a runner that declares its memory ceiling
// gets a shard only when the checkpoint's estimate fits; one that does not is matched by parameters.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Manifest } from "../../model/manifest.ts";
import type { Capabilities } from "../protocol.ts";
import { sha256Hex, uploadBlob } from "../testing/api.ts";
import { checkpointFixture, registerCheckpoint } from "../testing/checkpoint-fixture.ts";
import { createRun, lease, setupWorld, type World } from "../testing/world.ts";

const GiB = 2 ** 30;
// Llama-3.2-1B's published shape: hidden 2048, 32 heads, 8 KV heads of 64, MLP 8192, vocab
// 128256, tied embedding. One decoder layer holds q,o (2048²), k,v (2048×512), the MLP (3×2048×8192)
// and two norms; 16 layers + embedding + final norm = 1,235,814,400 parameters, as published.
const LAYER = 2 * 2048 * 2048 + 2 * 2048 * 512 + 3 * 2048 * 8192 + 2 * 2048;
const EMBEDDING = 128256 * 2048;
const parametersWith = (layers: number) => layers * LAYER + EMBEDDING + 2048;

/** A WASM runner of today: 4 GiB of heap, and the old 1B-parameter cap for older APIs. */
const WASM: Capabilities = {
  backends: ["wasm"],
  max_parameters: 1_000_000_000,
  max_buffer_bytes: 2 ** 31,
  max_memory_bytes: 4 * GiB,
};
/** The same runner before it declared bytes. */
const { max_memory_bytes: _, ...OLD_WASM } = WASM;
const asRunner = (capabilities: Capabilities) => ({ capabilities, runner_version: "test/1" });

/**
 * Registers a Llama-3.2-1B-shaped checkpoint with `layers` layers whose weights (external data,
 * split over the three graphs) total `weightBytes`. The weight blobs are recorded with that size
 * in the blob table only: leasing reads sizes, never the bytes.
 */
async function registerLlama(
  world: World,
  variant: string,
  dtype: Manifest["dtype"],
  layers: [number, number, number],
  weightBytes: number,
): Promise<string> {
  const { manifest, files } = await checkpointFixture(variant);
  for (const bytes of files.values()) await uploadBlob(world.submit, bytes);
  const [prelude, block, coda] = layers;
  const index = (start: number, n: number) => Array.from({ length: n }, (_, i) => start + i);
  const withData = async (graph: Manifest["graphs"]["prelude"], share: number) => {
    const sha256 = await sha256Hex(`${variant}:${graph.file}.data`);
    const bytes = Math.round(weightBytes * share);
    await env.DB.prepare(
      "INSERT INTO blobs (sha256, bytes, r2_key, created_at) VALUES (?, ?, ?, ?)",
    )
      .bind(sha256, bytes, `blobs/${sha256}`, new Date().toISOString())
      .run();
    return { ...graph, externalData: { file: `${graph.file}.data`, sha256, bytes } };
  };
  const total = parametersWith(prelude + block + coda);
  const large: Manifest = {
    ...manifest,
    dtype,
    architecture: {
      ...manifest.architecture,
      hidden_size: 2048,
      num_attention_heads: 32,
      num_key_value_heads: 8,
      head_dim: 64,
      intermediate_size: 8192,
      vocab_size: 128256,
    },
    layers: {
      prelude: index(0, prelude),
      block: index(prelude, block),
      coda: index(prelude + block, coda),
    },
    graphs: {
      // The tied embedding is stored in the prelude and again as the coda's head.
      prelude: await withData(manifest.graphs.prelude, 0.3),
      block: await withData(manifest.graphs.block!, 0.4),
      coda: await withData(manifest.graphs.coda, 0.3),
    },
    parameters: { ...manifest.parameters, embedding: EMBEDDING, head: EMBEDDING + 2048, total },
  };
  return registerCheckpoint(world.submit, { manifest: large, files: new Map() });
}

async function queued(runId: string): Promise<number> {
  const row = await env.DB.prepare(
    "SELECT count(*) AS n FROM shards WHERE run_id = ? AND state = 'queued'",
  )
    .bind(runId)
    .first<{ n: number }>();
  return row!.n;
}

/** A fresh world holding one queued shard (2 documents at r = 1) of a Llama-shaped checkpoint. */
async function queuedShard(
  variant: string,
  dtype: Manifest["dtype"],
  layers: [number, number, number],
  weightBytes: number,
) {
  const world = await setupWorld();
  const id = await registerLlama(world, variant, dtype, layers, weightBytes);
  const run = await createRun(world, { checkpoint: id, limit: 2, shard_size: 2, recurrences: [1] });
  return { world, run };
}

// 11 layers: 0.93B parameters, under the old cap; fp32 stores 4 bytes each and the tied embedding
// twice: 4.45 GiB, over a WASM heap.
const FP32_11_LAYERS: [number, number, number] = [3, 5, 3];
const FP32_11_LAYER_BYTES = (parametersWith(11) + EMBEDDING) * 4;

describe("leasing by memory", () => {
  it("leases a q4 1.2B checkpoint to a 4 GiB WASM runner, which the parameter cap never did", async () => {
    // A q4 export of this shape measured 0.99 GiB of graph files (block size 32).
    const { world, run } = await queuedShard("q4-1b", "q4", [4, 8, 4], 0.99 * GiB);
    expect(parametersWith(16)).toBe(1_235_814_400);
    expect(await lease(world.runner, asRunner(OLD_WASM))).toBeNull();
    const held = await lease(world.runner, asRunner(WASM));
    expect(held?.shard.run_id).toBe(run.id);
    expect(held?.checkpoint.manifest.dtype).toBe("q4");
  });

  it("keeps an fp32 checkpoint under 1B parameters but over 4 GiB queued for a WASM runner", async () => {
    expect(parametersWith(11)).toBeLessThan(WASM.max_parameters);
    const { world, run } = await queuedShard(
      "fp32-0.9b",
      "fp32",
      FP32_11_LAYERS,
      FP32_11_LAYER_BYTES,
    );
    expect(await lease(world.runner, asRunner(WASM))).toBeNull();
    expect(await queued(run.id)).toBe(1);
    // A node runner with the memory for it gets it.
    const node = { ...WASM, backends: ["node" as const], max_memory_bytes: 16 * GiB };
    expect((await lease(world.runner, asRunner(node)))?.shard.run_id).toBe(run.id);
  });

  it("bundles only the sibling r whose KV caches fit beside the first shard", async () => {
    const world = await setupWorld();
    const id = await registerLlama(world, "q4-1b-sweep", "q4", [4, 8, 4], 0.99 * GiB);
    const run = await createRun(world, {
      checkpoint: id,
      limit: 2,
      shard_size: 2,
      recurrences: [1, 4, 32],
    });
    // KV caches over the 2048-token working context: 8 KV heads of 64, fp32 keys and values, per
    // layer; prelude and coda once, the block once per iteration (full caches).
    const kv = (r: number) => 2 * 8 * 64 * 4 * 2048 * (4 + 4 + 8 * r);
    const first = await env.DB.prepare(
      "SELECT memory_bytes FROM shards WHERE run_id = ? AND recurrences = 1",
    )
      .bind(run.id)
      .first<{ memory_bytes: number }>();
    // The q4 weights as loaded (2× the files) and one r's working memory, about 2.6 GiB.
    expect(first!.memory_bytes / GiB).toBeCloseTo(2.6, 1);
    expect(first!.memory_bytes + kv(4)).toBeLessThanOrEqual(WASM.max_memory_bytes!);
    expect(first!.memory_bytes + kv(4) + kv(32)).toBeGreaterThan(WASM.max_memory_bytes!);

    const sweep = asRunner({ ...WASM, sweep: true });
    const held = await lease(world.runner, sweep);
    expect(held?.bundle?.map((s) => s.recurrences)).toEqual([1, 4]);
    // r = 32 stays queued, for a runner with the memory for it (here the same one, alone).
    expect(await queued(run.id)).toBe(1);
    const next = await lease(world.runner, sweep);
    expect(next?.bundle?.map((s) => s.recurrences)).toEqual([32]);
  });

  it("matches a runner that declares no bytes by parameters, as before", async () => {
    const { world, run } = await queuedShard(
      "fp32-old",
      "fp32",
      FP32_11_LAYERS,
      FP32_11_LAYER_BYTES,
    );
    const tooFew = { ...OLD_WASM, max_parameters: parametersWith(11) - 1 };
    expect(await lease(world.runner, asRunner(tooFew))).toBeNull();
    expect((await lease(world.runner, asRunner(OLD_WASM)))?.shard.run_id).toBe(run.id);
  });
});
