// The paper-scale shape (Llama-3.2-1B, split 4,8,4: 1.24B parameters) on this machine's CPUs, in
// four sections, each a table (plus one JSON line with every figure at the end):
//  1. decode tokens/s and peak RSS on onnxruntime-node fp32 and q4 and onnxruntime-web WASM q4
//     (inside Node: the browser runner's kernels), at r = 1, 4 and batch 1, 8, each engine setting
//     in a process of its own so its peak RSS is its own. WASM q4 dequantizes every weight on
//     every call (10–20 s a step on a loaded 2-core machine), so it times one step at r = 1 and
//     derives r = 4 from the per-graph times of that step (prelude + 4 × block + coda), marked `*`.
//  2. weight bytes streamed per second (the bytes one step reads, the block's r times, gathered
//     embedding rows left out, ÷ step time) against this machine's memory bandwidth, measured here
//     by a large typed-array copy and sum on 1 and 2 threads, before and after the engines (best).
//  3. KV cache vs recompute for 128 generated tokens after a 32-token prompt: at 1.2B from a
//     no-cache forward and a cached decode step timed at a few prefix lengths (forward fitted as a
//     quadratic in n, decode as a line, then summed over the 128 tokens); on `small` (2,4,2)
//     measured in full, beside the same integration for comparison. Beside each 1.2B ratio, its
//     bound on this machine: decode steps at the bandwidth floor against the same recompute.
//  4. the wall time of a whole GSM8K run (1,319 documents, r = 1, 4, 16, 32, as `evals local`
//     runs it: batches by prompt length, finished rows dropped, one prefill per batch at the
//     largest r) on this machine at batch 1 and 8 from the step times of section 1, and in
//     GPU-hours from the bandwidth bound (weights + KV bytes per step ÷ a GPU's bandwidth, a
//     prefill at the GPU's peak FLOP/s). Prompt lengths are the task's real prompts; generation
//     lengths a model that writes each document's reference solution and then the stop string.
// The checkpoints are made once (each ~5 min, 5–6 GB peak RSS) and passed in:
//   evals export --random llama-3.2-1b --split 4,8,4 --fidelity-prompts 0 --out FP32_DIR
//   evals export --random llama-3.2-1b --split 4,8,4 --quant q4 --fidelity-prompts 0 --out Q4_DIR
// Usage: npx tsx bench/scale.ts --fp32 FP32_DIR --q4 Q4_DIR [--quick] [--no-wasm]
//   [--node-threads 1,2] [--wasm-threads 1,2] [--steps 3] [--wasm-steps 1] [--prompt-tokens 8]
//   [--kv-lengths 32,96,160] [--task gsm8k_cot_sean] [--tokenizer DIR] [--gpu-name NAME]
//   [--gpu-bandwidth 3.35e12] [--gpu-tflops 989] [--label TEXT]
// Either checkpoint may be left out (its rows are skipped). --quick: node and WASM at 1 thread
// only (fewer steps or prefix lengths make the r = 1 vs 4 split and the recompute fit noise). --tokenizer: a folder with the tokenizer.json of the model
// family meant (the random checkpoints' byte tokenizer would count one token per byte), or
// `llama3` for Llama 3's own (bench/llama3-lengths.ts), the paper's; the default, stories260k's
// 512-piece BPE, counts more tokens than Llama 3's would, so its lengths overstate the run (the
// table prints characters per token).
// The default invocation took 7–10 minutes on a 2-core machine shared with other jobs (load 3–12);
// --quick about 3 minutes.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { readCheckpoint } from "../model/checkpoint.ts";
import { exportModel } from "../model/export-model.ts";
import { flopsForSample } from "../model/flops.ts";
import type { Manifest } from "../model/manifest.ts";
import { stories260kDir } from "../model/testing/stories.ts";
import { generateBatch } from "../runner/engine/generate.ts";
import { openNodeModel } from "../runner/engine/node-sessions.ts";
import { PromptTokenizer } from "../runner/engine/tokenizer.ts";
import { taskLengths } from "./gsm8k-lengths.ts";
import { measureBandwidth, streamRate } from "./memory-bandwidth.ts";
import { timeRecompute } from "./recompute.ts";
import {
  bandwidthBoundCosts,
  cacheBound,
  cachedVsRecompute,
  type DocLengths,
  measuredCosts,
  projectRun,
  type StepBytes,
  weightBytesAt,
} from "./scale-math.ts";
import { type MeasureResult, type MeasureSpec, measure } from "./scale-measure.ts";
import { stepBytesOf } from "./weight-bytes.ts";

const { values } = parseArgs({
  options: {
    fp32: { type: "string" },
    q4: { type: "string" },
    quick: { type: "boolean", default: false },
    "no-wasm": { type: "boolean", default: false },
    "node-threads": { type: "string" },
    "wasm-threads": { type: "string" },
    steps: { type: "string" },
    "wasm-steps": { type: "string", default: "1" },
    "prompt-tokens": { type: "string", default: "8" },
    "kv-lengths": { type: "string" },
    task: { type: "string", default: "gsm8k_cot_sean" },
    tokenizer: { type: "string", default: stories260kDir },
    "gpu-name": { type: "string", default: "H100 SXM" },
    "gpu-bandwidth": { type: "string", default: "3.35e12" },
    "gpu-tflops": { type: "string", default: "989" },
    label: { type: "string" },
  },
});
if (!values.fp32 && !values.q4) {
  console.error("usage: npx tsx bench/scale.ts --fp32 DIR --q4 DIR [options] (see the header)");
  process.exit(2);
}
const list = (text: string) => text.split(",").map(Number);
const quick = values.quick;
const NODE_THREADS = list(values["node-threads"] ?? (quick ? "1" : "1,2"));
const WASM_THREADS = list(values["wasm-threads"] ?? (quick ? "1" : "1,2"));
const STEPS = Number(values.steps ?? "3");
const KV_LENGTHS = list(values["kv-lengths"] ?? "32,96,160");
const PROMPT = Number(values["prompt-tokens"]);
const BATCHES = [1, 8];
const RS = [1, 4];
const SWEEP = [1, 4, 16, 32];
const KV_PROMPT = 32;
const KV_NEW = 128;
const GPU = {
  name: values["gpu-name"],
  bandwidth: Number(values["gpu-bandwidth"]),
  flops: Number(values["gpu-tflops"]) * 1e12,
};

const load = () => loadavg()[0];
const startLoad = load();
const label =
  values.label ??
  (startLoad > cpus().length / 2
    ? `loaded machine (load ${startLoad.toFixed(1)} on ${cpus().length} cores at start)`
    : `quiet machine (load ${startLoad.toFixed(1)} on ${cpus().length} cores at start)`);
const started = performance.now();
console.log(
  `bench/scale.ts — ${label}; ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM; ${cpus()[0]?.model ?? "?"}`,
);

// ---- the machine's bandwidth and each checkpoint's bytes per step
const bandwidth = await measureBandwidth(2);
const gbs = (x: number) => (x / 1e9).toFixed(1);
console.log(
  `memory bandwidth: copy ${gbs(bandwidth.copy[1])} GB/s (1 thread), ${gbs(bandwidth.copy[2])} (2); ` +
    `read ${gbs(bandwidth.read[1])} (1), ${gbs(bandwidth.read[2])} (2); best ${gbs(bandwidth.best)} GB/s`,
);
const checkpoints = new Map<"fp32" | "q4", { dir: string; manifest: Manifest; bytes: StepBytes }>();
for (const dtype of ["fp32", "q4"] as const) {
  const dir = values[dtype];
  if (!dir) continue;
  const { manifest } = await readCheckpoint(dir, { verify: false });
  checkpoints.set(dtype, { dir, manifest, bytes: await stepBytesOf(dir) });
}
const anyManifest = [...checkpoints.values()][0].manifest;
const size = `${(anyManifest.parameters.total / 1e9).toFixed(2)}B`;

// ---- section 1 (and the 1.2B half of 3): one child process per engine setting
interface Setting {
  name: string;
  dtype: "fp32" | "q4";
  result: MeasureResult;
}
const settings: Setting[] = [];
const plan: { name: string; dtype: "fp32" | "q4"; spec: MeasureSpec }[] = [];
for (const dtype of ["fp32", "q4"] as const) {
  const checkpoint = checkpoints.get(dtype);
  if (!checkpoint) continue;
  for (const [i, threads] of NODE_THREADS.entries()) {
    plan.push({
      name: `node ${dtype} ${threads}t`,
      dtype,
      spec: {
        backend: "node",
        dir: checkpoint.dir,
        threads,
        recurrences: RS,
        derive: [],
        batches: BATCHES,
        promptTokens: PROMPT,
        steps: STEPS,
        // Cached vs recompute at 1.2B: each precision at the first thread count.
        prefixes: i === 0 ? { recurrences: RS, lengths: KV_LENGTHS, repeats: 1 } : null,
      },
    });
  }
}
const q4 = checkpoints.get("q4");
if (q4 && !values["no-wasm"]) {
  for (const threads of WASM_THREADS) {
    plan.push({
      name: `wasm q4 ${threads}t`,
      dtype: "q4",
      spec: {
        backend: "wasm",
        dir: q4.dir,
        threads,
        recurrences: [RS[0]],
        derive: RS.slice(1),
        batches: BATCHES,
        promptTokens: PROMPT,
        steps: Number(values["wasm-steps"]),
        prefixes: null,
      },
    });
  }
}
for (const { name, dtype, spec } of plan) {
  const t0 = performance.now();
  const child = spawnSync(
    process.execPath,
    [...process.execArgv, join(import.meta.dirname, "scale-measure.ts"), JSON.stringify(spec)],
    {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      maxBuffer: 2 ** 24,
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: "skip" },
    },
  );
  if (child.status !== 0) {
    console.error(
      `${name}: the measuring process failed (exit ${child.status}); its rows are left out`,
    );
    continue;
  }
  settings.push({ name, dtype, result: JSON.parse(child.stdout.trim().split("\n").at(-1)!) });
  console.log(
    `  ${name} measured in ${((performance.now() - t0) / 1000).toFixed(0)} s (load ${load().toFixed(1)})`,
  );
}

// Measured again after the engines: another process's burst can depress one measurement, and
// the reference below is the best the machine showed.
const bandwidthAfter = await measureBandwidth(2);
const reference = Math.max(bandwidth.best, bandwidthAfter.best);
console.log(
  `memory bandwidth after: copy ${gbs(bandwidthAfter.copy[1])} GB/s (1 thread), ${gbs(bandwidthAfter.copy[2])} (2); ` +
    `read ${gbs(bandwidthAfter.read[1])} (1), ${gbs(bandwidthAfter.read[2])} (2); reference ${gbs(reference)} GB/s`,
);
const pad = (text: string | number, width: number) => String(text).padStart(width);
const f = (x: number, digits = 2) => x.toFixed(digits);
console.log(
  `\n1. Decode, ${size} (${anyManifest.name}), prompt ${PROMPT} tokens; median of ${STEPS} timed steps ` +
    `(WASM ${values["wasm-steps"]}); ${label}. * = derived from per-graph times at r = 1`,
);
console.log(
  "setting        load s  osThr  peak RSS GiB (load/b1/b8)   r  batch  prefill s  s/step   tok/s  wasm÷node q4",
);
for (const { name, result } of settings) {
  const peak = result.peakGiB;
  for (const shape of result.shapes) {
    const node = settings
      .find((s) => s.name === name.replace("wasm", "node"))
      ?.result.shapes.find((x) => x.r === shape.r && x.batch === shape.batch);
    console.log(
      [
        name.padEnd(13),
        pad(f(result.loadSeconds, 1), 7),
        pad(result.osThreads ?? "?", 6),
        pad(`${f(peak.afterLoad)}/${f(peak.byBatch[1] ?? 0)}/${f(peak.byBatch[8] ?? 0)}`, 27),
        pad(`${shape.r}${shape.derived ? "*" : " "}`, 4),
        pad(shape.batch, 6),
        pad(f(shape.prefillSeconds), 10),
        pad(f(shape.stepSeconds, 3), 7),
        pad(f(shape.batch / shape.stepSeconds, 3), 7),
        name.startsWith("wasm") && node ? pad(f(node.stepSeconds / shape.stepSeconds, 3), 10) : "",
      ].join(" "),
    );
  }
}

// ---- section 2
console.log(
  `\n2. Weights streamed: bytes a decode step reads (prelude + r × block + coda, embedding table ` +
    `gathered, not streamed) ÷ step time, against the measured ${gbs(reference)} GB/s; ${label}`,
);
console.log("setting          r  batch  GB/step  steps/s   GB/s   of bandwidth");
const streamed: Record<string, number> = {};
for (const { name, dtype, result } of settings) {
  for (const shape of result.shapes) {
    const bytes = weightBytesAt(checkpoints.get(dtype)!.bytes, shape.r);
    const rate = bytes / shape.stepSeconds;
    streamed[`${name}/r${shape.r}/b${shape.batch}`] = rate;
    console.log(
      [
        name.padEnd(14),
        pad(`${shape.r}${shape.derived ? "*" : " "}`, 3),
        pad(shape.batch, 6),
        pad(f(bytes / 1e9), 8),
        pad(f(1 / shape.stepSeconds, 3), 8),
        pad(f(rate / 1e9), 6),
        pad(`${f((100 * rate) / reference, 1)}%`, 14),
      ].join(" "),
    );
  }
}
if (settings.some((s) => s.name.startsWith("wasm"))) {
  console.log(
    "   (WASM counts the q4 bytes it reads; it also writes and reads an fp32 copy of each weight per call)",
  );
}

// ---- section 3
console.log(
  `\n3. KV cache vs recompute: ${KV_NEW} generated tokens after a ${KV_PROMPT}-token prompt, batch 1, greedy; ${label}`,
);
console.log("model                    r   cached s   recompute s   recompute÷cached   bound   how");
const kv: Record<string, unknown>[] = [];
for (const setting of settings.filter((s) => s.result.prefixes.length > 0)) {
  for (const prefix of setting.result.prefixes) {
    const estimate = cachedVsRecompute(prefix, KV_PROMPT, KV_NEW);
    // The bound: every decode step at the floor of streaming its weights at the rate this many
    // threads can read memory (one core streams far less than the machine's best).
    const threads = setting.result.threads;
    const floor =
      weightBytesAt(checkpoints.get(setting.dtype)!.bytes, prefix.r) /
      Math.max(streamRate(bandwidth, threads), streamRate(bandwidthAfter, threads));
    const bound = cacheBound(prefix, KV_PROMPT, KV_NEW, floor);
    kv.push({ model: size, setting: setting.name, r: prefix.r, ...estimate, bound, prefix });
    console.log(
      `${`${size} ${setting.name}`.padEnd(22)} ${pad(prefix.r, 3)} ${pad(f(estimate.cached, 1), 10)} ${pad(f(estimate.recompute, 1), 13)} ${pad(f(estimate.ratio, 1), 18)} ${pad(f(bound.ratio, 1), 7)}   integrated from n = ${KV_LENGTHS.join(",")}`,
    );
  }
}
console.log(
  "   bound: the ratio if every cached decode step read its weights as fast as the setting's threads read memory " +
    "(best of the sum and half the copy above); no cache exceeds it here: recompute is compute-bound, a cached step bandwidth-bound",
);
const smallRoot = mkdtempSync(join(tmpdir(), "evals-bench-scale-"));
try {
  const dir = join(smallRoot, "small");
  await exportModel({ random: "small", out: dir, split: [2, 4, 2], seed: 1 });
  const model = await openNodeModel(await readCheckpoint(dir), { threads: 1 });
  const promptIds = Array.from({ length: KV_PROMPT }, (_, i) => 3 + ((i * 31) % 4000));
  const integrated = await measure({
    backend: "node",
    dir,
    threads: 1,
    recurrences: [],
    derive: [],
    batches: [],
    promptTokens: 0,
    steps: 0,
    prefixes: { recurrences: RS, lengths: KV_LENGTHS, repeats: 3 },
  });
  for (const r of RS) {
    const config = {
      recurrences: r,
      maxNewTokens: KV_NEW,
      kv: "full" as const,
      stateInit: "zeros" as const,
      stopIds: [],
      stopStrings: [],
    };
    const requests = [{ promptIds, seed: 0 }];
    await generateBatch(model, requests, { ...config, maxNewTokens: 2 }, () => "");
    const t0 = performance.now();
    await generateBatch(model, requests, config, () => "");
    const cached = (performance.now() - t0) / 1000;
    const recompute = await timeRecompute(model, promptIds, r, KV_NEW);
    const estimate = cachedVsRecompute(
      integrated.prefixes.find((p) => p.r === r)!,
      KV_PROMPT,
      KV_NEW,
    );
    kv.push({ model: "small", setting: "node fp32 1t", r, cached, recompute, estimate });
    console.log(
      `${"small 2,4,2 node 1t".padEnd(22)} ${pad(r, 3)} ${pad(f(cached, 2), 10)} ${pad(f(recompute, 2), 13)} ${pad(f(recompute / cached, 1), 18)} ${pad("", 7)}   measured in full (integrated: ${f(estimate.ratio, 1)}×)`,
    );
  }
} finally {
  rmSync(smallRoot, { recursive: true, force: true });
}

// ---- section 4
const read = (name: string) => JSON.parse(readFileSync(join(values.tokenizer, name), "utf8"));
const tokenizer =
  values.tokenizer === "llama3"
    ? (await import("./llama3-lengths.ts")).llama3Lengths
    : new PromptTokenizer(read("tokenizer.json"), read("tokenizer_config.json"), {
        bos_token_id: 1,
        eos_token_ids: [2],
        pad_token_id: null,
        add_bos_token: true,
      });
const lengths = await taskLengths(values.task, tokenizer);
const docs = lengths.docs;
const capped: DocLengths[] = docs.map((d) => ({ ...d, generated: lengths.maxGenToks }));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(
  `\n4. A whole ${values.task} run: ${docs.length} documents (${lengths.numFewshot}-shot), r = ${SWEEP.join(", ")} ` +
    `swept as evals local does (one prefill per batch at r = ${Math.max(...SWEEP)}); prompts ${Math.min(...docs.map((d) => d.prompt))}–${Math.max(...docs.map((d) => d.prompt))} tokens ` +
    `(mean ${f(mean(docs.map((d) => d.prompt)), 0)}), generation mean ${f(mean(docs.map((d) => d.generated)), 0)} ` +
    `(reference solution + "${lengths.stop}", cap ${lengths.maxGenToks}) in the tokenizer of ${values.tokenizer} ` +
    `(${f(lengths.charsPerToken)} characters per token)`,
);
console.log(
  `   this machine, ${label}: step times of section 1, affine in r from r = 1, 4 (r = 16, 32 extrapolated), ` +
    `rows between batch 1 and 8 interpolated, longer contexts' KV read at ${gbs(reference)} GB/s, prefill proportional to positions`,
);
const days = (s: number) => f(s / 86400, 1);
console.log(
  `setting        batch   prefill d  ${SWEEP.map((r) => `r=${r} d`.padStart(8)).join(" ")}    total d   never stopping (${lengths.maxGenToks} tokens) d`,
);
const projections: Record<string, unknown>[] = [];
for (const { name, dtype, result } of settings) {
  const costs = measuredCosts(result.shapes, checkpoints.get(dtype)!.bytes, reference);
  for (const batch of BATCHES) {
    const run = projectRun(docs, batch, SWEEP, costs);
    const cap = projectRun(capped, batch, SWEEP, costs);
    projections.push({
      where: "here",
      setting: name,
      batch,
      ...run,
      decode: Object.fromEntries(run.decode),
      capTotal: cap.total,
    });
    console.log(
      `${name.padEnd(14)} ${pad(batch, 5)} ${pad(days(run.prefill), 11)}  ${SWEEP.map((r) => pad(days(run.decode.get(r)!), 8)).join(" ")} ${pad(days(run.total), 10)} ${pad(days(cap.total), 12)}`,
    );
  }
}
console.log(
  `   ${GPU.name} bound (assumed ${f(GPU.bandwidth / 1e12)} TB/s, ${f(GPU.flops / 1e12, 0)} TFLOP/s): a decode step reads the weights ` +
    "once per batch and each row's float32 KV cache; a prefill reads the weights once or does its FLOPs, whichever is longer; no kernel overheads",
);
console.log(
  `weights        batch   prefill h  ${SWEEP.map((r) => `r=${r} h`.padStart(8)).join(" ")}    total h   never stopping h`,
);
for (const [dtype, { manifest, bytes }] of checkpoints) {
  const costs = bandwidthBoundCosts(
    bytes,
    GPU.bandwidth,
    GPU.flops,
    (r, rows, length) => rows * flopsForSample(manifest, r, length, 0),
  );
  for (const batch of BATCHES) {
    const run = projectRun(docs, batch, SWEEP, costs);
    const cap = projectRun(capped, batch, SWEEP, costs);
    const hours = (s: number) => f(s / 3600, 2);
    projections.push({
      where: GPU.name,
      dtype,
      batch,
      ...run,
      decode: Object.fromEntries(run.decode),
      capTotal: cap.total,
    });
    console.log(
      `${dtype.padEnd(14)} ${pad(batch, 5)} ${pad(hours(run.prefill), 11)}  ${SWEEP.map((r) => pad(hours(run.decode.get(r)!), 8)).join(" ")} ${pad(hours(run.total), 10)} ${pad(hours(cap.total), 12)}`,
    );
  }
}

const wall = (performance.now() - started) / 1000;
console.log(`\nwall time ${f(wall / 60, 1)} min; load ${load().toFixed(1)} at end`);
console.log(
  JSON.stringify({
    bench: "scale",
    label,
    loadAtStart: startLoad,
    loadAtEnd: load(),
    wallSeconds: wall,
    bandwidth,
    bandwidthAfter,
    stepBytes: Object.fromEntries([...checkpoints].map(([k, v]) => [k, v.bytes])),
    settings: settings.map(({ name, result }) => ({ name, ...result })),
    streamed,
    kv,
    gpu: GPU,
    task: { name: values.task, tokenizer: values.tokenizer, documents: docs.length },
    projections,
  }),
);
