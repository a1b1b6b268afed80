// One MatMulNBits node (the project's own graph builder) on onnxruntime-node and on
// onnxruntime-web's WASM backend in Node (--threads each, default 1; node without spinning),
// beside an fp32 MatMul of the same shape:
// ms per call and WASM ÷ node speed, per accuracy_level, bits, block size and M (rows of x).
// Also the max abs error of each quantized node against the fp32 MatMul of the same weights.
// Usage: npx tsx bench/matmulnbits.ts [--shapes 2048x2048,8192x2048] [--m 1,8] [--levels 0,1,2,4]
//          [--bits 4,8] [--blocks 32,64,128] [--calls 5] [--threads 1] [--profile]
// --profile: first, one call of the first quantized variant on WASM with onnxruntime's profiler
// (its events print to the console: which kernel, which provider, how long).
// Shapes are N×K (out × in): 8192x2048 is the 1.2B MLP's up/gate projection.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { GraphBuilder, type QuantSpec } from "../model/onnx/graph-builder.ts";
import { linear } from "../model/onnx/layers.ts";
import { DataType } from "../model/onnx/proto.ts";
import { WeightSink } from "../model/onnx/weight-sink.ts";
import { maxAbsDifference } from "../model/testing/ort-logits.ts";
import { column, medianMs, seededUniform } from "./matmul-harness.ts";

const { values } = parseArgs({
  options: {
    shapes: { type: "string", default: "2048x2048,8192x2048" },
    m: { type: "string", default: "1,8" },
    levels: { type: "string", default: "0,1,2,4" },
    bits: { type: "string", default: "4,8" },
    blocks: { type: "string", default: "32,64,128" },
    calls: { type: "string", default: "5" },
    threads: { type: "string", default: "1" },
    profile: { type: "boolean", default: false },
  },
});
const list = (s: string) => s.split(",").map(Number);
const CALLS = Number(values.calls);

const nodeOrt = await import("onnxruntime-node");
const webOrt = await import("onnxruntime-web");
webOrt.env.wasm.wasmPaths = join(
  dirname(createRequire(import.meta.url).resolve("onnxruntime-web")),
  "/",
);
webOrt.env.wasm.numThreads = Number(values.threads);

const dir = mkdtempSync(join(tmpdir(), "evals-bench-mmnbits-"));

/** Writes a graph y = x · Wᵀ (x [M, K]) and returns its .onnx path. */
function build(name: string, w: Float32Array, n: number, k: number, quant: QuantSpec | null) {
  const dataFile = `${name}.onnx.data`;
  const sink = new WeightSink(join(dir, dataFile));
  const g = new GraphBuilder(name, sink, "fp32", quant);
  const x = g.input("x", DataType.FLOAT, ["m", k]);
  g.output("y", linear(g, x, "w", w, n, k), DataType.FLOAT, ["m", n]);
  const bytes = g.encode();
  sink.close();
  const path = join(dir, `${name}.onnx`);
  writeFileSync(path, bytes);
  return { path, dataFile };
}

type Runner = { run: (x: Float32Array, m: number, k: number) => Promise<Float32Array> };

async function openNode(path: string): Promise<Runner> {
  const s = await nodeOrt.InferenceSession.create(path, {
    intraOpNumThreads: Number(values.threads),
    graphOptimizationLevel: "all",
    extra: { session: { intra_op: { allow_spinning: "0" } } },
  });
  return {
    run: async (x, m, k) =>
      (await s.run({ x: new nodeOrt.Tensor("float32", x, [m, k]) })).y.data as Float32Array,
  };
}

async function openWasm(path: string, dataFile: string, enableProfiling = false) {
  let data: Uint8Array | null = null;
  try {
    data = new Uint8Array(readFileSync(join(dir, dataFile)));
  } catch {}
  const s = await webOrt.InferenceSession.create(new Uint8Array(readFileSync(path)), {
    executionProviders: ["wasm"],
    graphOptimizationLevel: "all",
    externalData: data ? [{ path: dataFile, data }] : undefined,
    enableProfiling,
  });
  const runner: Runner = {
    run: async (x, m, k) =>
      (await s.run({ x: new webOrt.Tensor("float32", x, [m, k]) })).y.data as Float32Array,
  };
  return Object.assign(runner, { endProfiling: () => s.endProfiling() });
}

console.log(
  "shape      M  variant              node ms  wasm ms  wasm/node(speed)  err node  err wasm",
);
let id = 0;
if (values.profile) {
  const [n, k] = values.shapes.split(",")[0].split("x").map(Number);
  const [bits, blockSize, accuracyLevel] = [values.bits, values.blocks, values.levels].map(
    (v) => list(v)[0],
  );
  const quant = { bits: bits as 4 | 8, blockSize, accuracyLevel };
  const q = build(`p${id++}`, seededUniform(n * k, 7, 0.035), n, k, quant);
  const session = await openWasm(q.path, q.dataFile, true);
  await session.run(seededUniform(k, 11, 1), 1, k);
  session.endProfiling();
}
for (const shape of values.shapes.split(",")) {
  const [n, k] = shape.split("x").map(Number);
  // Weights ~ N(0, 0.02)-like scale as in the checkpoints; activations of unit scale.
  const w = seededUniform(n * k, 7, 0.035);
  const ref = build(`f${id++}`, w, n, k, null);
  const refNode = await openNode(ref.path);
  const refWasm = await openWasm(ref.path, ref.dataFile);
  for (const m of list(values.m)) {
    const x = seededUniform(m * k, 11 + m, 1);
    const exact = await refNode.run(x, m, k);
    const nodeMs = await medianMs(() => refNode.run(x, m, k), CALLS);
    const wasmMs = await medianMs(() => refWasm.run(x, m, k), CALLS);
    console.log(
      `${shape.padEnd(10)} ${String(m).padStart(2)}  ${"fp32 MatMul".padEnd(18)} ${column(nodeMs)} ${column(wasmMs)} ${column(nodeMs / wasmMs)}`,
    );
    for (const bits of list(values.bits) as (4 | 8)[]) {
      for (const blockSize of list(values.blocks)) {
        for (const level of list(values.levels)) {
          const q = build(`q${id++}`, w, n, k, { bits, blockSize, accuracyLevel: level });
          const qNode = await openNode(q.path);
          const qWasm = await openWasm(q.path, q.dataFile);
          const errNode = maxAbsDifference(await qNode.run(x, m, k), exact);
          const errWasm = maxAbsDifference(await qWasm.run(x, m, k), exact);
          const a = await medianMs(() => qNode.run(x, m, k), CALLS);
          const b = await medianMs(() => qWasm.run(x, m, k), CALLS);
          const label = `q${bits} b${blockSize} acc${level}`;
          console.log(
            `${shape.padEnd(10)} ${String(m).padStart(2)}  ${label.padEnd(18)} ${column(a)} ${column(b)} ${column(a / b)}  ${errNode.toExponential(2)}  ${errWasm.toExponential(2)}`,
          );
        }
      }
    }
  }
}
rmSync(dir, { recursive: true, force: true });
