// math_verify's extraction regexes (parser.py: lazy_latex_regex, lazy_expr_regex,
// make_latex_env_pattern), rewritten for JavaScript: no inline `(?i:...)` groups (case-folded
// character classes instead) and one named group per alternative, as Python has.

/** "answer" → "[Aa][Nn][Ss][Ww][Ee][Rr]": Python's `(?i:answer)` without inline flags. */
function caseless(text: string): string {
  return text.replace(/[a-z]/gi, (c) => `[${c.toUpperCase()}${c.toLowerCase()}]`);
}

export const FINAL_ANSWER_IS = caseless("final answer is");
export const FINAL_ANSWER = caseless("final answer");
export const ANSWER = caseless("answer");

/** One LaTeX math environment ($..$, $$..$$, \[..\], \(..\), " [..] ", a bare \frac{n}{m}). */
export function latexEnvPattern(prefix: string, context: "plain" | "boxed"): string {
  const percent = `(?<${prefix}percent>(?:\\\\?%|[Pp]ercent|[Pp]ercentage|[Pp]ct))`;
  let displayDollar = "(?:[^$]|\\$(?!\\$))";
  let displayBracket = "(?:[^\\\\]|\\\\(?!\\]))";
  let inlineDollar = "(?:\\\\[$]|[^\\n$])";
  let inlineParenthesis = "(?:[^\\\\\\n]|\\\\(?!\\)))";
  let inlineBracket = "[^\\n\\]\\[]";
  const wrap = (content: string) =>
    context === "boxed" ? `${content}*?\\\\boxed\\{${content}+?\\}${content}*?` : `${content}+?`;
  displayDollar = wrap(displayDollar);
  displayBracket = wrap(displayBracket);
  inlineDollar = wrap(inlineDollar);
  inlineParenthesis = wrap(inlineParenthesis);
  inlineBracket = wrap(inlineBracket);
  const patterns = [
    `(?<!\\\\)\\$\\$(?<${prefix}latexDisplayDollar>${displayDollar})(?<!\\\\)\\$\\$`,
    `(?<!\\\\)\\\\\\[(?<${prefix}latexDisplayBracket>${displayBracket})(?<!\\\\)\\\\\\]`,
    `(?<!\\\\|\\d)\\$(?<${prefix}latexInlineDollar>${inlineDollar})(?<!\\\\)\\$`,
    `(?<!\\\\)\\\\\\((?<${prefix}latexInlineParenthesis>${inlineParenthesis})(?<!\\\\)\\\\\\)`,
    `\\s\\[(?<${prefix}latexInlineBracket>${inlineBracket})\\]\\s`,
  ];
  if (context === "plain") {
    const simpleNumber = "-?\\d+(?:[.,]\\d+)?";
    patterns.push(
      `(?<${prefix}latexFraction>-?\\\\frac\\{${simpleNumber}\\}\\{${simpleNumber}\\})`,
    );
  }
  return `(?:(?:${patterns.join("|")})\\s*${percent}?)`;
}

/** Up to five environments joined by "and", "or" or commas ("$1$, $2$ and $3$"). */
export function latexEnvsPattern(context: "plain" | "boxed"): string {
  let next = "";
  for (let i = 1; i <= 5; i++) {
    const joint = `(?:\\s*(?:,?and|,?or|,)\\s*${latexEnvPattern(`next${i}_`, context)})?`;
    next += context === "boxed" ? `\\s*${joint}` : joint;
  }
  return `(?:${latexEnvPattern("first_", context)}${next})`;
}

/** Plain numbers and arithmetic (ExprExtractionConfig): "1,234.5", ".5", "3/4", "50%". */
export function exprPatterns(): { exprWithAnchors: string; numberWithAnchors: string } {
  const number =
    "(?<!\\d)(?:" +
    "(?<integer1>-?[1-9]\\d{0,2}(?:[ ,]\\d{3})+)(?<decimal1>\\.\\d+)?|" +
    "(?<integer2>-?\\d+)(?<decimal2>[.,]\\d+)|" +
    "(?<decimal3>\\.\\d+)|" +
    "(?<integer3>-?\\d+)" +
    ")(?<percent>\\s*(?:%|[Pp]ercent|\\s*[Pp]ercentage|\\s*[Pp]ct))?";
  const operators = "\\+\\-\\*\\×\\/\\^\\(\\)\\÷";
  const exprChars = `[\\d\\.\\s${operators}]`;
  const expr = `(?<expr>-?\\(?-?\\d${exprChars}*[${operators}]${exprChars}+\\)?)`;
  const currency = "$€£¥₹₽₪₩₫฿₡₢₣₤₥₦₧₨₭₮₯₰₱₲₳₴₵₶₷₸₺₻₼₾₿".replace(/\$/g, "\\$");
  const prefix = "(?:^|\\s|\\=)(?:\\*\\*)?";
  const suffix = "(?:\\*\\*)?(?:\\.|,|:|\\s|\\)|\\$|$)";
  return {
    exprWithAnchors: `(?:${prefix}${expr}${suffix})`,
    numberWithAnchors: `(?:${prefix}[${currency}]?${number})`,
  };
}
