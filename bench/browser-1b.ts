// The 1.2B-parameter shape in the browser runner itself: a `--quant q4` export loaded in headless
// Chromium's WASM backend through the runner's engine page, generating at r and batch given, at
// 1 and 2 WASM threads, beside onnxruntime-node on the same graphs (WASM ÷ node). Prints load
// time (hash check, fetch, session creation and the numeric check), the renderer's peak resident
// memory, prefill and decode time, tokens/s, and the weight bytes a decode step streams per second
// (bench/weight-bytes.ts: the embedding table is gathered a row per token, not streamed) against
// this machine's memory bandwidth, measured before and after the engines
// (bench/memory-bandwidth.ts, the best of the two).
// Make the checkpoint once (about 5 min, 5 GB peak RSS), then point the bench at it:
//   evals export --random llama-3.2-1b --split 4,8,4 --quant q4 --fidelity-prompts 0 --out DIR
//   npx tsx bench/browser-1b.ts --model DIR [--threads 1,2] [--recurrences 1,4] [--batch 1,8]
//     [--new-tokens 3] [--no-node] [--no-wasm]
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { readCheckpoint } from "../model/checkpoint.ts";
import { type EngineBackend, openBackend } from "../runner/backends.ts";
import { measureBandwidth } from "./memory-bandwidth.ts";
import { type StepBytes, weightBytesAt } from "./scale-math.ts";
import { stepBytesOf } from "./weight-bytes.ts";

const GSM8K_DOCS = 1319;
/** Generated tokens per document assumed by the projection (GSM8K CoT's cap is 256). */
const GEN_TOKENS = 256;
const SWEEP_R = [1, 4, 16, 32];

const { values } = parseArgs({
  options: {
    model: { type: "string" },
    threads: { type: "string", default: "1,2" },
    recurrences: { type: "string", default: "1,4" },
    batch: { type: "string", default: "1" },
    "new-tokens": { type: "string", default: "3" },
    "no-node": { type: "boolean", default: false },
    "no-wasm": { type: "boolean", default: false },
    // Internal: one node measurement in a child process, so its peak RSS is its own.
    "node-child": { type: "string" },
  },
});
if (!values.model) {
  console.error("usage: npx tsx bench/browser-1b.ts --model <q4 1.2B export> (see the header)");
  process.exit(2);
}
const list = (text: string) => text.split(",").map(Number);
const NEW = Number(values["new-tokens"]);
const SHAPES = list(values.recurrences).flatMap((r) =>
  list(values.batch).map((batch) => ({ r, batch })),
);
// A fixed 8-token prompt per row (ids inside every Llama-3 vocabulary); rows differ.
const prompt = (row: number) => [1, 791, 6864, 315, 9822, 374, 264 + row, 279];
const configOf = (recurrences: number, maxNewTokens: number) => ({
  recurrences,
  maxNewTokens,
  kv: "full" as const,
  stateInit: "zeros" as const,
  stopIds: [],
  stopStrings: [],
});

interface Row {
  r: number;
  batch: number;
  prefillSeconds: number;
  decodeSecondsPerStep: number;
  tokens: string;
}

/** Prefill (+1 token) and `NEW` tokens, timed apart: decode per step is their difference. */
async function measure(backend: EngineBackend): Promise<Row[]> {
  const rows: Row[] = [];
  for (const { r, batch } of SHAPES) {
    const requests = Array.from({ length: batch }, (_, i) => ({ promptIds: prompt(i), seed: i }));
    const t0 = performance.now();
    await backend.generate(requests, configOf(r, 1));
    const t1 = performance.now();
    const [first] = await backend.generate(requests, configOf(r, NEW));
    const t2 = performance.now();
    const prefillSeconds = (t1 - t0) / 1000;
    rows.push({
      r,
      batch,
      prefillSeconds,
      decodeSecondsPerStep: ((t2 - t1) / 1000 - prefillSeconds) / Math.max(1, NEW - 1),
      tokens: first.ids.join(" "),
    });
  }
  return rows;
}

/** Peak resident memory of this process's Chromium renderers (the page), from /proc. */
function rendererPeakBytes(): number | null {
  try {
    const parent = new Map<number, number>();
    const renderers: number[] = [];
    for (const name of readdirSync("/proc")) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = readFileSync(`/proc/${name}/stat`, "utf8");
        parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
        if (readFileSync(`/proc/${name}/cmdline`, "utf8").includes("--type=renderer")) {
          renderers.push(Number(name));
        }
      } catch {
        // The process ended while being read.
      }
    }
    const mine = (pid: number): boolean => {
      for (let p = pid; p > 1; p = parent.get(p) ?? 0) if (p === process.pid) return true;
      return false;
    };
    const peaks = renderers.filter(mine).map((pid) => {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    });
    return peaks.length ? Math.max(...peaks) : null;
  } catch {
    return null;
  }
}

interface Result {
  setting: string;
  loadSeconds: number;
  peakBytes: number | null;
  rows: Row[];
}

async function run(name: "node" | "wasm", threads: number): Promise<Result> {
  const started = performance.now();
  const backend = await openBackend(values.model!, name, { threads });
  const loadSeconds = (performance.now() - started) / 1000;
  const rows = await measure(backend);
  const peakBytes = name === "wasm" ? rendererPeakBytes() : process.resourceUsage().maxRSS * 1024;
  await backend.close();
  return { setting: `${name} ${threads}t`, loadSeconds, peakBytes, rows };
}

if (values["node-child"]) {
  process.stdout.write(`${JSON.stringify(await run("node", Number(values["node-child"])))}\n`);
  process.exit(0);
}

const { manifest } = await readCheckpoint(values.model);
console.log(
  `${manifest.name} (${manifest.dtype}, ${(manifest.parameters.total / 1e9).toFixed(2)}B parameters); ` +
    `prompt 8 tokens, ${NEW} new; ${cpus().length} cores, load ${loadavg()[0].toFixed(1)} at start`,
);
const stepBytes: StepBytes = await stepBytesOf(values.model);
const gbs = (bytes: number) => (bytes / 1e9).toFixed(1);
const bandwidthBefore = await measureBandwidth(2);
console.log(
  `memory bandwidth: best ${gbs(bandwidthBefore.best)} GB/s (copy and read, 1 and 2 threads)`,
);
/** The best the machine showed; updated after the engines (another process's burst can depress one). */
let bandwidth = bandwidthBefore.best;
const results: Result[] = [];
for (const threads of list(values.threads)) {
  if (!values["no-node"]) {
    // onnxruntime-node in a child of its own, so its peak RSS is not the driver's.
    const child = spawnSync(
      process.execPath,
      [...process.execArgv, import.meta.filename, "--model", values.model, ...forward(threads)],
      { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 2 ** 24 },
    );
    if (child.status !== 0) throw new Error(`node child failed (${child.status})`);
    results.push(JSON.parse(child.stdout.trim().split("\n").at(-1)!));
  }
  if (!values["no-wasm"]) results.push(await run("wasm", threads));
  report(results);
}
const bandwidthAfter = await measureBandwidth(2);
console.log(
  `memory bandwidth after: best ${gbs(bandwidthAfter.best)} GB/s; reference ${gbs(Math.max(bandwidth, bandwidthAfter.best))} GB/s`,
);
if (bandwidthAfter.best > bandwidth) {
  bandwidth = bandwidthAfter.best;
  console.log("\nagainst the higher bandwidth measured after:");
  report(results);
}
console.log(`load ${loadavg()[0].toFixed(1)} at end`);

function forward(threads: number): string[] {
  return [
    "--node-child",
    String(threads),
    "--recurrences",
    values.recurrences,
    "--batch",
    values.batch,
    "--new-tokens",
    String(NEW),
  ];
}

function report(all: Result[]): void {
  const gib = (b: number | null) => (b === null ? "n/a" : `${(b / 2 ** 30).toFixed(2)} GiB`);
  console.log(
    `\nsetting    load s   peak memory   r  batch  prefill s  decode s/step  tok/s   GB/s (of ${gbs(bandwidth)})  wasm÷node`,
  );
  for (const result of all) {
    for (const row of result.rows) {
      const node = all
        .find((x) => x.setting === result.setting.replace("wasm", "node"))
        ?.rows.find((x) => x.r === row.r && x.batch === row.batch);
      const streamed = weightBytesAt(stepBytes, row.r) / row.decodeSecondsPerStep;
      console.log(
        [
          result.setting.padEnd(9),
          result.loadSeconds.toFixed(1).padStart(7),
          gib(result.peakBytes).padStart(12),
          String(row.r).padStart(3),
          String(row.batch).padStart(6),
          row.prefillSeconds.toFixed(2).padStart(10),
          row.decodeSecondsPerStep.toFixed(2).padStart(14),
          (row.batch / row.decodeSecondsPerStep).toFixed(3).padStart(6),
          `${(streamed / 1e9).toFixed(2)} (${((100 * streamed) / bandwidth).toFixed(1)}%)`.padStart(
            14,
          ),
          result.setting.startsWith("wasm") && node
            ? (node.decodeSecondsPerStep / row.decodeSecondsPerStep).toFixed(3).padStart(10)
            : "".padStart(10),
        ].join(" "),
      );
    }
  }
  // A full GSM8K sweep at batch 1, projected from each setting's r = 1 decode step with the
  // step's time scaled by the weight bytes it reads (decode is bandwidth-bound); prefill ignored.
  for (const result of all) {
    const r1 = result.rows.find((x) => x.r === 1 && x.batch === 1);
    if (!r1) continue;
    const perByte = r1.decodeSecondsPerStep / weightBytesAt(stepBytes, 1);
    const seconds = SWEEP_R.reduce(
      (n, r) => n + GSM8K_DOCS * GEN_TOKENS * perByte * weightBytesAt(stepBytes, r),
      0,
    );
    console.log(
      `${result.setting}: projected GSM8K sweep (${GSM8K_DOCS} docs × ${GEN_TOKENS} tokens, r = ${SWEEP_R.join(", ")}, batch 1): ${(seconds / 86400).toFixed(1)} days`,
    );
  }
  console.log(
    `tokens (row 0): ${all.map((x) => `${x.setting}: ${x.rows.map((r) => `[${r.tokens}]`).join(" ")}`).join("; ")}`,
  );
}
