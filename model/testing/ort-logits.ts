// Drives exported graphs through onnxruntime-node for equivalence tests against the reference.
import type { KvStrategy, RecurrentModel } from "../../runner/engine/recurrent-model.ts";

/** Logits [t, vocab] for every position, in one prefill call. */
export async function ortLogits(
  model: RecurrentModel,
  ids: readonly number[],
  recurrences: number,
): Promise<Float32Array> {
  const cache = model.newCache(1, "full", recurrences);
  const logits = await model.step(stepOf(ids, 0), recurrences, cache, 0);
  return logits.data as Float32Array;
}

/** Logits for every position: a prefill of `prefill` tokens, then one token per call. */
export async function ortLogitsStepwise(
  model: RecurrentModel,
  ids: readonly number[],
  recurrences: number,
  prefill: number,
  strategy: KvStrategy = "full",
): Promise<Float32Array> {
  const vocab = model.manifest.architecture.vocab_size;
  const out = new Float32Array(ids.length * vocab);
  const cache = model.newCache(1, strategy, recurrences);
  const first = await model.step(stepOf(ids.slice(0, prefill), 0), recurrences, cache, 0);
  out.set(first.data as Float32Array, 0);
  for (let p = prefill; p < ids.length; p++) {
    const logits = await model.step(stepOf([ids[p]], p), recurrences, cache, 1);
    out.set(logits.data as Float32Array, p * vocab);
  }
  return out;
}

/** Batch-1 step inputs for tokens starting at cache position `past`. */
function stepOf(ids: readonly number[], past: number) {
  return {
    batch: 1,
    inputIds: BigInt64Array.from(ids.map(BigInt)),
    attentionMask: new BigInt64Array(past + ids.length).fill(1n),
    positionIds: BigInt64Array.from(ids.map((_, i) => BigInt(past + i))),
  };
}

/** max |a − b| / (atol + rtol·|b|): ≤ 1 means within tolerance. */
export function toleranceRatio(a: Float32Array, b: Float32Array, atol: number, rtol = 0): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} ≠ ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++)
    worst = Math.max(worst, Math.abs(a[i] - b[i]) / (atol + rtol * Math.abs(b[i])));
  return worst;
}
