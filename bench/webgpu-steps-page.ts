// The page side of bench/fused.ts --webgpu: opens a fused-operator checkpoint on onnxruntime-web's
// WebGPU EP and times one-token decode steps on a long cache, decoding in place (page-owned KV
// buffers bound as past and present) or on caches that grow per step, in the same sessions.
import type { Manifest } from "../model/manifest.ts";
import { KvCache, RecurrentModel } from "../runner/engine/recurrent-model.ts";
import { openPageModel, type PageOrt } from "../runner/page/open-model.ts";
import { webGpuKvCopier } from "../runner/page/webgpu-kv.ts";

export interface StepTiming {
  prompt: number;
  steps: number;
  recurrences: number;
  batch: number;
  inPlace: boolean;
}

let models: { inPlace: RecurrentModel; growing: RecurrentModel } | null = null;
let ort: PageOrt | null = null;

async function load(url: string, manifest: Manifest): Promise<{ decodesInPlace: boolean }> {
  const opened = await openPageModel(url, manifest, { backend: "webgpu", threads: 1 });
  const { model } = opened;
  ort = opened.ort;
  const device = ort.env.webgpu.device!;
  const growing = new RecurrentModel(ort, manifest, model.sessions, model.kvType, {
    deviceKv: webGpuKvCopier(ort, device),
  });
  models = { inPlace: model, growing };
  return { decodesInPlace: model.decodesInPlace };
}

const filled = (n: number, value: (i: number) => bigint) =>
  BigInt64Array.from({ length: n }, (_, i) => value(i));

/**
 * Milliseconds of each one-token step on a cache of `prompt` positions. The cache is zeros, moved
 * to the GPU by one untimed step: a step's cost does not depend on the values, and a prefill of
 * hundreds of tokens on a software adapter takes many minutes.
 */
async function stepMs(t: StepTiming): Promise<number[]> {
  if (!models) throw new Error("load() first");
  const model = t.inPlace ? models.inPlace : models.growing;
  const { num_key_value_heads: heads, head_dim: headDim } = model.manifest.architecture;
  const zeros = () =>
    new ort!.Tensor("float32", new Float32Array(t.batch * heads * t.prompt * headDim), [
      t.batch,
      heads,
      t.prompt,
      headDim,
    ]);
  const empty = model.newCache(t.batch, "full", t.recurrences);
  const layers = (list: { key: unknown }[]) => list.map(() => ({ key: zeros(), value: zeros() }));
  let cache = new KvCache(
    "full",
    layers(empty.prelude),
    empty.block.map(layers),
    layers(empty.coda),
  );
  cache.length = t.prompt;
  const step = async (total: number) =>
    model.step(
      {
        batch: t.batch,
        inputIds: filled(t.batch, (b) => BigInt(5 + b)),
        attentionMask: filled(t.batch * total, () => 1n),
        positionIds: filled(t.batch, () => BigInt(total - 1)),
      },
      t.recurrences,
      cache,
      1,
    );
  // A cache without capacity grows: this step's presents are GPU tensors (copied into the
  // reserve below for in place).
  await step(t.prompt + 1);
  if (t.inPlace) {
    const reserved = model.reserveDecode(cache, t.prompt + 1 + t.steps);
    if (!reserved) throw new Error("the cache could not be reserved for decoding in place");
    model.releaseCache(cache);
    cache = reserved;
  }
  const times: number[] = [];
  for (let s = 0; s < t.steps; s++) {
    const started = performance.now();
    await step(t.prompt + s + 2);
    times.push(performance.now() - started);
  }
  model.releaseCache(cache);
  return times;
}

(globalThis as unknown as { benchSteps: unknown }).benchSteps = { load, stepMs };
