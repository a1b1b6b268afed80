// minerva_math (lm_eval/tasks/minerva_math/utils.py process_results): `exact_match` compares the
// normalised "Final Answer: The final answer is ..." text with the normalised boxed gold through
// sympy-style equivalence; `math_verify` runs Math-Verify's parse/verify on the whole solution
// and the whole completion, as lm-eval does.
import type { ScoreResult } from "../types.ts";
import { goldAnswer } from "./boxed.ts";
import { parseAnswer, verifyAnswer } from "./math-verify/index.ts";
import { getUnnormalizedAnswer, normalizeFinalAnswer } from "./minerva-normalize.ts";
import { isEquivSympy } from "./sympy-equivalence.ts";

/**
 * Scores one minerva_math completion against the dataset's raw `solution`.
 *
 * @example
 * scoreMinervaMath("... Final Answer: The final answer is $24$. I hope it is correct.",
 *   "... $\\boxed{24}$").metrics.exact_match // 1
 */
export function scoreMinervaMath(completion: string, solution: string): ScoreResult {
  const gold = normalizeFinalAnswer(goldAnswer(solution));
  const answer = normalizeFinalAnswer(getUnnormalizedAnswer(completion));
  const exactMatch = isEquivSympy(answer, gold) ? 1 : 0;
  const predicted = parseAnswer(completion);
  const mathVerify = verifyAnswer(parseAnswer(solution), predicted) ? 1 : 0;
  const first = predicted[0];
  return {
    extracted: {
      exact_match: answer,
      math_verify: first === undefined ? "" : typeof first === "string" ? first : first.text,
    },
    metrics: { exact_match: exactMatch, math_verify: mathVerify },
  };
}
