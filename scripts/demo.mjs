#!/usr/bin/env node
// `npm run demo`: installs what is missing, starts the local stack (`evals dev`: API, runner and
// dashboard on this machine), exports a demo recurrent checkpoint, submits a small GSM8K run at
// r ∈ {1, 4, 16, 32} with `evals submit --wait` and prints the results table. No account needed,
// and no network when ../shared (model and datasets) is beside the repository.
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { handOffCommand } from "./demo-handoff.mjs";

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
// A small real Llama on the hub, for machines without ../shared but with a network.
const HUB_MODEL = "HuggingFaceTB/SmolLM2-135M";

async function hubReachable() {
  try {
    const response = await fetch(`https://huggingface.co/api/models/${HUB_MODEL}`, {
      signal: AbortSignal.timeout(5000),
    });
    return response.ok;
  } catch {
    return false;
  }
}

function exportCheckpoint(args) {
  return spawnSync(process.execPath, ["bin/evals.js", "export", ...args, "--out", checkpoint], {
    cwd: root,
    stdio: "inherit",
    env,
  }).status;
}

let model = "random";
if (existsSync(join(stories, "config.json"))) {
  console.log(
    `demo: model ${stories} (a real pretrained Llama), split 1,3,1 with a random adapter`,
  );
  if (exportCheckpoint(["--from", stories, "--split", "1,3,1"]) !== 0) process.exit(1);
  model = "stories260k";
} else if (await hubReachable()) {
  console.log(
    `demo: ../shared/models/stories260k not found; exporting hf:${HUB_MODEL} (split 4,8,4)`,
  );
  if (exportCheckpoint(["--from", `hf:${HUB_MODEL}`, "--split", "4,8,4"]) === 0) model = "hub";
  else console.log(`demo: exporting hf:${HUB_MODEL} failed; falling back to a random checkpoint`);
}
if (model === "random") {
  console.log("demo: no local model and no hub; using a random tiny checkpoint (--random tiny)");
  if (exportCheckpoint(["--random", "tiny", "--split", "1,2,1"]) !== 0) process.exit(1);
}
run(process.execPath, ["bin/evals.js", "inspect", checkpoint]);

const dataArgs = [];
let task = "gsm8k_cot_sean";
const datasets = process.env.EVALS_DATA_DIR ?? join(shared, "datasets");
if (existsSync(join(datasets, "gsm8k/test.jsonl"))) {
  console.log(`demo: GSM8K from ${datasets}`);
  dataArgs.push("--data", datasets);
} else {
  // `evals prompt` resolves GSM8K as submit will: the Hugging Face cache, then a download.
  const probe = spawnSync(
    process.execPath,
    ["bin/evals.js", "prompt", "--task", task, "--doc", "0"],
    { cwd: root, env, stdio: "ignore" },
  );
  if (probe.status === 0) console.log("demo: GSM8K found by the data search (Hugging Face cache)");
  else {
    task = "arithmetic_word_problems";
    console.log(
      "demo: no GSM8K anywhere (no ../shared/datasets, no Hugging Face cache, no hub); using the " +
        "built-in, code-generated arithmetic word problems (arithmetic_word_problems) instead",
    );
  }
}

// The runner needs Chromium for wasm/webgpu; without one the demo runs the same engine on node.
const chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].find(
  (path) => existsSync(path),
);
const backend = chromium ? "auto" : "node";
if (!chromium) {
  console.log(
    "demo: no Chromium found (Debian: apt-get install -y chromium); the runner uses onnxruntime-node",
  );
}

const port = await new Promise((done) => {
  const server = createServer();
  server.listen(0, "127.0.0.1", () => {
    const { port: free } = server.address();
    server.close(() => done(free));
  });
});
console.log(
  `demo: starting the local stack (evals dev on port ${port}, runner backend ${backend})`,
);
const stack = spawn(
  process.execPath,
  [
    "bin/evals.js",
    "dev",
    "--port",
    String(port),
    "--persist-to",
    join(demoDir, "state"),
    "--cache-dir",
    join(demoDir, "runner-cache"),
    "--backend",
    backend,
  ],
  { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] },
);
let stackOutput = "";
stack.stdout.on("data", (chunk) => (stackOutput += chunk));
stack.stderr.on("data", (chunk) => (stackOutput += chunk));
const stackExited = new Promise((done) => stack.once("exit", done));
const token = await new Promise((done) => {
  const timer = setInterval(() => {
    const match = /EVALS_TOKEN=(\S+)/.exec(stackOutput);
    if (match || stack.exitCode !== null) {
      clearInterval(timer);
      done(match?.[1]);
    }
  }, 100);
});
if (!token) {
  console.error(`demo: the local stack did not start:\n${stackOutput}`);
  process.exit(1);
}
const api = `http://127.0.0.1:${port}`;
// A 135M model at r = 32 on a CPU is slow: fewer documents when the demo model came from the hub.
const limit = model === "hub" ? 2 : 8;

console.log(
  `demo: submitting ${task} (lm-eval's gsm8k_cot + "Let's think step by step."), ${limit} documents, r = 1, 4, 16, 32`,
);
const submit = spawnSync(
  process.execPath,
  [
    "bin/evals.js",
    "submit",
    "--model",
    checkpoint,
    "--tasks",
    task,
    "--limit",
    String(limit),
    "--recurrences",
    "1,4,16,32",
    "--max-gen-toks",
    model === "hub" ? "32" : "64",
    "--wait",
    "--api",
    api,
    "--token",
    token,
    ...dataArgs,
  ],
  { cwd: root, env, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" },
);
process.stdout.write(submit.stdout ?? "");
// The table ends with "run <id> finished: <url>": publish that run so the dashboard lists it.
const runId = /^run (run_\S+) \w+: /m.exec(submit.stdout ?? "")?.[1];
const published =
  runId &&
  spawnSync(
    process.execPath,
    ["bin/evals.js", "runs", "publish", runId, "--api", api, "--token", token],
    { cwd: root, env, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" },
  );
stack.kill("SIGINT");
await stackExited;
if (submit.status !== 0) {
  console.error(`demo: evals submit failed; the stack said:\n${stackOutput.slice(-4000)}`);
  process.exit(submit.status ?? 1);
}
if (published?.status !== 0) {
  console.error(`demo: could not publish run ${runId ?? "(no run id in the output)"}`);
  process.exit(1);
}
console.log(
  [
    "demo: a model this small with an untrained adapter scores ~0%; the table shows the pipeline and the FLOPs growing with r.",
    `demo: run ${runId} is published in the demo's state. To browse it, run this and open the "run" link it prints:`,
    `        ${handOffCommand(join(demoDir, "state"), runId, root)}`,
  ].join("\n"),
);
