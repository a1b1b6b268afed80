// hendrycks_math as lm-eval's main branch scores it (lm_eval/tasks/hendrycks_math/utils.py,
// process_results, unchanged through v0.4.11 and v0.5.0.dev1): the answer is the text between the
// first and last "$" of the completion, or the whole completion when it has fewer than two; the
// prediction is never unboxed. It scores 1 when strip_string makes it equal to the boxed gold.
// "exact_match,fixed" is ours: the last \boxed{...} first (an unmerged lm-eval pull request's
// extract_answer), so a model that boxes its answer is not marked wrong for the box.
import type { ScoreResult } from "../types.ts";
import { goldAnswer, lastBoxedOnlyString, NotBoxedError, removeBoxed } from "./boxed.ts";
import { isEquivHendrycks } from "./strip-string.ts";

/** What the corrected metric extracts where remove_boxed would fail an assert (`\fbox{...}`). */
export const UNREADABLE_BOX = "[invalid]";

/**
 * lm-eval main's answer: between the first and last "$", else the whole completion.
 *
 * @example extractHendrycksAnswer("So $\\boxed{5}$.") // "\\boxed{5}"
 */
export function extractHendrycksAnswer(completion: string): string {
  const first = completion.indexOf("$");
  const last = completion.lastIndexOf("$");
  if (first === last) return completion;
  return completion.slice(first + 1, last);
}

/**
 * Our boxed-first answer: the last `\boxed{}`, else the first `\[...\]`, else lm-eval main's.
 *
 * @example extractBoxedFirstAnswer("The answer is $\\boxed{\\frac{1}{2}}$.") // "\\frac{1}{2}"
 */
export function extractBoxedFirstAnswer(completion: string): string {
  const boxed = lastBoxedOnlyString(completion);
  if (boxed !== null) {
    try {
      return removeBoxed(boxed);
    } catch (error) {
      if (error instanceof NotBoxedError) return UNREADABLE_BOX;
      throw error;
    }
  }
  const display = /\\\[([\s\S]+?)\\\]/.exec(completion);
  if (display) return (display[1] ?? "").trim();
  return extractHendrycksAnswer(completion);
}

/**
 * Scores one hendrycks_math completion against the dataset's raw `solution`.
 *
 * @example scoreHendrycksMath(" $\\dfrac{1}{2}$", "... $\\boxed{\\frac12}$").metrics
 * // { exact_match: 1, "exact_match,fixed": 1 }
 */
export function scoreHendrycksMath(completion: string, solution: string): ScoreResult {
  const gold = goldAnswer(solution);
  const answer = extractHendrycksAnswer(completion);
  const boxedFirst = extractBoxedFirstAnswer(completion);
  const fixed = boxedFirst !== UNREADABLE_BOX && isEquivHendrycks(boxedFirst, gold);
  return {
    extracted: { exact_match: answer, "exact_match,fixed": boxedFirst },
    metrics: {
      exact_match: isEquivHendrycks(answer, gold) ? 1 : 0,
      "exact_match,fixed": fixed ? 1 : 0,
    },
  };
}
