// minerva_math (lm_eval/tasks/minerva_math/utils.py process_results): `exact_match` compares the
// normalised "Final Answer: The final answer is ..." text with the normalised boxed gold through
// sympy-style equivalence; `math_verify` runs Math-Verify's parse/verify on the whole solution
// and the whole completion, as lm-eval does; "exact_match,fixed" is our corrected exact_match and
// "math_verify,fixed" is math_verify without the one quirk of its LaTeX normaliser that changes a
// value (a trailing-\text cut that reads "1 - \frac{1}{\mathrm{e}}" as 1).
import type { ScoreResult } from "../types.ts";
import { goldAnswer } from "./boxed.ts";
import { parseAnswer, verifyAnswer } from "./math-verify/index.ts";
import { isEquivFixed } from "./minerva-fixed.ts";
import { getUnnormalizedAnswer, normalizeFinalAnswer } from "./minerva-normalize.ts";
import { isEquivSympy } from "./sympy-equivalence.ts";

const TEXT_COMMAND = /\\(?:text\w*|mbox|math(?:rm|it|bf))\s*\{/g;

/**
 * Whether Math-Verify's trailing-\text cut could reach past a balanced \text{...} in `text`: a
 * text group closed inside another group ("\frac{1}{\mathrm{e}}"), or two of them. Only then can
 * "math_verify,fixed" differ from "math_verify", so only then is it computed apart.
 */
function quirkCanFire(text: string): boolean {
  const count = text.match(TEXT_COMMAND)?.length ?? 0;
  return (
    count >= 2 ||
    (count === 1 && /\\(?:text\w*|mbox|math(?:rm|it|bf))\s*\{[^{}]*\}[^{}$]*\}/.test(text))
  );
}

/**
 * Scores one minerva_math completion against the dataset's raw `solution`.
 *
 * @example
 * scoreMinervaMath("... Final Answer: The final answer is $24$. I hope it is correct.",
 *   "... $\\boxed{24}$").metrics.exact_match // 1
 */
export function scoreMinervaMath(completion: string, solution: string): ScoreResult {
  const boxed = goldAnswer(solution);
  const unnormalized = getUnnormalizedAnswer(completion);
  const answer = normalizeFinalAnswer(unnormalized);
  const exactMatch = isEquivSympy(answer, normalizeFinalAnswer(boxed)) ? 1 : 0;
  const fixedAnswer = normalizeFinalAnswer(unnormalized, { fixed: true });
  const fixedGold = normalizeFinalAnswer(boxed, { fixed: true });
  const exactMatchFixed = isEquivFixed(fixedAnswer, fixedGold) ? 1 : 0;
  const predicted = parseAnswer(completion);
  const mathVerify = verifyAnswer(parseAnswer(solution), predicted) ? 1 : 0;
  const mathVerifyFixed =
    quirkCanFire(solution) || quirkCanFire(completion)
      ? Number(
          verifyAnswer(
            parseAnswer(solution, { quirks: false }),
            parseAnswer(completion, { quirks: false }),
          ),
        )
      : mathVerify;
  const first = predicted[0];
  return {
    extracted: {
      exact_match: answer,
      "exact_match,fixed": fixedAnswer,
      math_verify: first === undefined ? "" : typeof first === "string" ? first : first.text,
    },
    metrics: {
      exact_match: exactMatch,
      "exact_match,fixed": exactMatchFixed,
      math_verify: mathVerify,
      "math_verify,fixed": mathVerifyFixed,
    },
  };
}
