// The 1.2B shape as i8 (DynamicQuantizeMatMul) beside q4 (MatMulNBits) on the CPU backends:
// onnxruntime-node and onnxruntime-web's WASM backend inside Node (the browser runner's kernels),
// the same graphs, each in a child process of its own so its peak RSS is its own. Per r: load
// time, a warm-up generation (the first run of a session pays one-time costs), then a greedy
// generation whose prefill and every decode step are timed alone (the median step is the decode
// time: the machine is shared); and WASM ÷ node. Headless Chromium's WASM runner on the same checkpoint:
//   npx tsx bench/browser-1b.ts --model DIR --no-node --threads 1 --new-tokens 4
// Make the checkpoints first (about 5 min and 5–6 GB each):
//   evals export --random llama-3.2-1b --split 4,8,4 --quant i8 --fidelity-prompts 0 --out DIR
//   npx tsx bench/i8-1b.ts --models I8_DIR,Q4_DIR [--recurrences 1,4] [--tokens 4] [--threads 1]
//     [--backends node,wasm]
import { spawnSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { readCheckpoint } from "../model/checkpoint.ts";
import { openWasmModelInNode } from "../model/testing/wasm-in-node.ts";
import { openNodeModel } from "../runner/engine/node-sessions.ts";

const { values } = parseArgs({
  options: {
    models: { type: "string" },
    recurrences: { type: "string", default: "1,4" },
    tokens: { type: "string", default: "4" },
    threads: { type: "string", default: "1" },
    backends: { type: "string", default: "node,wasm" },
    // Internal: one backend's measurement of one checkpoint, in a child process.
    child: { type: "string" },
  },
});
if (!values.models) {
  console.error("usage: npx tsx bench/i8-1b.ts --models I8_DIR,Q4_DIR (see the header)");
  process.exit(2);
}
const TOKENS = Number(values.tokens);
const THREADS = Number(values.threads);
const R = values.recurrences.split(",").map(Number);
// The 8-token prompt of bench/scale.ts (ids inside every Llama-3 vocabulary).
const PROMPT = [1, 791, 4062, 14198, 39935, 35308, 927, 279];

interface Row {
  r: number;
  prefillSeconds: number;
  decodeSecondsPerToken: number;
  tokens: string;
}
interface Measurement {
  backend: string;
  dtype: string;
  loadSeconds: number;
  peakRssGiB: number;
  rows: Row[];
}

async function measure(dir: string, backend: "node" | "wasm"): Promise<Measurement> {
  const started = performance.now();
  const checkpoint = await readCheckpoint(dir, { verify: false });
  const model =
    backend === "node"
      ? await openNodeModel(checkpoint, { threads: THREADS })
      : await openWasmModelInNode(checkpoint, { threads: THREADS });
  const loadSeconds = (performance.now() - started) / 1000;
  const vocab = checkpoint.manifest.architecture.vocab_size;
  const step = (ids: number[], past: number) => ({
    batch: 1,
    inputIds: BigInt64Array.from(ids.map(BigInt)),
    attentionMask: new BigInt64Array(past + ids.length).fill(1n),
    positionIds: BigInt64Array.from(ids.map((_, i) => BigInt(past + i))),
  });
  const argmax = (logits: Float32Array) => {
    let best = 0;
    for (let i = 1; i < vocab; i++) if (logits[i] > logits[best]) best = i;
    return best;
  };
  /** Greedy: one prefill of the prompt, then `TOKENS` decode steps, each timed alone. */
  const generate = async (r: number) => {
    const cache = model.newCache(1, "full", r);
    let t = performance.now();
    let next = argmax((await model.step(step(PROMPT, 0), r, cache, 1)).data as Float32Array);
    const prefillSeconds = (performance.now() - t) / 1000;
    const ids = [next];
    const steps: number[] = [];
    for (let i = 0; i < TOKENS; i++) {
      t = performance.now();
      const logits = await model.step(step([next], PROMPT.length + i), r, cache, 1);
      steps.push((performance.now() - t) / 1000);
      next = argmax(logits.data as Float32Array);
      ids.push(next);
    }
    return { prefillSeconds, steps, ids };
  };
  const rows: Row[] = [];
  for (const r of R) {
    await generate(r); // warm-up: the first run of a session pays one-time costs
    const { prefillSeconds, steps, ids } = await generate(r);
    rows.push({
      r,
      prefillSeconds,
      // The median step: the machine is shared, and a slow step is another job's.
      decodeSecondsPerToken: steps.sort((a, b) => a - b)[Math.floor(steps.length / 2)],
      tokens: ids.join(" "),
    });
  }
  return {
    backend,
    dtype: checkpoint.manifest.dtype,
    loadSeconds,
    peakRssGiB: process.resourceUsage().maxRSS / 2 ** 20,
    rows,
  };
}

if (values.child) {
  const [backend, dir] = values.child.split(":");
  process.stdout.write(`${JSON.stringify(await measure(dir, backend as "node" | "wasm"))}\n`);
  process.exit(0);
}

function child(backend: string, dir: string): Measurement {
  const args = [
    ...process.execArgv,
    import.meta.filename,
    ...["--models", dir, "--recurrences", values.recurrences, "--tokens", String(TOKENS)],
    ...["--threads", String(THREADS), "--child", `${backend}:${dir}`],
  ];
  const run = spawnSync(process.execPath, args, {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: "skip" },
  });
  if (run.status !== 0) throw new Error(`${backend} on ${dir} failed (${run.status})`);
  return JSON.parse(run.stdout.trim().split("\n").at(-1)!);
}

console.log(
  `${cpus().length} cores, load ${loadavg()[0].toFixed(1)} at start (shared with other jobs); ` +
    `prompt 8 tokens, ${TOKENS} generated, batch 1, ${THREADS} thread(s)`,
);
console.log("dtype  backend  load s  peak RSS GiB   r  prefill s  decode s/token  wasm÷node");
const all: Measurement[] = [];
for (const dir of values.models.split(",")) {
  for (const backend of values.backends.split(",")) {
    const m = child(backend, dir);
    all.push(m);
    for (const row of m.rows) {
      const node = all
        .find((x) => x.backend === "node" && x.dtype === m.dtype)
        ?.rows.find((x) => x.r === row.r);
      const ratio =
        backend === "wasm" && node ? node.decodeSecondsPerToken / row.decodeSecondsPerToken : null;
      console.log(
        [
          m.dtype.padEnd(6),
          backend.padEnd(7),
          m.loadSeconds.toFixed(1).padStart(7),
          m.peakRssGiB.toFixed(2).padStart(13),
          String(row.r).padStart(3),
          row.prefillSeconds.toFixed(2).padStart(10),
          row.decodeSecondsPerToken.toFixed(2).padStart(15),
          ratio === null ? "" : ratio.toFixed(3).padStart(10),
        ].join(" "),
      );
    }
  }
}
console.log(`load ${loadavg()[0].toFixed(1)} at end`);
console.log(
  `tokens (r = ${R[0]}): ${all.map((m) => `${m.dtype} ${m.backend}: [${m.rows[0].tokens}]`).join("; ")}`,
);
