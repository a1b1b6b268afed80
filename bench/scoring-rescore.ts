// Re-scores MATH-500-shaped completions with this checkout's scorers and with an older checkout's,
// and lists every verdict that changed. The completions are written from each problem's gold
// answer in the shapes models produce: the Minerva "Final Answer" line, a boxed answer, the same
// answer respaced (", " in lists, "x = " in front), a boxed answer followed by a run-on next
// problem (cut at `until` by `evals score`), and a wrong answer.
//
//   git archive <old-commit> evals | tar -x -C /tmp/old && ln -s "$PWD/node_modules" /tmp/old/
//   npx tsx bench/scoring-rescore.ts --old /tmp/old [--json changed.json]
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { goldAnswer } from "../evals/scoring/math/index.ts";
import type { ScoreResult } from "../evals/scoring/types.ts";
import { cutAtUntil } from "../evals/scoring/until.ts";
import { getTask } from "../evals/tasks/registry.ts";

const { values } = parseArgs({ options: { old: { type: "string" }, json: { type: "string" } } });
if (!values.old) throw new Error("--old <checkout of the older evals> is required");
type Scorer = (completion: string, solution: string) => ScoreResult;
const old = (await import(resolve(values.old, "evals/scoring/math/index.ts"))) as {
  scoreHendrycksMath: Scorer;
  scoreMinervaMath: Scorer;
};

const testSplit = resolve(import.meta.dirname, "../../shared/datasets/math500/test.jsonl");
const solutions = readFileSync(testSplit, "utf8")
  .trim()
  .split("\n")
  .map((line) => String((JSON.parse(line) as { solution: string }).solution));

const respaced = (answer: string) => answer.replace(/,(?=\S)/g, ", ");
const SHAPES: Record<string, (answer: string) => string> = {
  minerva: (a) =>
    `So we are done.\nFinal Answer: The final answer is $${a}$. I hope it is correct.`,
  boxed: (a) => `Putting it together, the answer is $\\boxed{${a}}$.`,
  respaced: (a) => `Final Answer: The final answer is $${respaced(a)}$. I hope it is correct.`,
  assigned: (a) => `Therefore $\\boxed{x = ${a}}$.`,
  "run-on": (a) =>
    `The answer is $\\boxed{${a}}$.\n\nProblem:\nWhat is 1+1?\n\nSolution: $\\boxed{2}$`,
  wrong: (a) => `Final Answer: The final answer is $${a}+1$. I hope it is correct.`,
};

const tasks = { hendrycks_math: old.scoreHendrycksMath, minerva_math: old.scoreMinervaMath };
const changed: Record<string, string | number>[] = [];
const totals = new Map<string, { old: number; new: number }>();
for (const [name, oldScore] of Object.entries(tasks)) {
  const task = getTask(name);
  solutions.forEach((solution, index) => {
    const answer = goldAnswer(solution);
    for (const [shape, write] of Object.entries(SHAPES)) {
      const completion = write(answer);
      const before = oldScore(completion, solution).metrics;
      const after = task.score(cutAtUntil(completion, task.until), solution).metrics;
      for (const [metric, value] of Object.entries(after)) {
        const key = `${name} ${metric} (${shape})`;
        const was = before[metric];
        const t = totals.get(key) ?? { old: 0, new: 0 };
        t.old += was ?? 0;
        t.new += value;
        totals.set(key, t);
        if (was !== undefined && was !== value)
          changed.push({ task: name, metric, shape, index, answer, old: was, new: value });
      }
    }
  });
}

console.log(
  `${solutions.length} MATH-500 problems × ${Object.keys(SHAPES).length} completion shapes`,
);
console.log("task metric (shape)                                   old    new");
for (const [key, t] of totals)
  console.log(`${key.padEnd(52)} ${String(t.old).padStart(4)}  ${String(t.new).padStart(4)}`);
console.log(`\n${changed.length} changed verdicts`);
for (const c of changed) console.log(JSON.stringify(c));
if (values.json) writeFileSync(values.json, JSON.stringify(changed, null, 1));
