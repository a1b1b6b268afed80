// Plain-operator ONNX for decoder layers with a KV cache (DESIGN §4.2): pre-norm Llama, post-norm
// OLMo-2 and Huginn's sandwich (shared/RAVEN-FORMATS.md §3). This is the reference export path:
// standard opset-17 operators only, so it runs on every onnxruntime backend.
import { ropeTables } from "../reference.ts";
import type { LayerWeights, ModelDims } from "../weights.ts";
import type { GraphBuilder } from "./graph-builder.ts";
import { DataType } from "./proto.ts";

/** Added to the scores of masked keys: large enough to vanish in softmax, finite so a fully
 * masked (padding) row averages instead of producing NaN. */
const MASKED_SCORE = -1e9;

/** Per-graph tensors every layer shares: RoPE cos/sin for the positions and the attention bias. */
export interface AttentionContext {
  cos: string; // [b, 1, t, headDim]
  sin: string;
  bias: string; // [b, 1, t, past + t]
}

/** Declares `attention_mask` and `position_ids` and derives the shared attention tensors. */
export function attentionContext(g: GraphBuilder, dims: ModelDims): AttentionContext {
  const mask = g.input("attention_mask", DataType.INT64, ["batch", "total_sequence"]);
  const positions = g.input("position_ids", DataType.INT64, ["batch", "sequence"]);

  // cos/sin tables over every position the model supports, gathered by position id.
  const half = dims.headDim / 2;
  const maxPos = dims.maxPositionEmbeddings;
  const tables = ropeTables(
    dims,
    Array.from({ length: maxPos }, (_, p) => p),
  );
  const table = (name: string, data: Float32Array) => {
    // Rotation tables stay fp32 whatever the weights' dtype: they set the positional precision.
    const gathered = g.op("Gather", [g.constTensor(name, data, [maxPos, half]), positions]);
    const doubled = g.op("Concat", [gathered, gathered], { axis: -1 });
    // Gathered in fp32, then rounded once to the activation type (as transformers casts cos/sin).
    return g.toActivation(g.op("Unsqueeze", [doubled, g.int64([1])]));
  };

  // Causal over cache slots (query i of this call sits at slot past + i) and padding from the mask.
  const total = g.op("Gather", [g.op("Shape", [mask]), g.int64([1], [])]);
  const seq = g.op("Gather", [g.op("Shape", [positions]), g.int64([1], [])]);
  const past = g.op("Sub", [total, seq]);
  const keySlots = g.op("Range", [g.int64([0], []), total, g.int64([1], [])]);
  const querySlots = g.op("Unsqueeze", [
    g.op("Range", [past, total, g.int64([1], [])]),
    g.int64([1]),
  ]);
  const causal = g.op("LessOrEqual", [keySlots, querySlots]); // [t, total]
  const notPadding = g.op("Unsqueeze", [
    g.op("Cast", [mask], { to: DataType.BOOL }),
    g.int64([1, 2]),
  ]);
  const allowed = g.op("And", [causal, notPadding]); // [b, 1, t, total]
  const bias = g.op("Where", [allowed, g.float([0]), g.float([MASKED_SCORE])]);
  return { cos: table("rope_cos", tables.cos), sin: table("rope_sin", tables.sin), bias };
}

/**
 * RMSNorm: x · rsqrt(mean(x²) + eps) · w. The statistics and the division are fp32 in every graph
 * (a sum of squares overflows fp16 at |x| ≈ 256/√h); the result returns to the activation type
 * before the weight, as transformers' LlamaRMSNorm does.
 */
export function rmsNorm(g: GraphBuilder, x: string, weight: string, eps: number): string {
  const x32 = g.toFloat(x);
  const meanSquare = g.op("ReduceMean", [g.op("Mul", [x32, x32])], { axes: [-1], keepdims: 1 });
  const rms = g.op("Sqrt", [g.op("Add", [meanSquare, g.float([eps])])]);
  return g.op("Mul", [g.toActivation(g.op("Div", [x32, rms])), weight]);
}

/**
 * x [b, t, in] · Wᵀ, with W given in Hugging Face's [out, in] layout; a quantized graph stores W
 * block-quantized as one MatMulNBits node.
 */
export function linear(
  g: GraphBuilder,
  x: string,
  name: string,
  w: Float32Array,
  outDim: number,
  inDim: number,
): string {
  if (g.quant) return g.quantizedMatMul(x, name, w, outDim, inDim);
  return g.op("MatMul", [x, g.weight(name, transpose(w, outDim, inDim), [inDim, outDim])]);
}

/**
 * One decoder layer. Reads `past_key_values.{index}.key|value` and writes `present.{index}.…`
 * (index within this graph). Returns the layer's output.
 */
export function decoderLayer(
  g: GraphBuilder,
  x: string,
  layer: LayerWeights,
  index: number,
  prefix: string,
  dims: ModelDims,
  ctx: AttentionContext,
): string {
  const { hiddenSize: h, numHeads, numKvHeads, headDim, intermediateSize } = dims;
  const w = (part: string) => `${prefix}.${index}.${part}`;
  const norm = (v: string, name: string, weight: Float32Array, size = h) =>
    rmsNorm(g, v, g.weight(w(name), weight, [size]), dims.rmsNormEps);

  const attention = (input: string) => {
    const heads = (proj: string, count: number) =>
      g.op("Transpose", [g.op("Reshape", [proj, g.int64([0, 0, count, headDim])])], {
        perm: [0, 2, 1, 3],
      });
    // OLMo-2 normalises the whole q/k projection before the split into heads; Huginn adds a bias.
    const projected = (name: "q" | "k", weight: Float32Array, count: number) => {
      let p = linear(g, input, w(name), weight, count * headDim, h);
      const qkNorm = name === "q" ? layer.qNorm : layer.kNorm;
      if (qkNorm) p = norm(p, `${name}_norm`, qkNorm, count * headDim);
      const bias = name === "q" ? layer.qBias : layer.kBias;
      if (bias) p = g.op("Add", [p, g.weight(w(`${name}_bias`), bias, [count * headDim])]);
      return heads(p, count);
    };
    const q = rope(g, projected("q", layer.q, numHeads), ctx);
    const kNew = rope(g, projected("k", layer.k, numKvHeads), ctx);
    const vNew = heads(linear(g, input, w("v"), layer.v, numKvHeads * headDim, h), numKvHeads);

    const kvDims = ["batch", numKvHeads, "past_sequence", headDim];
    const presentDims = ["batch", numKvHeads, "total_sequence", headDim];
    const kvType = g.activationType;
    const pastK = g.input(`past_key_values.${index}.key`, kvType, kvDims);
    const pastV = g.input(`past_key_values.${index}.value`, kvType, kvDims);
    const k = g.op("Concat", [pastK, kNew], { axis: 2 });
    const v = g.op("Concat", [pastV, vNew], { axis: 2 });
    g.output(`present.${index}.key`, k, kvType, presentDims);
    g.output(`present.${index}.value`, v, kvType, presentDims);

    // GQA: query head j reads kv head j // (heads / kvHeads); repeat each kv head that many times.
    const groups = numHeads / numKvHeads;
    const repeat = (t: string) =>
      groups === 1
        ? t
        : g.op("Reshape", [
            g.op("Expand", [g.op("Unsqueeze", [t, g.int64([2])]), g.int64([1, 1, groups, 1, 1])]),
            g.int64([0, numHeads, -1, headDim]),
          ]);
    // Scores leave q·kᵀ in fp32: the mask bias (−1e9) and softmax need its range and precision.
    const scores = g.op("Add", [
      g.op("Mul", [
        g.toFloat(g.op("MatMul", [q, g.op("Transpose", [repeat(k)], { perm: [0, 1, 3, 2] })])),
        g.float([1 / Math.sqrt(headDim)]),
      ]),
      ctx.bias,
    ]);
    const probabilities = g.toActivation(g.op("Softmax", [scores], { axis: -1 }));
    const context = g.op("MatMul", [probabilities, repeat(v)]);
    const merged = g.op("Reshape", [
      g.op("Transpose", [context], { perm: [0, 2, 1, 3] }),
      g.int64([0, 0, numHeads * headDim]),
    ]);
    return linear(g, merged, w("o"), layer.o, h, numHeads * headDim);
  };

  const mlp = (input: string) => {
    const gate = linear(g, input, w("gate"), layer.gate, intermediateSize, h);
    const up = linear(g, input, w("up"), layer.up, intermediateSize, h);
    const activated = g.op("Mul", [g.op("Mul", [gate, g.op("Sigmoid", [gate])]), up]);
    return linear(g, activated, w("down"), layer.down, h, intermediateSize);
  };

  switch (dims.normPlacement) {
    case "pre": {
      const afterAttention = g.op("Add", [x, attention(norm(x, "input_norm", layer.inputNorm))]);
      const mlpIn = norm(afterAttention, "post_norm", layer.postNorm);
      return g.op("Add", [afterAttention, mlp(mlpIn)]);
    }
    case "post": {
      const afterAttention = g.op("Add", [x, norm(attention(x), "input_norm", layer.inputNorm)]);
      return g.op("Add", [afterAttention, norm(mlp(afterAttention), "post_norm", layer.postNorm)]);
    }
    case "sandwich": {
      const attended = g.op("Add", [x, attention(norm(x, "input_norm", layer.inputNorm))]);
      const afterAttention = norm(attended, "post_norm", layer.postNorm);
      const mlpOut = mlp(norm(afterAttention, "mlp_input_norm", layer.mlpInputNorm!));
      return norm(g.op("Add", [afterAttention, mlpOut]), "mlp_output_norm", layer.mlpOutputNorm!);
    }
  }
}

/** HF rotate-half RoPE on [b, heads, t, headDim]. */
function rope(g: GraphBuilder, x: string, ctx: AttentionContext): string {
  const [first, second] = g.opMulti("Split", [x], 2, { axis: -1 });
  const rotated = g.op("Concat", [g.op("Neg", [second]), first], { axis: -1 });
  return g.op("Add", [g.op("Mul", [x, ctx.cos]), g.op("Mul", [rotated, ctx.sin])]);
}

/** [rows, cols] → [cols, rows]. */
export function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c];
  }
  return out;
}
