// The part of latex2sympy2_extended's normalize_latex that math_verify's default
// NormalizationConfig turns on (basic_latex, units, malformed_operators, nits, boxed), written
// from its documented behaviour rather than line by line: this is where our math_verify can
// differ from the Python package on unusual LaTeX.

const UNIT_WORDS = [
  "square",
  "sq",
  "cubic",
  "units?",
  "cm",
  "mm",
  "km",
  "m",
  "meters?",
  "centimeters?",
  "inches",
  "inch",
  "in",
  "feet",
  "foot",
  "ft",
  "yards?",
  "miles?",
  "mph",
  "hours?",
  "minutes?",
  "seconds?",
  "days?",
  "weeks?",
  "years?",
  "degrees?",
  "dollars?",
  "cents?",
  "pounds?",
  "ounces?",
  "grams?",
  "kg",
  "g",
  "liters?",
  "ml",
  "points?",
  "ways",
  "students?",
  "people",
  "times",
];
const UNIT = `(?:${UNIT_WORDS.join("|")})(?:\\^?[23])?`;
/** "\text{ cm}", "\text{ square units}", "\mbox{meters}^2": a unit, possibly several words. */
const UNIT_TEXT = new RegExp(
  `\\\\(?:text|mbox|mathrm)\\{\\s*${UNIT}(?:\\s+${UNIT})*\\s*\\}(?:\\^\\{?[23]\\}?)?`,
  "g",
);

interface Box {
  start: number;
  end: number;
  content: string;
}

/** Each balanced `\boxed{...}`, in order. */
function boxesOf(latex: string): Box[] {
  const found: Box[] = [];
  let from = 0;
  for (;;) {
    const start = latex.indexOf("\\boxed{", from);
    if (start < 0) return found;
    let depth = 0;
    let end = -1;
    for (let i = start + "\\boxed".length; i < latex.length; i++) {
      if (latex[i] === "{") depth++;
      else if (latex[i] === "}" && --depth === 0) {
        end = i;
        break;
      }
    }
    if (end < 0) return found;
    found.push({ start, end, content: latex.slice(start + "\\boxed{".length, end) });
    from = end + 1;
  }
}

/**
 * The boxes a "last box" extraction keeps (latex2sympy2_extended's extract_boxed_content): the
 * last, and each one before it that is close (under 10 characters between) or, if different,
 * within 70 characters and separated by "and", "or", a comma or a semicolon.
 */
function lastBoxes(boxes: Box[], latex: string): string[] {
  const kept: Box[] = [];
  for (let i = boxes.length - 1; i >= 0; i--) {
    const box = boxes[i] as Box;
    const next = kept.at(-1);
    if (next) {
      const between = latex.slice(box.end + 1, next.start);
      const separated = /\b(?:and|or)\b|,|;/.test(between);
      const near = between.length < 10;
      if (!near && !(box.content !== next.content && between.length < 70 && separated)) break;
      if (box.content.trim() === next.content.trim()) continue;
    }
    kept.push(box);
  }
  return kept.reverse().map((b) => b.content);
}

/**
 * A trailing \text{...} (with an optional ^2) is a unit, unless it is the whole answer.
 * latex2sympy2_extended's regex for it is `(\\(?:text|mbox){.*?})(\^\d|\{\^\d\})?$`: the lazy
 * `.*?` still runs to the end of the answer, so it also cuts "\text{e}}" off "1 - \frac{1}{\text{e}}",
 * and latex2sympy reads what is left, "1 - \frac{1}{", as 1. With `quirks` we do the same (that is
 * math_verify); without, only a balanced trailing \text{...} goes (math_verify,fixed).
 */
function dropTrailingText(latex: string, quirks: boolean): string {
  let cut = latex.replace(/\\(?:text|mbox)\{[^{}]*\}(?:\^\d|\{\^\d\})?\s*$/, "").trim();
  if (quirks) {
    const at = latex.search(/\\(?:text|mbox)\{.*\}(?:\^\d|\{\^\d\})?\s*$/);
    if (at >= 0) cut = latex.slice(0, at).trim();
    // latex2sympy gives up on a fraction left without its denominator and keeps what came before.
    cut = cut.replace(/\s*[-+]?\s*\\frac\{[^{}]*\}\{$/, "").trim();
  }
  return cut === "" ? latex : cut;
}

const THOUSANDS = /(?<![\d.])([1-9]\d{0,2})((?:,\d{3})+)(?!\d)/g;

/**
 * Thousands separators outside brackets: "10,080" and "x = 58,500" are numbers, while "(12,102)"
 * and "[-36,104]" stay a pair and an interval. A space after the comma makes it a list: Math-Verify
 * reads "32,\\! 349" (the "\\!" and its space removed) as 32349 but "32, 349" not.
 */
function joinThousands(latex: string): string {
  let out = "";
  let depth = 0;
  let segment = "";
  const flush = () => {
    out +=
      depth === 0
        ? segment.replace(THOUSANDS, (_m, h: string, r: string) => h + r.replaceAll(",", ""))
        : segment;
    segment = "";
  };
  for (const c of latex) {
    if (c === "(" || c === "[" || c === "{") {
      flush();
      depth++;
      out += c;
    } else if (c === ")" || c === "]" || c === "}") {
      flush();
      depth = Math.max(0, depth - 1);
      out += c;
    } else segment += c;
  }
  flush();
  return out;
}

/**
 * Cleans one extracted LaTeX answer before it is parsed.
 *
 * @example normalizeLatex("\\boxed{\\dfrac{1}{2}\\text{ cm}}", "last") // "\\frac{1}{2}"
 */
export function normalizeLatex(latex: string, boxed: "all" | "last", quirks = true): string {
  let s = latex;
  const boxes = boxesOf(s);
  if (boxes.length > 0) {
    s = boxed === "last" ? lastBoxes(boxes, s).join(",") : boxes.map((b) => b.content).join(",");
  }
  // A doubled backslash before a command ("\\\\frac") is one backslash, except in matrices, where
  // "\\\\" separates rows.
  if (!s.includes("matrix")) s = s.replace(/\\\\(?=[a-zA-Z])/g, "\\");
  // \textbf, \textnormal, \mathrm, ... all read as \text (latex2sympy2_extended's basic_latex).
  s = s
    .replace(/\\text(?:normal|bf|it|rm)\b/g, "\\text")
    .replace(/\\math(?:rm|it|bf)\b/g, "\\text");
  // "and"/"or" between answers, bare or in \text{}, separate them like a comma.
  s = s.replace(/,?\s*\\text\{\s*(?:and|or)\s*\}/g, ",");
  s = s.replace(/(?<![a-zA-Z])(?:,?\s*(?:and|or))(?![a-zA-Z])/g, ",");
  // Percent words are a percent sign.
  s = s.replace(/\\text\{(?:percent|pct|percentage)\}/g, "%");
  s = s.replace(/\s*\b(?:percentage|percent|pct)\b/g, "%");
  s = s.replace(/\\(?:display|text|script)style/g, "");
  s = s.replace(/\\left|\\right|\\big|\\Big|\\bigg|\\Bigg/g, "");
  s = s.replace(/\\[tdc]frac/g, "\\frac");
  // "\\!" is a negative space ("1,\\!000" is one number); the others are spaces.
  s = s.replace(/(?<!\\)\\!\s*/g, "").replace(/\s*\{\s*,\s*\}/g, ",");
  s = s.replace(/(?<!\\)\\[,:; ]|\\q?quad|~/g, " ");
  s = s.replace(/\^\s*\{?\\circ\}?|\^\s*\{\s*\\text\{\s*o\s*\}\s*\}|°/g, "");
  s = s.replace(UNIT_TEXT, "");
  s = dropTrailingText(s, quirks);
  s = s.replace(/\\\$|\$/g, "");
  // \text{Evelyn} → Evelyn, \textbf{(A)} → (A)
  s = s.replace(/\\(?:text|textbf|mathrm|mathbf|mbox|operatorname)\{([^{}]*)\}/g, "$1");
  // Malformed operators: \sqrt3 → \sqrt{3}, \frac12 → \frac{1}{2}, \frac1{72} → \frac{1}{72}
  s = s.replace(/\\sqrt\s*(\d|[a-zA-Z])/g, "\\sqrt{$1}");
  s = s.replace(/\\frac\s*(\d|[a-zA-Z])\s*(\d|[a-zA-Z])/g, "\\frac{$1}{$2}");
  s = s.replace(/\\frac\s*(\d|[a-zA-Z])\s*\{/g, "\\frac{$1}{");
  // "x \in [1,2]" is the set on the right.
  const member = s.split("\\in ");
  if (member.length === 2) s = member[1] ?? s;
  s = joinThousands(s);
  s = s.trim().replace(/[.,;:\s]+$/, "");
  return s.trim();
}
