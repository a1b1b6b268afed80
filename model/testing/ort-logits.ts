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

/**
 * Logits of a left-padded batch, as the engine batches prompts: one prefill of every row (padding
 * masked, positions from each row's first token), then `decodeSteps` single-token steps. Returns
 * every step's logits ([batch, longest, vocab], then [batch, 1, vocab] per step).
 */
export async function paddedBatchLogits(
  model: RecurrentModel,
  rows: readonly (readonly number[])[],
  recurrences: number,
  decodeSteps: number,
): Promise<Float32Array[]> {
  const batch = rows.length;
  const longest = Math.max(...rows.map((row) => row.length));
  const vocab = model.manifest.architecture.vocab_size;
  const inputIds = new BigInt64Array(batch * longest);
  const positionIds = new BigInt64Array(batch * longest);
  const mask: bigint[][] = rows.map((row) => [
    ...new Array<bigint>(longest - row.length).fill(0n),
    ...row.map(() => 1n),
  ]);
  rows.forEach((row, b) => {
    const pad = longest - row.length;
    row.forEach((id, k) => {
      inputIds[b * longest + pad + k] = BigInt(id);
      positionIds[b * longest + pad + k] = BigInt(k);
    });
  });
  const cache = model.newCache(batch, "full", recurrences);
  const step = async (ids: BigInt64Array, positions: BigInt64Array, keep: number) => {
    const attentionMask = BigInt64Array.from(mask.flat());
    const logits = await model.step(
      { batch, inputIds: ids, attentionMask, positionIds: positions },
      recurrences,
      cache,
      keep,
    );
    return Float32Array.from(logits.data as Float32Array);
  };
  const out = [await step(inputIds, positionIds, 0)];
  for (let s = 0; s < decodeSteps; s++) {
    for (const row of mask) row.push(1n);
    const next = BigInt64Array.from(rows.map((_, b) => BigInt((7 * b + 3 * s + 1) % vocab)));
    out.push(await step(next, BigInt64Array.from(rows.map((row) => BigInt(row.length + s))), 1));
  }
  return out;
}

/** The share of positions where two [t, vocab] logit arrays pick the same next token. */
export function top1Agreement(a: Float32Array, b: Float32Array, vocab: number): number {
  const argmax = (x: Float32Array, at: number) => {
    let best = at;
    for (let i = at; i < at + vocab; i++) if (x[i] > x[best]) best = i;
    return best - at;
  };
  let same = 0;
  for (let at = 0; at < a.length; at += vocab) same += argmax(a, at) === argmax(b, at) ? 1 : 0;
  return same / (a.length / vocab);
}

/** The largest absolute difference between two arrays of the same length. */
export function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}
