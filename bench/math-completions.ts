// The MATH test set's solutions and one completion per problem, right and wrong in turn, in the
// Minerva answer format both MATH scorers read. Shared by the scoring benches.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { goldAnswer } from "../evals/scoring/math/index.ts";

const testSplit = resolve(import.meta.dirname, "../../shared/datasets/math/test.jsonl");

export const solutions = readFileSync(testSplit, "utf8")
  .trim()
  .split("\n")
  .map((line) => String((JSON.parse(line) as { solution: string }).solution));

export const completions = solutions.map((solution, i) => {
  const answer = i % 2 === 0 ? goldAnswer(solution) : `${goldAnswer(solution)}+1`;
  return ` So the answer is $\\boxed{${answer}}$.\nFinal Answer: The final answer is $${answer}$. I hope it is correct.`;
});
