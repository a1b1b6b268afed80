// Other operators a quantized linear layer could be, timed on onnxruntime-node and on
// onnxruntime-web's WASM backend in Node (--threads each, default 1; node without spinning)
// beside the fp32 MatMul of the same
// weights: block-wise DequantizeLinear (opset 21, 4 and 8 bits) feeding Gemm or MatMul, and
// DynamicQuantizeMatMul (int8 weights, one scale per output column, activations quantized to
// uint8 per call). Prints ms per call, WASM ÷ node speed and max abs error against fp32.
// Usage: npx tsx bench/quantized-matmul-ops.ts [--shapes 2048x2048,8192x2048] [--m 1,8] [--calls 5] [--threads 1]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { DataType, onnx, type TensorProto } from "../model/onnx/proto.ts";
import { quantizeBlockwise } from "../model/onnx/quantize.ts";
import { maxAbsDifference } from "../model/testing/ort-logits.ts";
import { column, medianMs, seededUniform } from "./matmul-harness.ts";

const { values } = parseArgs({
  options: {
    shapes: { type: "string", default: "2048x2048,8192x2048" },
    m: { type: "string", default: "1,8" },
    calls: { type: "string", default: "5" },
    threads: { type: "string", default: "1" },
    block: { type: "string", default: "32" },
  },
});
const CALLS = Number(values.calls);
const BLOCK = Number(values.block);
/** onnx.TensorProto.DataType.UINT4 (IR 10, opset 21); absent from older generated enums. */
const UINT4 = 21;

const nodeOrt = await import("onnxruntime-node");
const webOrt = await import("onnxruntime-web");
webOrt.env.wasm.wasmPaths = join(
  dirname(createRequire(import.meta.url).resolve("onnxruntime-web")),
  "/",
);
webOrt.env.wasm.numThreads = Number(values.threads);
const dir = mkdtempSync(join(tmpdir(), "evals-bench-qops-"));

const tensor = (name: string, dataType: number, dims: number[], bytes: Uint8Array): TensorProto =>
  onnx.TensorProto.create({ name, dims, dataType, rawData: bytes });
const f32 = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const int = (name: string, i: number) => ({ name, type: onnx.AttributeProto.AttributeType.INT, i });

function model(
  nodes: ReturnType<typeof onnx.NodeProto.create>[],
  inits: TensorProto[],
  k: number,
  n: number,
) {
  const vi = (name: string, dims: (number | string)[]) =>
    onnx.ValueInfoProto.create({
      name,
      type: {
        tensorType: {
          elemType: DataType.FLOAT,
          shape: {
            dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })),
          },
        },
      },
    });
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 10,
      producerName: "evals-bench",
      opsetImport: [
        { domain: "", version: 21 },
        { domain: "com.microsoft", version: 1 },
      ],
      graph: onnx.GraphProto.create({
        name: "g",
        node: nodes,
        initializer: inits,
        input: [vi("x", ["m", k])],
        output: [vi("y", ["m", n])],
      }),
    }),
  ).finish();
}

/** W [N, K] dequantized block-wise along K by DequantizeLinear, then x · Wᵀ by Gemm or MatMul. */
function dequantizeThenMatMul(w: Float32Array, n: number, k: number, bits: 4 | 8, op: string) {
  const q = quantizeBlockwise(w, n, k, bits, BLOCK);
  const type = bits === 4 ? UINT4 : DataType.UINT8;
  const inits = [
    tensor("w.q", type, [n, k], q.data),
    tensor("w.scale", DataType.FLOAT, [n, q.blocks], f32(q.scales)),
    tensor("w.zp", type, [n, q.blocks], q.zeroPoints),
  ];
  const dq = onnx.NodeProto.create({
    opType: "DequantizeLinear",
    input: ["w.q", "w.scale", "w.zp"],
    output: ["w"],
    attribute: [int("axis", 1), int("block_size", BLOCK)],
  });
  if (op === "Gemm") {
    const gemm = onnx.NodeProto.create({
      opType: "Gemm",
      input: ["x", "w"],
      output: ["y"],
      attribute: [int("transB", 1)],
    });
    return model([dq, gemm], inits, k, n);
  }
  const t = onnx.NodeProto.create({
    opType: "Transpose",
    input: ["w"],
    output: ["wt"],
    attribute: [{ name: "perm", type: onnx.AttributeProto.AttributeType.INTS, ints: [1, 0] }],
  });
  const mm = onnx.NodeProto.create({ opType: "MatMul", input: ["x", "wt"], output: ["y"] });
  return model([dq, t, mm], inits, k, n);
}

/** int8 Wᵀ [K, N], symmetric, one scale per output column; activations quantized per call. */
function dynamicQuantizeMatMul(w: Float32Array, n: number, k: number) {
  const codes = new Int8Array(k * n);
  const scales = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    let max = 0;
    for (let i = 0; i < k; i++) max = Math.max(max, Math.abs(w[j * k + i]));
    const s = Math.fround(max > 0 ? max / 127 : 1);
    scales[j] = s;
    for (let i = 0; i < k; i++) codes[i * n + j] = Math.round(w[j * k + i] / s);
  }
  const inits = [
    tensor("w.q", DataType.INT8, [k, n], new Uint8Array(codes.buffer)),
    tensor("w.scale", DataType.FLOAT, [n], f32(scales)),
  ];
  const node = onnx.NodeProto.create({
    opType: "DynamicQuantizeMatMul",
    domain: "com.microsoft",
    input: ["x", "w.q", "w.scale"],
    output: ["y"],
  });
  return model([node], inits, k, n);
}

function plainMatMul(w: Float32Array, n: number, k: number) {
  const wt = new Float32Array(k * n);
  for (let j = 0; j < n; j++) for (let i = 0; i < k; i++) wt[i * n + j] = w[j * k + i];
  const node = onnx.NodeProto.create({ opType: "MatMul", input: ["x", "w"], output: ["y"] });
  return model([node], [tensor("w", DataType.FLOAT, [k, n], f32(wt))], k, n);
}

type Runner = (x: Float32Array, m: number, k: number) => Promise<Float32Array>;
let id = 0;
async function open(bytes: Uint8Array): Promise<{ node: Runner; wasm: Runner }> {
  const path = join(dir, `m${id++}.onnx`);
  writeFileSync(path, bytes);
  const a = await nodeOrt.InferenceSession.create(path, {
    intraOpNumThreads: Number(values.threads),
    graphOptimizationLevel: "all",
    extra: { session: { intra_op: { allow_spinning: "0" } } },
  });
  const b = await webOrt.InferenceSession.create(new Uint8Array(readFileSync(path)), {
    executionProviders: ["wasm"],
    graphOptimizationLevel: "all",
  });
  return {
    node: async (x, m, k) =>
      (await a.run({ x: new nodeOrt.Tensor("float32", x, [m, k]) })).y.data as Float32Array,
    wasm: async (x, m, k) =>
      (await b.run({ x: new webOrt.Tensor("float32", x, [m, k]) })).y.data as Float32Array,
  };
}

console.log(
  "shape      M  variant                 node ms  wasm ms  wasm/node  err node  err wasm",
);
for (const shape of values.shapes.split(",")) {
  const [n, k] = shape.split("x").map(Number);
  const w = seededUniform(n * k, 7, 0.035);
  const variants: [string, Uint8Array][] = [
    ["fp32 MatMul", plainMatMul(w, n, k)],
    [`DQ q4 b${BLOCK} + Gemm`, dequantizeThenMatMul(w, n, k, 4, "Gemm")],
    [`DQ q4 b${BLOCK} + MatMul`, dequantizeThenMatMul(w, n, k, 4, "MatMul")],
    [`DQ q8 b${BLOCK} + Gemm`, dequantizeThenMatMul(w, n, k, 8, "Gemm")],
    ["DynQuantMatMul i8", dynamicQuantizeMatMul(w, n, k)],
  ];
  const sessions: [string, { node: Runner; wasm: Runner }][] = [];
  for (const [label, bytes] of variants) {
    try {
      sessions.push([label, await open(bytes)]);
    } catch (error) {
      console.log(
        `${shape.padEnd(10)}     ${label}: ${String(error).split("\n")[0].slice(0, 160)}`,
      );
    }
  }
  for (const m of values.m.split(",").map(Number)) {
    const x = seededUniform(m * k, 11 + m, 1);
    const exact = await sessions[0][1].node(x, m, k);
    for (const [label, s] of sessions) {
      const errNode = maxAbsDifference(await s.node(x, m, k), exact);
      const errWasm = maxAbsDifference(await s.wasm(x, m, k), exact);
      const a = await medianMs(() => s.node(x, m, k), CALLS);
      const b = await medianMs(() => s.wasm(x, m, k), CALLS);
      console.log(
        `${shape.padEnd(10)} ${String(m).padStart(2)}  ${label.padEnd(22)} ${column(a)} ${column(b)} ${column(a / b)}  ${errNode.toExponential(2)}  ${errWasm.toExponential(2)}`,
      );
    }
  }
}
rmSync(dir, { recursive: true, force: true });
