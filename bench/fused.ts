// Plain vs fused-operator graphs (`evals export --operators fused`): decode tokens/s of the same
// weights on onnxruntime-node and onnxruntime-web's WASM backend, 1 thread each, runs interleaved
// so that load on a shared machine hits both alike. Decode time = (a generation of N tokens − one
// of 1 token) / (N − 1), so the prefill is not counted. On node the fused graphs run twice: with
// caches that grow per step, and decoding in place (GroupQueryAttention on preallocated buffers).
// Usage: npx tsx bench/fused.ts [--new-tokens 32] [--prompt-tokens 32] [--r 4] [--batch 1] [--rounds 3] [--quant q4]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { readCheckpoint } from "../model/checkpoint.ts";
import { exportModel } from "../model/export-model.ts";
import { openWasmModelInNode } from "../model/testing/wasm-in-node.ts";
import { generateBatch } from "../runner/engine/generate.ts";
import { openNodeModel } from "../runner/engine/node-sessions.ts";
import type { RecurrentModel } from "../runner/engine/recurrent-model.ts";

const { values } = parseArgs({
  options: {
    "new-tokens": { type: "string", default: "32" },
    "prompt-tokens": { type: "string", default: "32" },
    r: { type: "string", default: "4" },
    batch: { type: "string", default: "1" },
    rounds: { type: "string", default: "3" },
    quant: { type: "string" },
  },
});
const NEW = Number(values["new-tokens"]);
const PROMPT = Number(values["prompt-tokens"]);
const R = Number(values.r);
const BATCH = Number(values.batch);
const ROUNDS = Number(values.rounds);
const dtype = values.quant === "q4" || values.quant === "q8" ? values.quant : "fp32";

const dir = mkdtempSync(join(tmpdir(), "evals-bench-fused-"));
const exported = async (operators: "plain" | "fused") => {
  const out = join(dir, operators);
  await exportModel({ random: "small", out, split: [2, 4, 2], seed: 1, dtype, operators });
  return readCheckpoint(out);
};
const checkpoints = { plain: await exported("plain"), fused: await exported("fused") };

const requests = Array.from({ length: BATCH }, (_, b) => ({
  promptIds: Array.from({ length: PROMPT }, (_, i) => 3 + ((i * 31 + b * 7) % 4000)),
  seed: b,
}));
const config = (maxNewTokens: number) => ({
  recurrences: R,
  maxNewTokens,
  kv: "full" as const,
  stateInit: "zeros" as const,
  stopIds: [],
  stopStrings: [],
});
const seconds = async (model: RecurrentModel, tokens: number) => {
  const started = performance.now();
  await generateBatch(model, requests, config(tokens), () => "");
  return (performance.now() - started) / 1000;
};
/** Decode tokens/s (all rows) of one interleaved round. */
const decodeRate = async (model: RecurrentModel) => {
  const one = await seconds(model, 1);
  const many = await seconds(model, NEW);
  return (BATCH * (NEW - 1)) / (many - one);
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(
  `small 2,4,2 ${dtype}, r = ${R}, batch ${BATCH}, prompt ${PROMPT}, ${NEW} new tokens, 1 thread, median of ${ROUNDS}`,
);
try {
  for (const backend of ["node", "wasm"] as const) {
    const open = (which: "plain" | "fused", decodeInPlace = true) =>
      backend === "node"
        ? openNodeModel(checkpoints[which], { threads: 1, decodeInPlace })
        : openWasmModelInNode(checkpoints[which], { threads: 1 });
    // node: the fused graphs twice, growing their caches per step and decoding in place.
    const models: Record<string, RecurrentModel> = {
      plain: await open("plain"),
      fused: await open("fused", false),
      ...(backend === "node" ? { "fused in place": await open("fused") } : {}),
    };
    for (const model of Object.values(models)) await seconds(model, 2); // warm-up
    const rates = new Map(Object.keys(models).map((name) => [name, [] as number[]]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, model] of Object.entries(models))
        rates.get(name)!.push(await decodeRate(model));
    }
    const plain = median(rates.get("plain")!);
    const cells = [...rates].map(([name, r]) => {
      const rate = median(r);
      return `${name} ${rate.toFixed(1)} tok/s${name === "plain" ? "" : ` (${(rate / plain).toFixed(2)}× plain)`}`;
    });
    console.log(`${backend.padEnd(5)} ${cells.join("  ")}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
