import { describe, expect, it } from "vitest";
import { MathGoldError } from "./boxed.ts";
import { scoreHendrycksMath } from "./hendrycks.ts";

// hendrycks_math's two metrics, as a specification.
//
// `exact_match` is lm-eval main's process_results (lm_eval/tasks/hendrycks_math/utils.py, the
// same in every release up to v0.5.0.dev1): `indices = [pos for pos, char in enumerate(results[0])
// if char == "$"]`; with fewer than two the answer is the whole response, else the text between the
// first and last "$". The prediction is never unboxed, so "$\\boxed{5}$" is compared as
// "\\boxed{5}" and scores 0 against the gold 5.
// [completion, solution, extracted answer, exact_match]; each worked by hand from that rule and
// strip_string (the gold is always remove_boxed(last_boxed_only_string(solution))). lm-eval main's
// own values on pull-request inputs are checked in hendrycks-agreement.test.ts.
const MAIN_CASES: [string, string, string, number][] = [
  ["$5$", "The answer is $\\boxed{5}$.", "5", 1],
  [" $\\dfrac{1}{2}$", "The answer is $\\boxed{\\frac12}$.", "\\dfrac{1}{2}", 1],
  ["So $\\boxed{5}$.", "The answer is $\\boxed{5}$.", "\\boxed{5}", 0],
  ["\\boxed{5}", "The answer is $\\boxed{5}$.", "\\boxed{5}", 0],
  ["5", "The answer is $\\boxed{5}$.", "5", 1],
  [" 5", "The answer is $\\boxed{5}$.", " 5", 1],
  ["Cost: $5", "The answer is $\\boxed{5}$.", "Cost: $5", 0],
  ["We get $x$ and then $7$.", "The answer is $\\boxed{7}$.", "x$ and then $7", 0],
  ["The answer is \\[ 7 \\]", "The answer is $\\boxed{7}$.", "The answer is \\[ 7 \\]", 0],
  ["$\\frac12$ then more text", "The answer is $\\boxed{\\frac{1}{2}}$.", "\\frac12", 1],
  ["$10\\%$", "The answer is $\\boxed{10}$.", "10\\%", 1],
  ["", "The answer is $\\boxed{0}$.", "", 0],
];

describe("hendrycks_math exact_match: lm-eval main", () => {
  it.each(MAIN_CASES)("%j against %j", (completion, solution, answer, exactMatch) => {
    const score = scoreHendrycksMath(completion, solution);
    expect(score.extracted.exact_match).toBe(answer);
    expect(score.metrics.exact_match).toBe(exactMatch);
  });
});

// `exact_match,fixed` is ours: the last \\boxed{...} first, then the first \\[...\\], then lm-eval
// main's "$" rule (the extract_answer of an unmerged lm-eval pull request, which v1.1 of this
// repository shipped as exact_match). Expected values come from running that extract_answer with
// lm-eval's last_boxed_only_string, remove_boxed, is_equiv and strip_string in Python on each case,
// so strip_string's quirks are expected too:
// "\\text{cm}" without a space keeps the unit, "x/2" is not rewritten (int() fails and is_equiv
// falls back to raw equality), "2\\sqrt{2}" is not "\\sqrt{8}", a second "\\text{ " unit fails an
// assert (raw equality again), "1,000" is not "1000", and "\\boxed 5" (space form) beats a later
// "\\boxed{6}". Where lm-eval would crash (remove_boxed on "\\fbox{5}") we score 0.
const CASES: [string, string, string, number][] = [
  ["The answer is $\\boxed{5}$.", "The answer is $\\boxed{5}$.", "5", 1],
  ["So $x=\\boxed{\\frac{1}{2}}$", "The answer is $\\boxed{\\frac12}$.", "\\frac{1}{2}", 1],
  ["$\\boxed{\\dfrac{3}{4}}$", "The answer is $\\boxed{\\frac{3}{4}}$.", "\\dfrac{3}{4}", 1],
  ["$\\boxed{\\tfrac34}$", "The answer is $\\boxed{\\frac{3}{4}}$.", "\\tfrac34", 1],
  [
    "Nested: $\\boxed{\\frac{\\sqrt{3}}{2}}$",
    "The answer is $\\boxed{\\frac{\\sqrt3}{2}}$.",
    "\\frac{\\sqrt{3}}{2}",
    1,
  ],
  ["First $\\boxed{1}$ then $\\boxed{2}$", "The answer is $\\boxed{2}$.", "2", 1],
  ["First $\\boxed{1}$ then $\\boxed{2}$", "The answer is $\\boxed{1}$.", "2", 0],
  ["Unclosed $\\boxed{3", "The answer is $\\boxed{3}$.", "Unclosed $\\boxed{3", 0],
  [
    "$\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}$",
    "The answer is $\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}$.",
    "\\left( 3, \\frac{\\pi}{2} \\right)",
    1,
  ],
  [
    "$\\boxed{(3,\\frac{\\pi}{2})}$",
    "The answer is $\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}$.",
    "(3,\\frac{\\pi}{2})",
    1,
  ],
  ["$\\boxed{10^\\circ}$", "The answer is $\\boxed{10}$.", "10^\\circ", 1],
  ["$\\boxed{10^{\\circ}}$", "The answer is $\\boxed{10^\\circ}$.", "10^{\\circ}", 1],
  ["$\\boxed{25\\%}$", "The answer is $\\boxed{25}$.", "25\\%", 1],
  ["$\\boxed{\\$18.90}$", "The answer is $\\boxed{18.90}$.", "\\$18.90", 1],
  ["$\\boxed{5\\text{ cm}}$", "The answer is $\\boxed{5}$.", "5\\text{ cm}", 1],
  ["$\\boxed{5 \\text{ cm}^2}$", "The answer is $\\boxed{5}$.", "5 \\text{ cm}^2", 1],
  ["$\\boxed{5\\text{cm}}$", "The answer is $\\boxed{5}$.", "5\\text{cm}", 0],
  ["$\\boxed{x=3}$", "The answer is $\\boxed{3}$.", "x=3", 1],
  ["$\\boxed{k = 3}$", "The answer is $\\boxed{3}$.", "k = 3", 1],
  ["$\\boxed{abc=3}$", "The answer is $\\boxed{3}$.", "abc=3", 0],
  ["$\\boxed{.5}$", "The answer is $\\boxed{\\frac{1}{2}}$.", ".5", 1],
  ["$\\boxed{0.5}$", "The answer is $\\boxed{\\frac12}$.", "0.5", 1],
  ["$\\boxed{1/2}$", "The answer is $\\boxed{\\frac{1}{2}}$.", "1/2", 1],
  ["$\\boxed{x/2}$", "The answer is $\\boxed{\\frac{x}{2}}$.", "x/2", 0],
  ["$\\boxed{x/2}$", "The answer is $\\boxed{x/2}$.", "x/2", 1],
  ["$\\boxed{-3/4}$", "The answer is $\\boxed{\\frac{-3}{4}}$.", "-3/4", 1],
  ["$\\boxed{-3/4}$", "The answer is $\\boxed{-\\frac{3}{4}}$.", "-3/4", 0],
  ["$\\boxed{[2,5)}$", "The answer is $\\boxed{[2,5)}$.", "[2,5)", 1],
  ["$\\boxed{[2, 5)}$", "The answer is $\\boxed{[2,5)}$.", "[2, 5)", 1],
  [
    "$\\boxed{(-\\infty,0)\\cup(0,\\infty)}$",
    "The answer is $\\boxed{(-\\infty,0) \\cup (0,\\infty)}$.",
    "(-\\infty,0)\\cup(0,\\infty)",
    1,
  ],
  [
    "$\\boxed{\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}}$",
    "The answer is $\\boxed{\\begin{pmatrix}1\\\\2\\end{pmatrix}}$.",
    "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}",
    1,
  ],
  ["$\\boxed{\\text{Evelyn}}$", "The answer is $\\boxed{\\text{Evelyn}}$.", "\\text{Evelyn}", 1],
  ["$\\boxed{\\text{(C)}}$", "The answer is $\\boxed{\\text{(C)}}$.", "\\text{(C)}", 1],
  ["$\\boxed{C}$", "The answer is $\\boxed{\\text{(C)}}$.", "C", 0],
  ["$\\boxed{\\sqrt2}$", "The answer is $\\boxed{\\sqrt{2}}$.", "\\sqrt2", 1],
  ["$\\boxed{2\\sqrt{2}}$", "The answer is $\\boxed{\\sqrt{8}}$.", "2\\sqrt{2}", 0],
  ["$\\boxed{1,000}$", "The answer is $\\boxed{1000}$.", "1,000", 0],
  ["$\\boxed{1{,}000}$", "The answer is $\\boxed{1000}$.", "1{,}000", 0],
  ["$\\boxed{1\\!000}$", "The answer is $\\boxed{1000}$.", "1\\!000", 1],
  ["$\\boxed{\\frac{1}{2}\n}$", "The answer is $\\boxed{\\frac12}$.", "\\frac{1}{2}\n", 1],
  ["$\\boxed{\\frac1}$", "The answer is $\\boxed{\\frac1}$.", "\\frac1", 1],
  ["$\\boxed{\\sqrt}$", "The answer is $\\boxed{\\sqrt}$.", "\\sqrt", 1],
  ["$\\boxed{\\frac}$", "The answer is $\\boxed{\\frac}$.", "\\frac", 1],
  [
    "The answer is \\[ \\frac{1}{2} \\] and $3$.",
    "The answer is $\\boxed{\\frac12}$.",
    "\\frac{1}{2}",
    1,
  ],
  ["We get $x$ and then $7$.", "The answer is $\\boxed{7}$.", "x$ and then $7", 0],
  ["We get $7$.", "The answer is $\\boxed{7}$.", "7", 1],
  ["7", "The answer is $\\boxed{7}$.", "7", 1],
  [" 7", "The answer is $\\boxed{7}$.", " 7", 1],
  ["The answer is 7", "The answer is $\\boxed{7}$.", "The answer is 7", 0],
  ["Cost: $5", "The answer is $\\boxed{5}$.", "Cost: $5", 0],
  ["$\\boxed 5$", "The answer is $\\boxed{5}$.", "5", 1],
  ["$\\boxed 5$ and $\\boxed{6}$", "The answer is $\\boxed{5}$.", "5", 1],
  ["\\fbox{5}", "The answer is $\\boxed{5}$.", "[invalid]", 0],
  ["$\\fbox{5}$", "The answer is $\\boxed{5}$.", "[invalid]", 0],
  ["", "The answer is $\\boxed{0}$.", "", 0],
  ["$5\\text{ cm}\\text{ m}$", "The answer is $\\boxed{5}$.", "5\\text{ cm}\\text{ m}", 0],
  [
    "$5\\text{ cm}\\text{ m}$",
    "The answer is $\\boxed{5\\text{ cm}\\text{ m}}$.",
    "5\\text{ cm}\\text{ m}",
    1,
  ],
  ["$\\boxed{\\$1.50}$", "The answer is $\\boxed{\\$1.50}$.", "\\$1.50", 1],
  ["$\\boxed{x \\in [1,2]}$", "The answer is $\\boxed{[1,2]}$.", "x \\in [1,2]", 0],
  ["$\\boxed{\\{1, 2\\}}$", "The answer is $\\boxed{\\{1,2\\}}$.", "\\{1, 2\\}", 1],
  ["$\\boxed{2}$", "Two cases: $\\boxed{1}$ or, finally, $\\boxed{2}$.", "2", 1],
  ["$\\boxed{\\textbf{(A)}}$", "The answer is $\\boxed{\\textbf{(A)}}$.", "\\textbf{(A)}", 1],
  ["$\\boxed{50}$", "The answer is $\\boxed{50\\%}$.", "50", 1],
  ["$\\boxed{3.0}$", "The answer is $\\boxed{3}$.", "3.0", 0],
  ["$\\boxed{03/4}$", "The answer is $\\boxed{03/4}$.", "03/4", 1],
];

describe("hendrycks_math exact_match,fixed: boxed first", () => {
  it("has the breadth the brief asks for", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(60);
  });

  it.each(CASES)("%j against %j", (completion, solution, answer, exactMatch) => {
    const score = scoreHendrycksMath(completion, solution);
    expect(score.extracted["exact_match,fixed"]).toBe(answer);
    expect(score.metrics["exact_match,fixed"]).toBe(exactMatch);
  });

  it("refuses a gold solution without a boxed answer, naming the field", () => {
    expect(() => scoreHendrycksMath("$5$", "The answer is 5.")).toThrow(MathGoldError);
    expect(() => scoreHendrycksMath("$5$", "The answer is 5.")).toThrow(/`solution`/);
    expect(() => scoreHendrycksMath("$5$", "It is \\fbox{5}.")).toThrow(MathGoldError);
  });
});
