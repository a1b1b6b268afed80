import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { goldAnswer } from "./boxed.ts";
import { scoreHendrycksMath, scoreMinervaMath } from "./index.ts";

// Every MATH test-split gold, written back the way a perfect Minerva-style completion would end,
// must score against its own solution. Measured: hendrycks_math 5000/5000, minerva exact_match
// 4642/5000 (lm-eval's sympy check cannot parse tuples, intervals, lists, "%", and "\infty" after
// normalisation deletes its "ft"), our exact_match,fixed 4999/5000 (one gold spans a line break,
// which the Final Answer regex cannot cross), math_verify 4993/5000 (the misses are solutions
// with two boxed answers, which math_verify reads as a set of both).
const TEST_SPLIT = fileURLToPath(
  new URL("../../../../shared/datasets/math/test.jsonl", import.meta.url),
);

interface MathRow {
  solution: string;
}

describe("MATH test split scored against itself", () => {
  const rows = readFileSync(TEST_SPLIT, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as MathRow);

  it("has all 5000 problems", () => {
    expect(rows).toHaveLength(5000);
  });

  it("matches its own gold on (nearly) every problem", () => {
    const totals = { hendrycks: 0, minervaExactMatch: 0, minervaFixed: 0, mathVerify: 0 };
    for (const { solution } of rows) {
      const completion = `Final Answer: The final answer is $${goldAnswer(solution)}$. I hope it is correct.`;
      totals.hendrycks += scoreHendrycksMath(completion, solution).metrics.exact_match ?? 0;
      const minerva = scoreMinervaMath(completion, solution).metrics;
      totals.minervaExactMatch += minerva.exact_match ?? 0;
      totals.minervaFixed += minerva["exact_match,fixed"] ?? 0;
      totals.mathVerify += minerva.math_verify ?? 0;
    }
    expect(totals.hendrycks).toBe(5000);
    expect(totals.minervaExactMatch).toBeGreaterThanOrEqual(4640);
    expect(totals.minervaFixed).toBeGreaterThanOrEqual(4995);
    expect(totals.mathVerify).toBeGreaterThanOrEqual(4990);
  });
});
