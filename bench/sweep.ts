// `evals local` over a sweep of r: every r of a batch from one prefill at the largest r (the
// default) against each r prefilled alone, side by side on the same checkpoint, documents and
// thread count, and the records of the two compared (they must be the same but for wall time).
// Loglikelihood tasks are prompt-only compute, so the sweep saves up to 1 - r_max/Σr of the block
// passes (40% for 1,4,16,32); generation saves that on the prefill only.
// Usage: npx tsx bench/sweep.ts [--preset small] [--split 2,4,2] [--recurrences 1,4,16,32]
//   [--arc 16] [--gsm 8] [--gsm-fewshot 0] [--max-gen-toks 32] [--threads 1] [--batch-size 4]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type LocalRunOptions, runLocal } from "../evals/run/local-run.ts";
import type { RunResults } from "../evals/run/records.ts";
import { exportModel } from "../model/export-model.ts";

const { values } = parseArgs({
  options: {
    preset: { type: "string", default: "small" },
    split: { type: "string", default: "2,4,2" },
    recurrences: { type: "string", default: "1,4,16,32" },
    arc: { type: "string", default: "16" },
    gsm: { type: "string", default: "8" },
    "gsm-fewshot": { type: "string", default: "0" },
    "max-gen-toks": { type: "string", default: "32" },
    threads: { type: "string", default: "1" },
    "batch-size": { type: "string", default: "4" },
  },
});
const list = (text: string) => text.split(",").map(Number);
const recurrences = list(values.recurrences);
const dir = mkdtempSync(join(tmpdir(), "evals-sweep-bench-"));
const model = join(dir, "ckpt");
await exportModel({
  random: values.preset,
  out: model,
  split: list(values.split) as [number, number, number],
  seed: 1,
});

const base = {
  model,
  recurrences,
  kv: "full",
  stateInit: "zeros",
  seed: 0,
  batchSize: Number(values["batch-size"]),
  threads: Number(values.threads),
  maxGenToks: Number(values["max-gen-toks"]),
} satisfies Partial<LocalRunOptions>;
const tasks: { label: string; options: Partial<LocalRunOptions> }[] = [
  {
    label: `arc_easy × ${values.arc}`,
    options: { tasks: ["arc_easy"], limit: Number(values.arc) },
  },
  {
    label: `gsm8k_cot_sean × ${values.gsm} (${values["gsm-fewshot"]}-shot, ≤${values["max-gen-toks"]} tokens)`,
    options: {
      tasks: ["gsm8k_cot_sean"],
      limit: Number(values.gsm),
      numFewshot: Number(values["gsm-fewshot"]),
    },
  },
];

const sumR = recurrences.reduce((a, b) => a + b, 0);
const maxR = Math.max(...recurrences);
console.log(
  `${values.preset} ${values.split}, r = ${values.recurrences}, ${values.threads} thread(s), batch ${values["batch-size"]}: ` +
    `prefill block passes ${maxR} swept vs ${sumR} alone (${(maxR / sumR).toFixed(2)})`,
);
console.log(
  "task                                          per-r (s)   sweep (s)   sweep/per-r   same records",
);
const comparable = (run: RunResults) => JSON.stringify(run.samples.map((s) => ({ ...s, ms: 0 })));
for (const task of tasks) {
  const options = { ...base, ...task.options } as LocalRunOptions;
  // Untimed warm-up so neither side pays for first-call costs.
  await runLocal({ ...options, limit: 1, recurrences: [1] });
  let started = performance.now();
  const alone = await runLocal({ ...options, sweep: false });
  const aloneS = (performance.now() - started) / 1000;
  started = performance.now();
  const swept = await runLocal(options);
  const sweptS = (performance.now() - started) / 1000;
  console.log(
    `${task.label.padEnd(45)} ${aloneS.toFixed(1).padStart(9)}   ${sweptS.toFixed(1).padStart(9)}   ${(sweptS / aloneS).toFixed(2).padStart(11)}   ${comparable(alone) === comparable(swept) ? "yes" : "NO"}`,
  );
}
rmSync(dir, { recursive: true, force: true });
