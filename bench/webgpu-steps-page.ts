// The page side of bench/fused.ts --webgpu: opens a fused-operator checkpoint on onnxruntime-web's
// WebGPU EP and times one-token decode steps on a long cache, decoding in place (page-owned KV
// buffers bound as past and present) or on caches that grow per step, in the same sessions.
import type { Manifest } from "../model/manifest.ts";
import { RecurrentModel } from "../runner/engine/recurrent-model.ts";
import { openPageModel } from "../runner/page/open-model.ts";
import { webGpuKvCopier } from "../runner/page/webgpu-kv.ts";

export interface StepTiming {
  prompt: number;
  steps: number;
  recurrences: number;
  batch: number;
  inPlace: boolean;
}

let models: { inPlace: RecurrentModel; growing: RecurrentModel } | null = null;

async function load(url: string, manifest: Manifest): Promise<{ decodesInPlace: boolean }> {
  const { model, ort } = await openPageModel(url, manifest, { backend: "webgpu", threads: 1 });
  const device = ort.env.webgpu.device!;
  const growing = new RecurrentModel(ort, manifest, model.sessions, model.kvType, {
    deviceKv: webGpuKvCopier(ort, device),
  });
  models = { inPlace: model, growing };
  return { decodesInPlace: model.decodesInPlace };
}

const filled = (n: number, value: (i: number) => bigint) =>
  BigInt64Array.from({ length: n }, (_, i) => value(i));

/** Milliseconds of each one-token step after a `prompt`-token prefill (not timed). */
async function stepMs(t: StepTiming): Promise<number[]> {
  if (!models) throw new Error("load() first");
  const model = t.inPlace ? models.inPlace : models.growing;
  const prefill = {
    batch: 1,
    inputIds: filled(t.prompt, (i) => BigInt(3 + ((i * 31) % 4000))),
    attentionMask: filled(t.prompt, () => 1n),
    positionIds: filled(t.prompt, (i) => BigInt(i)),
  };
  let cache = model.newCache(1, "full", t.recurrences);
  await model.step(prefill, t.recurrences, cache, 1);
  // Every row a copy of the one prefilled: the step's cost does not depend on the tokens, and a
  // long prefill of `batch` rows on a software adapter takes minutes.
  const swap = (next: typeof cache | null) => {
    if (!next) return;
    model.releaseCache(cache);
    cache = next;
  };
  if (t.batch > 1) swap(model.selectRows(cache, Array<number>(t.batch).fill(0)));
  if (t.inPlace) swap(model.reserveDecode(cache, t.prompt + t.steps));
  const times: number[] = [];
  for (let s = 0; s < t.steps; s++) {
    const total = t.prompt + s + 1;
    const started = performance.now();
    await model.step(
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
    times.push(performance.now() - started);
  }
  model.releaseCache(cache);
  return times;
}

(globalThis as unknown as { benchSteps: unknown }).benchSteps = { load, stepMs };
