// Engine throughput on onnxruntime-node: tokens/s and block iterations/s against r, batch size and
// threads, the cost of recomputing instead of caching, and time per token against the FLOPs ratio.
// Usage: npx tsx bench/engine.ts [--new-tokens 32] [--prompt-tokens 32]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { readCheckpoint } from "../model/checkpoint.ts";
import { exportModel } from "../model/export-model.ts";
import { flopsForSample } from "../model/flops.ts";
import { generateBatch } from "../runner/engine/generate.ts";
import { openNodeModel } from "../runner/engine/node-sessions.ts";
import type { RecurrentModel } from "../runner/engine/recurrent-model.ts";

const { values } = parseArgs({
  options: {
    "new-tokens": { type: "string", default: "32" },
    "prompt-tokens": { type: "string", default: "32" },
  },
});
const NEW = Number(values["new-tokens"]);
const PROMPT = Number(values["prompt-tokens"]);

const dir = mkdtempSync(join(tmpdir(), "evals-bench-engine-"));
const out = join(dir, "small");
await exportModel({ random: "small", out, split: [2, 4, 2], seed: 1 });
const checkpoint = await readCheckpoint(out);
const prompt = (b: number) =>
  Array.from({ length: PROMPT }, (_, i) => 3 + ((i * 31 + b * 7) % 4000));

async function timeGeneration(
  model: RecurrentModel,
  batch: number,
  r: number,
  newTokens = NEW,
): Promise<number> {
  const requests = Array.from({ length: batch }, (_, b) => ({ promptIds: prompt(b), seed: b }));
  const config = {
    recurrences: r,
    maxNewTokens: newTokens,
    kv: "full" as const,
    stateInit: "zeros" as const,
    stopIds: [],
    stopStrings: [],
  };
  await generateBatch(model, requests.slice(0, 1), { ...config, maxNewTokens: 2 }, () => "");
  const started = performance.now();
  await generateBatch(model, requests, config, () => "");
  return (performance.now() - started) / 1000;
}

async function timeRecompute(model: RecurrentModel, r: number, newTokens: number): Promise<number> {
  const ids = prompt(0);
  const started = performance.now();
  for (let step = 0; step < newTokens; step++) {
    const cache = model.newCache(1, "full", r);
    const n = ids.length;
    const logits = await model.step(
      {
        batch: 1,
        inputIds: BigInt64Array.from(ids.map(BigInt)),
        attentionMask: new BigInt64Array(n).fill(1n),
        positionIds: BigInt64Array.from(ids.map((_, i) => BigInt(i))),
      },
      r,
      cache,
      1,
    );
    const row = logits.data as Float32Array;
    let best = 0;
    for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
    ids.push(best);
  }
  return (performance.now() - started) / 1000;
}

console.log(
  `small random checkpoint split 2,4,2 (${checkpoint.manifest.parameters.total.toLocaleString("en-US")} parameters), prompt ${PROMPT} tokens, ${NEW} new tokens, greedy, kv full`,
);
console.log("backend  threads  batch   r   tokens/s  block iters/s   s/token·row");
const perToken: Record<string, number> = {};
for (const threads of [1, 2]) {
  const model = await openNodeModel(checkpoint, { threads });
  for (const batch of [1, 8]) {
    for (const r of [1, 4, 16, 32]) {
      const seconds = await timeGeneration(model, batch, r);
      const tokens = batch * NEW;
      perToken[`${threads}/${batch}/${r}`] = seconds / NEW;
      console.log(
        `node     ${String(threads).padStart(7)}  ${String(batch).padStart(5)}  ${String(r).padStart(2)}  ${(tokens / seconds).toFixed(1).padStart(9)}  ${((NEW * r) / seconds).toFixed(1).padStart(13)}   ${(seconds / NEW).toFixed(4)}`,
      );
    }
  }
}

const flopsRatio =
  flopsForSample(checkpoint.manifest, 32, PROMPT, NEW) /
  flopsForSample(checkpoint.manifest, 1, PROMPT, NEW);
console.log(
  `\nt(32)/t(1) per token, batch 1, 2 threads: ${(perToken["2/1/32"] / perToken["2/1/1"]).toFixed(2)}  (FLOPs ratio ${flopsRatio.toFixed(2)})`,
);
console.log(
  `batch 8 / batch 1 throughput, r = 4, 2 threads: ${((8 * perToken["2/1/4"]) / perToken["2/8/4"]).toFixed(2)}×`,
);

const model = await openNodeModel(checkpoint, { threads: 2 });
const cached = await timeGeneration(model, 1, 4, 128);
const recomputed = await timeRecompute(model, 4, 128);
console.log(
  `KV cache vs recompute, 128 new tokens, r = 4: ${cached.toFixed(2)} s vs ${recomputed.toFixed(2)} s → ${(recomputed / cached).toFixed(1)}× faster`,
);
rmSync(dir, { recursive: true, force: true });
