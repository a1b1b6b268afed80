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

/** Where `text` occurs outside a LaTeX command name ("ft" in "5ft", not in "\\left"). */
function outsideCommands(text: string, lookahead = ""): RegExp {
  const escaped = text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(?<!\\\\[A-Za-z]*)${escaped}${lookahead}`, "g");
}

/**
 * lm-eval's normalize_final_answer, step for step. With `fixed`, the plainly wrong deletions are
 * not made: words are not cut out of LaTeX commands ("\\infty", "\\left", "\\tan"), "a "/"an "
 * go only before a word ("a + b" stays), "\\sqrt[3]" keeps its index, and "x \\in S" gives S.
 *
 * @example normalizeFinalAnswer("x = \\boxed{\\dfrac12}") // "\\dfrac{1}{2}"
 */
export function normalizeFinalAnswer(
  finalAnswer: string,
  options: { fixed?: boolean } = {},
): string {
  const fixed = options.fixed === true;
  let s = finalAnswer.split("=").at(-1) ?? "";
  // "x \\in [1,2]" answers with the set, as "x = 3" answers with 3.
  if (fixed) s = s.split(/\\in(?![A-Za-z])/).at(-1) ?? s;
  for (const [before, after] of SUBSTITUTIONS) {
    const article = before === "an " || before === "a ";
    if (fixed && before === " ") {
      // "\\tan x" must not become "\\tanx": keep a space that ends a command name.
      s = s.replace(/(?<!\\[A-Za-z]+) /g, "");
      continue;
    }
    s =
      fixed && article
        ? s.replace(outsideCommands(before, "(?=[A-Za-z])"), after)
        : s.replaceAll(before, after);
  }
  for (const expression of REMOVED_EXPRESSIONS) {
    const word = /^[a-z]+$/.test(expression);
    s = fixed && word ? s.replace(outsideCommands(expression), "") : s.replaceAll(expression, "");
  }
  // Keep the first $...$ of a line, drop the bold, box and overline wrappers.
  s = s.replace(/([^\n]*?)(\$)([^\n]*?)(\$)([^\n]*)/g, (_m, _a, _b, inner: string) => `$${inner}$`);
  s = s.replace(/(\\text\{)([^\n]*?)(\})/g, (_m, _a, inner: string) => inner);
  s = s.replace(/(\\textbf\{)([^\n]*?)(\})/g, (_m, _a, inner: string) => inner);
  s = s.replace(/(\\overline\{)([^\n]*?)(\})/g, (_m, _a, inner: string) => inner);
  s = s.replace(/(\\boxed\{)([^\n]*)(\})/g, (_m, _a, inner: string) => inner);
  // Shorthand TeX: \fracab → \frac{a}{b}, \sqrta → \sqrt{a}.
  s = s.replace(/(frac)([^{])([^\n])/g, (_m, _f, a: string, b: string) => `frac{${a}}{${b}}`);
  s = s.replace(fixed ? /(sqrt)([^{[])/g : /(sqrt)([^{])/g, (_m, _f, a: string) => `sqrt{${a}}`);
  s = s.replaceAll("$", "");
  // 100,000 → 100000
  if (PYTHON_ISDIGIT.test(s.replaceAll(",", ""))) s = s.replaceAll(",", "");
  return s;
}
