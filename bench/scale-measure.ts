// One engine setting of bench/scale.ts in a process of its own (so its peak RSS is its own): opens
// a checkpoint on onnxruntime-node or onnxruntime-web WASM, times decode steps per (r, batch) with
// each graph's share, and optionally forwards and decode steps at a few prefix lengths (cached vs
// recompute). Prints one JSON line. Run by bench/scale.ts:
//   npx tsx bench/scale-measure.ts '<JSON MeasureSpec>'
import { readFileSync } from "node:fs";
import { readCheckpoint } from "../model/checkpoint.ts";
import { openWasmModelInNode } from "../model/testing/wasm-in-node.ts";
import { openNodeModel } from "../runner/engine/node-sessions.ts";
import type { RecurrentModel } from "../runner/engine/recurrent-model.ts";
import type { MeasuredShape } from "./scale-math.ts";

export interface MeasureSpec {
  backend: "node" | "wasm";
  dir: string;
  threads: number;
  /** r's timed directly; others in `derive` come from per-graph times (prelude + r·block + coda). */
  recurrences: number[];
  derive: number[];
  batches: number[];
  promptTokens: number;
  /** Decode steps timed per (r, batch), after the prefill. */
  steps: number;
  /**
   * A forward (no cache) at each prefix length, then the median of 3 decode steps on its cache,
   * batch 1, per r; the median of `repeats` such runs.
   */
  prefixes: { recurrences: number[]; lengths: number[]; repeats: number } | null;
}

/** Milliseconds of one model call, split by graph. */
export interface GraphMs {
  prelude: number;
  block: number;
  blockCalls: number;
  coda: number;
}

/** `stepSeconds` is the median timed decode step. */
export interface ShapeTimes extends MeasuredShape {
  /** True when computed from another r's per-graph times rather than timed at this r. */
  derived: boolean;
  steps: number;
}

export interface MeasureResult {
  backend: string;
  threads: number;
  /** Threads of this process at the end (shows whether a thread pool really started). */
  osThreads: number | null;
  loadSeconds: number;
  shapes: ShapeTimes[];
  /** Peak RSS (GiB) after loading and after each batch size's shapes (maxRSS only grows). */
  peakGiB: { afterLoad: number; byBatch: Record<number, number> };
  prefixes: {
    r: number;
    forward: { n: number; seconds: number }[];
    decode: { t: number; seconds: number }[];
  }[];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const maxRssGiB = () => process.resourceUsage().maxRSS / 2 ** 20;
const osThreads = () => {
  try {
    return Number(/Threads:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? NaN);
  } catch {
    return null;
  }
};

/** Wraps each session's `run` so every call's time is added to `ms` under its graph's name. */
function instrument(model: RecurrentModel, ms: GraphMs): void {
  for (const name of ["prelude", "block", "coda"] as const) {
    const session = model.sessions[name];
    if (!session) continue;
    const run = session.run.bind(session);
    const timed = async (...args: Parameters<typeof run>) => {
      const started = performance.now();
      const out = await run(...args);
      ms[name] += performance.now() - started;
      if (name === "block") ms.blockCalls++;
      return out;
    };
    Object.assign(session, { run: timed });
  }
}

/** Distinct token ids per row (inside every vocabulary the presets use). */
const tokenIds = (batch: number, n: number, offset: number) =>
  BigInt64Array.from({ length: batch * n }, (_, i) => BigInt(3 + ((i * 31 + offset * 7) % 4000)));

/** Runs one step of `seq` new tokens on `cache`; returns seconds and the call's per-graph ms. */
async function timedStep(
  model: RecurrentModel,
  ms: GraphMs,
  r: number,
  batch: number,
  seq: number,
  cache: ReturnType<RecurrentModel["newCache"]>,
): Promise<{ seconds: number; graphs: GraphMs }> {
  const past = cache.length;
  Object.assign(ms, { prelude: 0, block: 0, blockCalls: 0, coda: 0 });
  const started = performance.now();
  await model.step(
    {
      batch,
      inputIds: tokenIds(batch, seq, past),
      attentionMask: new BigInt64Array(batch * (past + seq)).fill(1n),
      positionIds: BigInt64Array.from({ length: batch * seq }, (_, i) => BigInt(past + (i % seq))),
    },
    r,
    cache,
    1,
  );
  return { seconds: (performance.now() - started) / 1000, graphs: { ...ms } };
}

/** A call's time had it run the block `r` times instead of the times it did. */
const atR = (g: GraphMs, r: number) =>
  (g.prelude + (g.block / Math.max(1, g.blockCalls)) * r + g.coda) / 1000;

export async function measure(spec: MeasureSpec): Promise<MeasureResult> {
  const started = performance.now();
  const checkpoint = await readCheckpoint(spec.dir, { verify: false });
  const model =
    spec.backend === "node"
      ? await openNodeModel(checkpoint, { threads: spec.threads })
      : await openWasmModelInNode(checkpoint, { threads: spec.threads });
  const loadSeconds = (performance.now() - started) / 1000;
  const ms: GraphMs = { prelude: 0, block: 0, blockCalls: 0, coda: 0 };
  instrument(model, ms);
  const peakGiB = { afterLoad: maxRssGiB(), byBatch: {} as Record<number, number> };
  const shapes: ShapeTimes[] = [];
  // One untimed call first, so no timed prefill pays for the sessions' first-run allocations.
  if (spec.batches.length > 0 || spec.prefixes) {
    const warm = model.newCache(1, "full", 1);
    await timedStep(model, ms, 1, 1, 2, warm);
    model.releaseCache(warm);
  }
  for (const batch of spec.batches) {
    for (const r of spec.recurrences) {
      const cache = model.newCache(batch, "full", r);
      const prefill = await timedStep(model, ms, r, batch, spec.promptTokens, cache);
      const steps = [];
      for (let k = 0; k < spec.steps; k++)
        steps.push(await timedStep(model, ms, r, batch, 1, cache));
      model.releaseCache(cache);
      const step = steps.sort((a, b) => a.seconds - b.seconds)[Math.floor(steps.length / 2)];
      const context = spec.promptTokens + (spec.steps - 1) / 2;
      shapes.push({
        r,
        batch,
        derived: false,
        promptTokens: spec.promptTokens,
        prefillSeconds: prefill.seconds,
        stepSeconds: step.seconds,
        steps: spec.steps,
        context,
      });
      for (const other of spec.derive) {
        if (spec.recurrences.includes(other) || r !== spec.recurrences[0]) continue;
        shapes.push({
          r: other,
          batch,
          derived: true,
          promptTokens: spec.promptTokens,
          prefillSeconds: atR(prefill.graphs, other),
          stepSeconds: atR(step.graphs, other),
          steps: spec.steps,
          context,
        });
      }
    }
    peakGiB.byBatch[batch] = maxRssGiB();
  }
  const prefixes: MeasureResult["prefixes"] = [];
  for (const r of spec.prefixes?.recurrences ?? []) {
    const forward = [];
    const decode = [];
    for (const n of spec.prefixes!.lengths) {
      const times: [number, number][] = [];
      for (let k = 0; k < spec.prefixes!.repeats; k++) {
        const cache = model.newCache(1, "full", r);
        const prefill = await timedStep(model, ms, r, 1, n, cache);
        // The median of three steps: the first after a prefill can pay for new buffer shapes.
        const steps = [];
        for (let k = 0; k < 3; k++)
          steps.push((await timedStep(model, ms, r, 1, 1, cache)).seconds);
        times.push([prefill.seconds, median(steps)]);
        model.releaseCache(cache);
      }
      forward.push({ n, seconds: median(times.map((t) => t[0])) });
      decode.push({ t: n + 1, seconds: median(times.map((t) => t[1])) });
    }
    prefixes.push({ r, forward, decode });
  }
  return {
    backend: spec.backend,
    threads: spec.threads,
    osThreads: osThreads(),
    loadSeconds,
    shapes,
    peakGiB,
    prefixes,
  };
}

if (process.argv[1] === import.meta.filename) {
  const result = await measure(JSON.parse(process.argv[2]) as MeasureSpec);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}
