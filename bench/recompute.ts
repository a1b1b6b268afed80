// Greedy generation without a KV cache: every new token is a full forward over the whole prefix
// (the cost a cache saves). Shared by bench/engine.ts and bench/scale.ts.
import type { RecurrentModel } from "../runner/engine/recurrent-model.ts";

/** Seconds to generate `newTokens` tokens after `promptIds` at r, recomputing every prefix. */
export async function timeRecompute(
  model: RecurrentModel,
  promptIds: readonly number[],
  r: number,
  newTokens: number,
): Promise<number> {
  const ids = [...promptIds];
  const started = performance.now();
  for (let step = 0; step < newTokens; step++) {
    const n = ids.length;
    const logits = await model.step(
      {
        batch: 1,
        inputIds: BigInt64Array.from(ids.map(BigInt)),
        attentionMask: new BigInt64Array(n).fill(1n),
        positionIds: BigInt64Array.from(ids.map((_, i) => BigInt(i))),
      },
      r,
      model.newCache(1, "full", r),
      1,
    );
    const row = logits.data as Float32Array;
    let best = 0;
    for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
    ids.push(best);
  }
  return (performance.now() - started) / 1000;
}
