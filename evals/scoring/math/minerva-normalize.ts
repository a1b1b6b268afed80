// minerva_math's answer extraction and normalisation (lm-eval's get_unnormalized_answer and
// normalize_final_answer, the latter from appendix D of Lewkowycz et al. 2022), quirks included:
// "an "/"a " are deleted anywhere, so is "ft" (which turns "\left(" into "\le("), and the
// unit list is removed as plain substrings. Python's `.` never matches "\n"; `[^\n]` says so here.

export const INVALID_ANSWER = "[invalidanswer]";

// The unescaped dots are lm-eval's: any character may stand before " I hope it is correct".
const FINAL_ANSWER = /Final Answer: The final answer is([^\n]*?)[^\n] I hope it is correct[^\n]/;

/**
 * The text after "Final Answer: The final answer is", up to ". I hope it is correct.".
 *
 * @example getUnnormalizedAnswer("Final Answer: The final answer is $24$. I hope it is correct.") // "$24$"
 */
export function getUnnormalizedAnswer(completion: string): string {
  // lm-eval appends the end sequence so a completion cut just before it still matches.
  const match = FINAL_ANSWER.exec(`${completion}I hope it is correct.`);
  return match ? (match[1] ?? "").trim() : INVALID_ANSWER;
}

const SUBSTITUTIONS: readonly [string, string][] = [
  ["an ", ""],
  ["a ", ""],
  [".$", "$"],
  ["\\$", ""],
  ["\\ ", ""],
  [" ", ""],
  ["mbox", "text"],
  [",\\text{and}", ","],
  ["\\text{and}", ","],
  ["\\text{m}", "\\text{}"],
];

const REMOVED_EXPRESSIONS: readonly string[] = [
  "square",
  "ways",
  "integers",
  "dollars",
  "mph",
  "inches",
  "ft",
  "hours",
  "km",
  "units",
  "\\ldots",
  "sue",
  "points",
  "feet",
  "minutes",
  "digits",
  "cents",
  "degrees",
  "cm",
  "gm",
  "pounds",
  "meters",
  "meals",
  "edges",
  "students",
  "childrentickets",
  "multiples",
  "\\text{s}",
  "\\text{.}",
  "\\text{\ns}",
  "\\text{}^2",
  "\\text{}^3",
  "\\text{\n}",
  "\\text{}",
  "\\mathrm{th}",
  "^\\circ",
  "^{\\circ}",
  "\\;",
  ",\\!",
  "{,}",
  '"',
  "\\dots",
];

/** Python's str.isdigit: Unicode decimal digits plus the superscript and subscript digits. */
const PYTHON_ISDIGIT = /^[\p{Nd}\u00B2\u00B3\u00B9\u2070\u2074-\u2079\u2080-\u2089]+$/u;

/**
 * lm-eval's normalize_final_answer, step for step.
 *
 * @example normalizeFinalAnswer("x = \\boxed{\\dfrac12}") // "\\dfrac{1}{2}"
 */
export function normalizeFinalAnswer(finalAnswer: string): string {
  let s = finalAnswer.split("=").at(-1) ?? "";
  for (const [before, after] of SUBSTITUTIONS) s = s.replaceAll(before, after);
  for (const expression of REMOVED_EXPRESSIONS) s = s.replaceAll(expression, "");
  // Keep the first $...$ of a line, drop the bold, box and overline wrappers.
  s = s.replace(/([^\n]*?)(\$)([^\n]*?)(\$)([^\n]*)/g, (_m, _a, _b, inner: string) => `$${inner}$`);
  s = s.replace(/(\\text\{)([^\n]*?)(\})/g, (_m, _a, inner: string) => inner);
  s = s.replace(/(\\textbf\{)([^\n]*?)(\})/g, (_m, _a, inner: string) => inner);
  s = s.replace(/(\\overline\{)([^\n]*?)(\})/g, (_m, _a, inner: string) => inner);
  s = s.replace(/(\\boxed\{)([^\n]*)(\})/g, (_m, _a, inner: string) => inner);
  // Shorthand TeX: \fracab → \frac{a}{b}, \sqrta → \sqrt{a}.
  s = s.replace(/(frac)([^{])([^\n])/g, (_m, _f, a: string, b: string) => `frac{${a}}{${b}}`);
  s = s.replace(/(sqrt)([^{])/g, (_m, _f, a: string) => `sqrt{${a}}`);
  s = s.replaceAll("$", "");
  // 100,000 → 100000
  if (PYTHON_ISDIGIT.test(s.replaceAll(",", ""))) s = s.replaceAll(",", "");
  return s;
}
