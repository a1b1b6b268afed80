// The assertion every backend test makes: greedy continuations equal the reference forward's
// (near-ties aside, and rarely), and the top-5 logits at the last prompt position agree within 2e-3.
import { expect } from "vitest";
import type { RecurrentWeights } from "../weights.ts";
import { checkGreedyAgainstReference } from "./greedy-oracle.ts";

export interface GeneratedCase {
  label: string;
  promptIds: readonly number[];
  ids: readonly number[];
  top5: readonly (readonly [number, number])[];
}

export function expectGreedyMatchesReference(
  weights: RecurrentWeights,
  cases: readonly GeneratedCase[],
  recurrences: number,
  newTokens: number,
): void {
  let ties = 0;
  for (const generated of cases) {
    expect(generated.ids).toHaveLength(newTokens);
    const check = checkGreedyAgainstReference(
      weights,
      generated.promptIds,
      generated.ids,
      recurrences,
    );
    expect(check.firstMismatch, generated.label).toBe(-1);
    if (check.tieAt >= 0) ties++;
    for (const [id, logit] of generated.top5) {
      expect(Math.abs(logit - check.promptLogits[id]), generated.label).toBeLessThanOrEqual(
        2e-3 + 2e-3 * Math.abs(logit),
      );
    }
  }
  // A continuation may leave the reference only at a near-tie (greedy-oracle.ts), and rarely.
  expect(ties).toBeLessThanOrEqual(2);
}
