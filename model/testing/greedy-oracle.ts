// Checks a greedy continuation against the reference forward in one pass. The reference is causal,
// so its logits at position p of prompt+generated depend only on tokens ≤ p: if every generated
// token is the argmax of the reference at the position before it, referenceGreedy would have
// produced exactly this continuation. Same verdict, 1/n the cost.
//
// Near-ties: when the reference's best logit beats the generated token's by no more than the
// logit tolerance, both choices are correct within numerical precision (the recurrence amplifies
// rounding); the continuations legitimately part there, and the comparison stops at that token.
import { argmax, referenceLogits } from "../reference.ts";
import type { RecurrentWeights } from "../weights.ts";

export interface GreedyCheck {
  /** Index of the first generated token that differs from the reference beyond a tie, or -1. */
  firstMismatch: number;
  /** Index where the continuation left the reference at a near-tie, or -1. */
  tieAt: number;
  /** Reference logits at the last prompt position. */
  promptLogits: Float32Array;
}

export function checkGreedyAgainstReference(
  weights: RecurrentWeights,
  promptIds: readonly number[],
  generated: readonly number[],
  recurrences: number,
  tolerance = { atol: 2e-3, rtol: 2e-3 },
): GreedyCheck {
  const ids = [...promptIds, ...generated.slice(0, -1)];
  const vocab = weights.dims.vocabSize;
  const logits = referenceLogits(weights, ids, { recurrences });
  let firstMismatch = -1;
  let tieAt = -1;
  for (let k = 0; k < generated.length; k++) {
    const p = promptIds.length - 1 + k;
    const row = logits.subarray(p * vocab, (p + 1) * vocab);
    const best = argmax(row);
    if (best === generated[k]) continue;
    const gap = row[best] - row[generated[k]];
    if (gap <= tolerance.atol + tolerance.rtol * Math.abs(row[best])) tieAt = k;
    else firstMismatch = k;
    break;
  }
  const last = promptIds.length - 1;
  return { firstMismatch, tieAt, promptLogits: logits.slice(last * vocab, (last + 1) * vocab) };
}
