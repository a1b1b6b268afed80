// Engine throughput: tokens/s and block iterations/s against r, batch size, backend and threads;
// the cost of recomputing instead of caching; time per token against the FLOPs ratio.
// Usage: npx tsx bench/engine.ts [--new-tokens 32] [--prompt-tokens 32] [--backends node,wasm]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { readCheckpoint } from "../model/checkpoint.ts";
import { exportModel } from "../model/export-model.ts";
import { flopsForSample } from "../model/flops.ts";
import { type BackendName, type EngineBackend, openBackend } from "../runner/backends.ts";
import { openNodeModel } from "../runner/engine/node-sessions.ts";
import { timeRecompute } from "./recompute.ts";

const { values } = parseArgs({
  options: {
    "new-tokens": { type: "string", default: "32" },
    "prompt-tokens": { type: "string", default: "32" },
    backends: { type: "string", default: "node,wasm" },
    webgpu: { type: "boolean", default: false },
  },
});
const NEW = Number(values["new-tokens"]);
const PROMPT = Number(values["prompt-tokens"]);
const BACKENDS = values.backends.split(",") as BackendName[];

const dir = mkdtempSync(join(tmpdir(), "evals-bench-engine-"));
const out = join(dir, "small");
await exportModel({ random: "small", out, split: [2, 4, 2], seed: 1 });
const checkpoint = await readCheckpoint(out);
const prompt = (b: number) =>
  Array.from({ length: PROMPT }, (_, i) => 3 + ((i * 31 + b * 7) % 4000));

async function timeGeneration(
  backend: EngineBackend,
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
  await backend.generate(requests.slice(0, 1), { ...config, maxNewTokens: 2 });
  const started = performance.now();
  await backend.generate(requests, config);
  return (performance.now() - started) / 1000;
}

console.log(
  `small random checkpoint split 2,4,2 (${checkpoint.manifest.parameters.total.toLocaleString("en-US")} parameters, fp32), ` +
    `prompt ${PROMPT} tokens, ${NEW} new tokens, greedy, kv full`,
);
console.log("backend  threads  batch   r   tokens/s  block iters/s   s/token");
const perToken: Record<string, number> = {};
for (const name of BACKENDS) {
  for (const threads of [1, 2]) {
    const backend = await openBackend(out, name, { threads });
    for (const batch of [1, 8]) {
      for (const r of [1, 4, 16, 32]) {
        const seconds = await timeGeneration(backend, batch, r);
        perToken[`${name}/${threads}/${batch}/${r}`] = seconds / NEW;
        console.log(
          `${name.padEnd(8)} ${String(threads).padStart(7)}  ${String(batch).padStart(5)}  ${String(r).padStart(2)}  ${((batch * NEW) / seconds).toFixed(1).padStart(9)}  ${((batch * NEW * r) / seconds).toFixed(1).padStart(13)}   ${(seconds / NEW).toFixed(4)}`,
        );
      }
    }
    await backend.close();
  }
}

const ratio = (a: string, b: string) => (perToken[a] / perToken[b]).toFixed(2);
const flopsRatio =
  flopsForSample(checkpoint.manifest, 32, PROMPT, NEW) /
  flopsForSample(checkpoint.manifest, 1, PROMPT, NEW);
console.log("");
for (const name of BACKENDS) {
  for (const threads of [1, 2]) {
    const k = `${name}/${threads}/1`;
    console.log(
      `${name} ${threads} thread(s): t(32)/t(1) per token, batch 1 = ${ratio(`${k}/32`, `${k}/1`)} (FLOPs ratio ${flopsRatio.toFixed(2)}); batch 8 / batch 1 throughput at r = 4 = ${((8 * perToken[`${k}/4`]) / perToken[`${name}/${threads}/8/4`]).toFixed(2)}×`,
    );
  }
}
if (BACKENDS.includes("wasm") && BACKENDS.includes("node")) {
  for (const threads of [1, 2]) {
    for (const batch of [1, 8]) {
      const ratios = [1, 4, 16, 32].map((r) =>
        ratio(`node/${threads}/${batch}/${r}`, `wasm/${threads}/${batch}/${r}`),
      );
      console.log(
        `wasm/node throughput, ${threads} thread(s), batch ${batch}, r = 1,4,16,32: ${ratios.join(", ")}`,
      );
    }
  }
}

const model = await openNodeModel(checkpoint, { threads: 1 });
const node = await openBackend(out, "node", { threads: 1 });
const cached = await timeGeneration(node, 1, 4, 128);
const recomputed = await timeRecompute(model, prompt(0), 4, 128);
console.log(
  `node, 1 thread, KV cache vs recompute, 128 new tokens, r = 4: ${cached.toFixed(2)} s vs ${recomputed.toFixed(2)} s → ${(recomputed / cached).toFixed(1)}× faster`,
);
if (values.webgpu) {
  // WebGPU here is SwiftShader, a CPU adapter: a correctness path, so only a tiny model is timed.
  const tiny = join(dir, "tiny");
  await exportModel({ random: "tiny", out: tiny, split: [1, 2, 1], seed: 1 });
  const tinyPrompt = Array.from({ length: PROMPT }, (_, i) => 3 + ((i * 31) % 500));
  for (const name of ["webgpu", "wasm", "node"] as const) {
    const backend = await openBackend(tiny, name, { threads: 2 });
    for (const r of [1, 4]) {
      const config = {
        recurrences: r,
        maxNewTokens: 16,
        kv: "full" as const,
        stateInit: "zeros" as const,
        stopIds: [],
        stopStrings: [],
      };
      await backend.generate([{ promptIds: tinyPrompt, seed: 0 }], { ...config, maxNewTokens: 2 });
      const started = performance.now();
      await backend.generate([{ promptIds: tinyPrompt, seed: 0 }], config);
      const seconds = (performance.now() - started) / 1000;
      console.log(
        `tiny random 1,2,1 on ${name} (${backend.adapter}), batch 1, r = ${r}: ${(16 / seconds).toFixed(1)} tokens/s`,
      );
    }
    await backend.close();
  }
}
rmSync(dir, { recursive: true, force: true });
