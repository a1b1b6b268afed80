#!/usr/bin/env node
// `npm run demo`: installs what is missing, exports a demo recurrent checkpoint and evaluates it on
// GSM8K at r ∈ {1, 4, 16, 32} in-process, printing the results table. No account, no network needed
// when ../shared (model and datasets) is beside the repository.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const shared = resolve(root, "../shared");
const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: "skip" };

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", env });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

if (!existsSync(join(root, "node_modules/.package-lock.json"))) {
  console.log("demo: installing dependencies (npm ci)");
  run("npm", ["ci", "--no-audit", "--no-fund"]);
}

const demoDir = join(root, ".evals/demo");
const checkpoint = join(demoDir, "checkpoint");
const stories = join(shared, "models/stories260k");
if (existsSync(join(stories, "config.json"))) {
  console.log(
    `demo: model ${stories} (a real pretrained Llama), split 1,3,1 with a random adapter`,
  );
  run(process.execPath, [
    "bin/evals.js",
    "export",
    "--from",
    stories,
    "--split",
    "1,3,1",
    "--out",
    checkpoint,
  ]);
} else {
  console.log(
    "demo: ../shared/models/stories260k not found; using a random tiny checkpoint (--random tiny)",
  );
  run(process.execPath, [
    "bin/evals.js",
    "export",
    "--random",
    "tiny",
    "--split",
    "1,2,1",
    "--out",
    checkpoint,
  ]);
}
run(process.execPath, ["bin/evals.js", "inspect", checkpoint]);

const dataArgs = [];
const datasets = process.env.EVALS_DATA_DIR ?? join(shared, "datasets");
if (existsSync(join(datasets, "gsm8k/test.jsonl"))) {
  console.log(`demo: GSM8K from ${datasets}`);
  dataArgs.push("--data", datasets);
}
console.log(
  "demo: evaluating gsm8k_cot_sean (lm-eval's gsm8k_cot + \"Let's think step by step.\", 1-shot), 8 documents, r = 1, 4, 16, 32",
);
run(process.execPath, [
  "bin/evals.js",
  "local",
  "--model",
  checkpoint,
  "--tasks",
  "gsm8k_cot_sean",
  "--limit",
  "8",
  "--recurrences",
  "1,4,16,32",
  "--max-gen-toks",
  "64",
  "--output",
  join(demoDir, "results.json"),
  ...dataArgs,
]);
console.log(
  "demo: a tiny story model scores 0% on GSM8K; the table shows the pipeline and the FLOPs growing with r.",
);
