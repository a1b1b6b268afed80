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

/** The contents of each balanced `\boxed{...}`, in order. */
function boxedContents(latex: string): string[] {
  const found: string[] = [];
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
    found.push(latex.slice(start + "\\boxed{".length, end));
    from = end + 1;
  }
}

/**
 * Cleans one extracted LaTeX answer before it is parsed.
 *
 * @example normalizeLatex("\\boxed{\\dfrac{1}{2}\\text{ cm}}", "last") // "\\frac{1}{2}"
 */
export function normalizeLatex(latex: string, boxed: "all" | "last"): string {
  let s = latex;
  const boxes = boxedContents(s);
  if (boxes.length > 0) s = boxed === "last" ? (boxes.at(-1) ?? "") : boxes.join(",");
  s = s.replace(/\\(?:display|text|script)style/g, "");
  s = s.replace(/\\left|\\right|\\big|\\Big|\\bigg|\\Bigg/g, "");
  s = s.replace(/\\[tdc]frac/g, "\\frac");
  // "\\!" is a negative space ("1,\\!000" is one number); the others are spaces.
  s = s.replace(/(?<!\\)\\!/g, "").replaceAll("{,}", ",");
  s = s.replace(/(?<!\\)\\[,:; ]|\\q?quad|~/g, " ");
  s = s.replace(/\^\s*\{?\\circ\}?|\^\s*\{\s*\\text\{\s*o\s*\}\s*\}|°/g, "");
  s = s.replace(UNIT_TEXT, "");
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
  // Thousands separators: "1,000" would read as a tuple.
  s = s.replace(
    /(?<![\d.])(\d{1,3})((?:,\d{3})+)(?![\d,])/g,
    (_m, head: string, rest: string) => head + rest.replaceAll(",", ""),
  );
  s = s.trim().replace(/[.,;:\s]+$/, "");
  return s.trim();
}
