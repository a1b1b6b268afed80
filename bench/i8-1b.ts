// The 1.2B shape as i8 (DynamicQuantizeMatMul) beside q4 (MatMulNBits) on the CPU backends:
// for each checkpoint, onnxruntime-node (bench/browser-1b.ts's node child: load, prefill, decode
// per step, peak RSS) and onnxruntime-web's WASM backend inside Node (bench/scale.ts's wasm
// child: load, whole generation, peak RSS), each in a process of its own, then WASM ÷ node on
// the same graphs. Headless Chromium's WASM runner: bench/browser-1b.ts --model DIR --no-node.
// Make the checkpoints first (about 5 min and 5–6 GB each):
//   evals export --random llama-3.2-1b --split 4,8,4 --quant i8 --fidelity-prompts 0 --out DIR
//   npx tsx bench/i8-1b.ts --models I8_DIR,Q4_DIR [--recurrences 1,4] [--tokens 3] [--threads 1]
import { spawnSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { readCheckpoint } from "../model/checkpoint.ts";

const { values } = parseArgs({
  options: {
    models: { type: "string" },
    recurrences: { type: "string", default: "1,4" },
    tokens: { type: "string", default: "3" },
    threads: { type: "string", default: "1" },
  },
});
if (!values.models) {
  console.error("usage: npx tsx bench/i8-1b.ts --models I8_DIR,Q4_DIR (see the header)");
  process.exit(2);
}
const TOKENS = Number(values.tokens);
const R = values.recurrences.split(",").map(Number);

/** Runs a bench script in a child (its own peak RSS) and returns its last stdout line as JSON. */
function child(script: string, args: string[]) {
  const run = spawnSync(
    process.execPath,
    [...process.execArgv, join(import.meta.dirname, script), ...args],
    {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      maxBuffer: 2 ** 24,
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: "skip" },
    },
  );
  if (run.status !== 0) throw new Error(`${script} ${args.join(" ")} failed (${run.status})`);
  return JSON.parse(run.stdout.trim().split("\n").at(-1)!);
}

interface NodeRow {
  r: number;
  prefillSeconds: number;
  decodeSecondsPerStep: number;
}
interface WasmRow {
  recurrences: number;
  generated: number;
  seconds: number;
}

console.log(
  `${cpus().length} cores, load ${loadavg()[0].toFixed(1)} at start (shared with other jobs); ` +
    `prompt 8 tokens, ${TOKENS} generated, batch 1, ${values.threads} thread(s)`,
);
console.log(
  "dtype  backend      load s  peak RSS GiB   r  prefill s  decode s/token  whole s  wasm÷node",
);
for (const dir of values.models.split(",")) {
  const { manifest } = await readCheckpoint(dir, { verify: false });
  const node = child("browser-1b.ts", [
    "--model",
    dir,
    "--node-child",
    values.threads,
    "--recurrences",
    values.recurrences,
    "--batch",
    "1",
    "--new-tokens",
    String(TOKENS),
  ]);
  // scale.ts's wasm child generates at r = 1 and 4 and times the whole generation.
  const wasm = child("scale.ts", ["--wasm", dir, String(TOKENS), values.threads]);
  for (const r of R) {
    const n: NodeRow = node.rows.find((row: NodeRow) => row.r === r);
    const w: WasmRow | undefined = wasm.rows.find((row: WasmRow) => row.recurrences === r);
    // The same work on node: one prefill (the first token) and TOKENS − 1 decode steps.
    const nodeWhole = n.prefillSeconds + (TOKENS - 1) * n.decodeSecondsPerStep;
    const line = (backend: string, load: number, peakGiB: number, rest: string) =>
      console.log(
        `${manifest.dtype.padEnd(6)} ${backend.padEnd(11)} ${load.toFixed(1).padStart(7)} ${peakGiB.toFixed(2).padStart(13)} ${String(r).padStart(3)} ${rest}`,
      );
    line(
      "node",
      node.loadSeconds,
      node.peakBytes / 2 ** 30,
      `${n.prefillSeconds.toFixed(2).padStart(10)} ${n.decodeSecondsPerStep.toFixed(2).padStart(15)} ${nodeWhole.toFixed(1).padStart(8)}`,
    );
    if (w) {
      // Whole-generation time per token: the prefill is in it, so this overstates decode a bit.
      line(
        "wasm (node)",
        wasm.loadSeconds,
        wasm.maxRssGiB,
        `${"".padStart(10)} ${`~${(w.seconds / w.generated).toFixed(2)}`.padStart(15)} ${w.seconds.toFixed(1).padStart(8)} ${(nodeWhole / w.seconds).toFixed(3).padStart(10)}`,
      );
    }
  }
}
console.log(`load ${loadavg()[0].toFixed(1)} at end`);
