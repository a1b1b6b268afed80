// Scoring throughput inside workerd (the runtime the coordinator scores results in) next to Node,
// on the same 5,000 MATH completions and the same code path the API uses (`getTask(t).score`).
// workerd freezes its clocks while a request computes, so time is taken from outside: one request
// scores everything, and an identical request that only parses the body is subtracted.
//
//   npx tsx bench/scoring-workerd.ts [--rounds 3]
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { parseAnswer, verifyAnswer } from "../evals/scoring/math/math-verify/index.ts";
import { getTask } from "../evals/tasks/registry.ts";
import { completions, solutions } from "./math-completions.ts";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "3" } } });
const rounds = Number(values.rounds);
// Passes over the 5,000 per measurement, so that scoring dwarfs the request's own cost.
// "math_verify" is minerva_math's math_verify metric alone (parse both, verify), the paper's metric.
const TASKS: Record<string, number> = { hendrycks_math: 40, minerva_math: 1, math_verify: 1 };

const workerSource = `
import { getTask } from "./evals/tasks/registry.ts";
import { parseAnswer, verifyAnswer } from "./evals/scoring/math/math-verify/index.ts";
const mathVerifyOnly = {
  score: (c, s) => ({ metrics: { math_verify: verifyAnswer(parseAnswer(s), parseAnswer(c)) ? 1 : 0 } }),
};
export default {
  async fetch(request) {
    const { task, completions, solutions, passes } = await request.json();
    const definition = task === "math_verify" ? mathVerifyOnly : getTask(task);
    let correct = 0;
    for (let pass = 0; pass < passes; pass++) {
      for (let i = 0; i < solutions.length; i++) {
        const metrics = definition.score(completions[i], solutions[i]).metrics;
        correct += Object.values(metrics)[0] ?? 0;
      }
    }
    return Response.json({ correct });
  },
};`;

const bundle = await build({
  stdin: { contents: workerSource, resolveDir: resolve(import.meta.dirname, ".."), loader: "js" },
  bundle: true,
  format: "esm",
  platform: "neutral",
  mainFields: ["module", "main"],
  conditions: ["workerd", "worker", "browser"],
  write: false,
  logLevel: "error",
});
const script = bundle.outputFiles[0]?.text ?? "";
const worker = new Miniflare({
  modules: true,
  script,
  compatibilityDate: "2026-05-01",
  compatibilityFlags: ["nodejs_compat"],
});

async function insideWorkerd(
  task: string,
  passes: number,
): Promise<{ ms: number; correct: number }> {
  const body = JSON.stringify({ task, completions, solutions, passes });
  const t0 = performance.now();
  const response = await worker.dispatchFetch("http://bench/", { method: "POST", body });
  const { correct } = (await response.json()) as { correct: number };
  return { ms: performance.now() - t0, correct };
}

const mathVerifyOnly = {
  score: (completion: string, solution: string) => ({
    metrics: { math_verify: verifyAnswer(parseAnswer(solution), parseAnswer(completion)) ? 1 : 0 },
  }),
};

function inNode(task: string, passes: number): { ms: number; correct: number } {
  const definition = task === "math_verify" ? mathVerifyOnly : getTask(task);
  let correct = 0;
  const t0 = performance.now();
  for (let pass = 0; pass < passes; pass++)
    for (let i = 0; i < solutions.length; i++)
      correct +=
        Object.values(definition.score(completions[i] ?? "", solutions[i] ?? "").metrics)[0] ?? 0;
  return { ms: performance.now() - t0, correct };
}

console.log(
  `${solutions.length} MATH completions, best of ${rounds} rounds (samples/s; ratio = workerd ÷ node)`,
);
console.log("task              node     workerd   speed ratio  correct");
for (const [task, passes] of Object.entries(TASKS)) {
  // First calls build each runtime's compute-engine; they are warm-up, not measured.
  inNode(task, 1);
  await insideWorkerd(task, 1);
  let nodeBest = Number.POSITIVE_INFINITY;
  let workerdBest = Number.POSITIVE_INFINITY;
  let correct = 0;
  for (let round = 0; round < rounds; round++) {
    const node = inNode(task, passes);
    const parseOnly = await insideWorkerd(task, 0);
    const scored = await insideWorkerd(task, passes);
    if (scored.correct !== node.correct) throw new Error(`${task}: workerd and node disagree`);
    correct = node.correct / passes;
    nodeBest = Math.min(nodeBest, node.ms);
    workerdBest = Math.min(workerdBest, Math.max(scored.ms - parseOnly.ms, 1e-3));
  }
  const rate = (ms: number) => (passes * solutions.length) / (ms / 1000);
  console.log(
    `${task.padEnd(16)} ${rate(nodeBest).toFixed(0).padStart(6)}  ${rate(workerdBest).toFixed(0).padStart(9)}  ${(nodeBest / workerdBest).toFixed(2).padStart(12)}  ${correct}/${solutions.length}`,
  );
}
await worker.dispose();
