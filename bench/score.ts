// Scoring throughput on 5,000 MATH completions (Node): each task's scorer in-process, then the
// whole `evals score` command (process start, JSONL parsing, output). Completions are built from
// the test set's own solutions, one answered right and one wrong in turn, so both the match and the
// mismatch paths run.  Usage: npx tsx bench/score.ts
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadTaskData } from "../evals/data/datasets.ts";
import { goldAnswer } from "../evals/scoring/math/index.ts";
import { getTask } from "../evals/tasks/registry.ts";

const repoRoot = resolve(import.meta.dirname, "..");
const { docs } = await loadTaskData(getTask("minerva_math"));
const lines = docs.map((doc, i) => {
  const solution = String(doc.solution);
  const answer = i % 2 === 0 ? goldAnswer(solution) : `${goldAnswer(solution)}+1`;
  return {
    id: `math/${i}`,
    completion: ` So the answer is $\\boxed{${answer}}$.\nFinal Answer: The final answer is $${answer}$. I hope it is correct.`,
    gold: solution,
  };
});

const dir = mkdtempSync(join(tmpdir(), "evals-score-bench-"));
const input = join(dir, "completions.jsonl");
writeFileSync(input, lines.map((line) => JSON.stringify(line)).join("\n"));
console.log(`${lines.length} MATH completions`);
console.log("task             in-process samples/s   accuracy   evals score (whole command) s");
for (const name of ["minerva_math", "hendrycks_math"]) {
  const task = getTask(name);
  const start = performance.now();
  let correct = 0;
  for (const line of lines) correct += task.score(line.completion, line.gold).metrics.exact_match;
  const seconds = (performance.now() - start) / 1000;
  const cliStart = performance.now();
  execFileSync(process.execPath, ["bin/evals.js", "score", "--task", name, "--input", input], {
    cwd: repoRoot,
    stdio: ["ignore", "ignore", "ignore"],
  });
  const cliSeconds = (performance.now() - cliStart) / 1000;
  console.log(
    `${name.padEnd(16)} ${(lines.length / seconds).toFixed(0).padStart(20)}   ${((100 * correct) / lines.length).toFixed(1).padStart(7)}%   ${cliSeconds.toFixed(2).padStart(29)}`,
  );
}
rmSync(dir, { recursive: true, force: true });
