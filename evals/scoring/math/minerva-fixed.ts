// Our corrected minerva_math exact_match, reported as "exact_match,fixed" beside lm-eval's. Same
// "Final Answer" extraction; normalisation without the deletions that break LaTeX (see
// normalizeFinalAnswer's `fixed`); equivalence through math_verify's comparison, so tuples,
// intervals, sets, matrices and percentages can match instead of always scoring 0.
import { computeEngine } from "./compute-engine.ts";
import { expressionEqual } from "./math-verify/compare.ts";
import { bareListAsSet } from "./math-verify/index.ts";
import { INVALID_ANSWER } from "./minerva-normalize.ts";

/**
 * Whether two answers normalised with `{ fixed: true }` are the same answer.
 *
 * @example isEquivFixed("(2,5)", "(2,5)") // true (lm-eval's is_equiv says false)
 */
export function isEquivFixed(answer: string, gold: string): boolean {
  if (answer === INVALID_ANSWER || answer.trim() === "") return false;
  if (answer === gold) return true;
  const ce = computeEngine();
  // "1, -2" lists solutions: any order matches, as in math_verify.
  const a = bareListAsSet(ce.parse(answer), answer);
  const g = bareListAsSet(ce.parse(gold), gold);
  if (!a.isValid || !g.isValid) return false;
  try {
    return expressionEqual(g, a);
  } catch {
    return false;
  }
}
