import { describe, expect, it } from "vitest";
import { type Extraction, parseAnswer, verifyAnswer } from "./index.ts";

// Expected values follow Math-Verify's parser.py and grader.py (docstring examples and the
// extraction priorities), as lm-eval's minerva_math calls them with default arguments.
function texts(extraction: Extraction): string[] {
  return extraction.map((e) => (typeof e === "string" ? e : e.text));
}

describe("parseAnswer", () => {
  it.each([
    ["The answer is $\\frac{1}{2}$", ["\\frac{1}{2}", "\\frac{1}{2}"]],
    ["The answer is 1/2", ["1/2", "1/2"]],
    // Priority 0 ("final answer is ... I hope") beats a later boxed answer (priority 50).
    ["Final answer is $3$. I hope it is correct. Then $\\boxed{4}$", ["3", "3"]],
    // Boxed (50) beats "answer:" (100) and plain LaTeX (300).
    ["Answer: $5$ but really $\\boxed{6}$ and $7$", ["6", "6"]],
    // Within one priority the rightmost match wins.
    ["$1$ then $2$", ["2", "2"]],
    // "and"-joined environments form one set.
    ["The roots are $1$ and $-2$.", ["1 and -2", "1 and -2"]],
    ["We get 12 apples, so the answer is 7", ["7", "7"]],
    ["It costs $1,234.5 in total", ["1234.5", "1234.5"]],
    ["That is 50% of it", ["50", "50"]],
    ["no numbers here", []],
  ])("%j → %j", (text, expected) => {
    expect(texts(parseAnswer(text))).toEqual(expected);
  });

  it("keeps only the first matched text when nothing parses", () => {
    expect(parseAnswer("so $\\frac{$ is it")).toEqual(["\\frac{"]);
  });
});

describe("verifyAnswer", () => {
  const same = (gold: string, predicted: string) =>
    verifyAnswer(parseAnswer(gold), parseAnswer(predicted));

  it.each([
    ["$\\boxed{\\frac{1}{3}}$", "It is 0.333333", true],
    ["$\\boxed{\\frac{1}{3}}$", "It is 0.333", false],
    ["$\\boxed{\\{1,2\\}}$", "$\\boxed{\\{2,1\\}}$", true],
    ["$\\boxed{(1,2)}$", "$\\boxed{(2,1)}$", false],
    ["$\\boxed{(1,2)}$", "$\\boxed{1, 2}$", true],
    ["$\\boxed{[1,2)}$", "$\\boxed{[1,2]}$", false],
    ["$\\boxed{x=3}$", "$\\boxed{3}$", true],
    ["$\\boxed{3}$", "$\\boxed{x=3}$", true],
    ["$\\boxed{x \\le 3}$", "$\\boxed{3 \\ge x}$", true],
    ["$\\boxed{\\text{Evelyn}}$", "$\\boxed{\\text{evelyn}}$", true],
    [
      "$\\boxed{\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}}$",
      "$\\boxed{\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}}$",
      true,
    ],
    [
      "$\\boxed{\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}}$",
      "$\\boxed{\\begin{pmatrix} 2 \\\\ 1 \\end{pmatrix}}$",
      false,
    ],
    ["$\\boxed{(x+1)^2}$", "$\\boxed{x^2+2x+1}$", true],
    ["$\\boxed{2\\sqrt{2}}$", "$\\boxed{\\sqrt{8}}$", true],
    ["$\\boxed{5}$", "$\\boxed{5 \\text{ cm}}$", true],
    ["$\\boxed{5}$", "$\\boxed{6}$", false],
    ["$\\boxed{5}$", "nothing", false],
  ])("gold %j, predicted %j → %s", (gold, predicted, expected) => {
    expect(same(gold, predicted)).toBe(expected);
  });
});
