// Scorer throughput on 5,000 MATH completions, scorer by scorer and, for minerva_math, metric by
// metric (the sympy-style exact_match and math_verify), plus the one-off cost of the first call
// (building the compute-engine). Completions are the test set's own answers, right and wrong in
// turn.  Usage: npx tsx bench/scoring.ts
import { goldAnswer, scoreHendrycksMath, scoreMinervaMath } from "../evals/scoring/math/index.ts";
import { parseAnswer, verifyAnswer } from "../evals/scoring/math/math-verify/index.ts";
import {
  getUnnormalizedAnswer,
  normalizeFinalAnswer,
} from "../evals/scoring/math/minerva-normalize.ts";
import { isEquivSympy } from "../evals/scoring/math/sympy-equivalence.ts";
import { completions, solutions } from "./math-completions.ts";

const started = performance.now();
scoreMinervaMath(completions[0] ?? "", solutions[0] ?? "");
console.log(
  `first minerva_math call (builds the compute-engine): ${(performance.now() - started).toFixed(0)} ms`,
);

function measure(name: string, score: (completion: string, solution: string) => number): void {
  let total = 0;
  const t0 = performance.now();
  for (let i = 0; i < solutions.length; i++)
    total += score(completions[i] ?? "", solutions[i] ?? "");
  const seconds = (performance.now() - t0) / 1000;
  const rate = (solutions.length / seconds).toFixed(0).padStart(6);
  console.log(`${name.padEnd(34)} ${rate} samples/s   ${total}/${solutions.length} correct`);
}

console.log(`${solutions.length} MATH completions (every other one wrong)`);
measure("hendrycks_math exact_match", (c, s) => scoreHendrycksMath(c, s).metrics.exact_match ?? 0);
measure("minerva_math exact_match only", (c, s) =>
  isEquivSympy(normalizeFinalAnswer(getUnnormalizedAnswer(c)), normalizeFinalAnswer(goldAnswer(s)))
    ? 1
    : 0,
);
measure("minerva_math math_verify only", (c, s) =>
  verifyAnswer(parseAnswer(s), parseAnswer(c)) ? 1 : 0,
);
measure(
  "minerva_math (all three metrics)",
  (c, s) => scoreMinervaMath(c, s).metrics.math_verify ?? 0,
);
