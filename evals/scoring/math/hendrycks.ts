// hendrycks_math (lm-eval v1.1, lm_eval/tasks/hendrycks_math/utils.py): the answer is the last
// \boxed{...}, else the first \[...\], else the text between the first and last "$", else the
// whole completion; it scores 1 when stripString makes it equal to the boxed gold.
import type { ScoreResult } from "../types.ts";
import { goldAnswer, lastBoxedOnlyString, NotBoxedError, removeBoxed } from "./boxed.ts";
import { isEquivHendrycks } from "./strip-string.ts";

/** What we report when lm-eval itself would crash (remove_boxed's assert on an `\fbox{...}`). */
export const UNREADABLE_BOX = "[invalid]";

/**
 * lm-eval's extract_answer.
 *
 * @example extractHendrycksAnswer("The answer is $\\frac{1}{2}$.") // "\\frac{1}{2}"
 */
export function extractHendrycksAnswer(completion: string): string {
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
  const first = completion.indexOf("$");
  const last = completion.lastIndexOf("$");
  if (first !== last) return completion.slice(first + 1, last);
  return completion;
}

/**
 * Scores one hendrycks_math completion against the dataset's raw `solution`.
 *
 * @example scoreHendrycksMath(" $\\dfrac{1}{2}$", "... $\\boxed{\\frac12}$").metrics // { exact_match: 1 }
 */
export function scoreHendrycksMath(completion: string, solution: string): ScoreResult {
  const gold = goldAnswer(solution);
  const answer = extractHendrycksAnswer(completion);
  const correct = answer !== UNREADABLE_BOX && isEquivHendrycks(answer, gold);
  return { extracted: { exact_match: answer }, metrics: { exact_match: correct ? 1 : 0 } };
}
