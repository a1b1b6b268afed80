// lm-eval's `last_boxed_only_string` and `remove_boxed` (hendrycks_math/utils.py and
// minerva_math/utils.py carry the same two functions).
import { EvalsError } from "../../errors.ts";

/**
 * The last `\boxed{...}` (or `\fbox{...}`) with balanced braces, or null.
 * Quirk kept: once "\boxed " (with a space) occurs anywhere, lm-eval takes the text after the
 * last "\boxed " up to the next "$", whatever braced boxes exist.
 *
 * @example lastBoxedOnlyString("so $\\boxed{\\frac{1}{2}}$.") // "\\boxed{\\frac{1}{2}}"
 */
export function lastBoxedOnlyString(text: string): string | null {
  if (text.includes("\\boxed ")) {
    const afterSpace = text.split("\\boxed ").at(-1) ?? "";
    return `\\boxed ${afterSpace.split("$")[0]}`;
  }
  let start = text.lastIndexOf("\\boxed");
  if (start < 0) start = text.lastIndexOf("\\fbox");
  if (start < 0) return null;
  let open = 0;
  for (let i = start; i < text.length; i++) {
    if (text[i] === "{") open++;
    if (text[i] === "}") {
      open--;
      if (open === 0) return text.slice(start, i + 1);
    }
  }
  return null;
}

/** Raised where lm-eval's `remove_boxed` fails an assert (e.g. on an `\fbox{...}`). */
export class NotBoxedError extends Error {}

/**
 * The content of a `\boxed{...}` or `\boxed ...` string.
 *
 * @example removeBoxed("\\boxed{[2,5)}") // "[2,5)"
 */
export function removeBoxed(boxed: string): string {
  if (boxed.includes("\\boxed ")) {
    if (!boxed.startsWith("\\boxed ")) throw new NotBoxedError(boxed);
    return boxed.slice("\\boxed ".length);
  }
  if (!boxed.startsWith("\\boxed{") || !boxed.endsWith("}")) throw new NotBoxedError(boxed);
  return boxed.slice("\\boxed{".length, -1);
}

/** A MATH `solution` with no usable `\boxed{...}`: lm-eval itself would crash on it. */
export class MathGoldError extends EvalsError {}

/**
 * The gold answer both MATH tasks compare against: remove_boxed(last_boxed_only_string(solution)).
 *
 * @example goldAnswer("... is $\\boxed{2}$ vertical asymptotes.") // "2"
 */
export function goldAnswer(solution: string): string {
  const boxed = lastBoxedOnlyString(solution);
  try {
    if (boxed !== null) return removeBoxed(boxed);
  } catch (error) {
    if (!(error instanceof NotBoxedError)) throw error;
  }
  const start = JSON.stringify(solution.slice(0, 60));
  throw new MathGoldError(
    `MATH solution ${start}… has no \\boxed{...} answer; fix the dataset's \`solution\` field`,
  );
}
