// Checks a greedy continuation against the reference forward in one pass. The reference is causal,
// so its logits at position p of prompt+generated depend only on tokens ≤ p: if every generated
// token is the argmax of the reference at the position before it, referenceGreedy would have
// produced exactly this continuation (and stopped where it stopped). Same verdict, 1/n the cost.
import { argmax, referenceLogits } from "../reference.ts";
import type { RecurrentWeights } from "../weights.ts";

export interface GreedyCheck {
  /** Index of the first generated token that differs from the reference, or -1. */
  firstMismatch: number;
  /** Reference logits at the last prompt position. */
  promptLogits: Float32Array;
}

export function checkGreedyAgainstReference(
  weights: RecurrentWeights,
  promptIds: readonly number[],
  generated: readonly number[],
  recurrences: number,
): GreedyCheck {
  const ids = [...promptIds, ...generated.slice(0, -1)];
  const vocab = weights.dims.vocabSize;
  const logits = referenceLogits(weights, ids, { recurrences });
  let firstMismatch = -1;
  for (let k = 0; k < generated.length; k++) {
    const p = promptIds.length - 1 + k;
    if (argmax(logits.subarray(p * vocab, (p + 1) * vocab)) !== generated[k]) {
      firstMismatch = k;
      break;
    }
  }
  const last = promptIds.length - 1;
  return { firstMismatch, promptLogits: logits.slice(last * vocab, (last + 1) * vocab) };
}
