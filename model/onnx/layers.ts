// ONNX for decoder layers with a KV cache (DESIGN §4.2): pre-norm Llama, post-norm OLMo-2 and
// Huginn's sandwich (shared/RAVEN-FORMATS.md §3). The reference path uses standard opset-17
// operators only, so it runs on every onnxruntime backend; a `fused` graph computes RMSNorm,
// residual add + RMSNorm and RoPE with onnxruntime's fused operators instead.
import { ropeTables } from "../reference.ts";
import type { LayerWeights, ModelDims } from "../weights.ts";
import type { GraphBuilder } from "./graph-builder.ts";
import { DataType } from "./proto.ts";

/** Added to the scores of masked keys: large enough to vanish in softmax, finite so a fully
 * masked (padding) row averages instead of producing NaN. */
const MASKED_SCORE = -1e9;

/** Per-graph tensors every layer shares: RoPE cos/sin for the positions and the attention bias. */
export interface AttentionContext {
  cos: string; // [b, 1, t, headDim]; fused graphs: the [maxPos, headDim / 2] table
  sin: string;
  positions: string; // position_ids [b, t]
  bias: string; // [b, 1, t, past + t]
  /** `bias` tiled over the query heads that share a kv head (built on first use). */
  groupBias?: string;
  /** Fused graphs: what a decode step's GroupQueryAttention reads (see `decodeContext`). */
  decode?: DecodeContext;
}

/**
 * Fused graphs decode in place: a one-token step on a past buffer longer than the cache (bound by
 * the caller as both past and present) runs GroupQueryAttention, which writes the new key/value
 * into that buffer and copies nothing. Every other step keeps the Concat attention (an `If`):
 * the kernel refuses several tokens on a cache at batch > 1, and with a growing cache it copies
 * the past as Concat does, so it would gain nothing there.
 */
interface DecodeContext {
  isDecode: string; // bool scalar: this call has one token per row
  total: string; // int64 scalar: the mask's length (cache + this step)
  seqlensK: string; // int32 [b]: total − 1 (every row has the whole cache; padding is masked)
  totalLength: string; // int32 scalar: past + 1
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
    const whole = g.constTensor(name, data, [maxPos, half]);
    // RotaryEmbedding gathers the rows of the positions itself.
    if (g.operators === "fused") return whole;
    const gathered = g.op("Gather", [whole, positions]);
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
  return {
    cos: table("rope_cos", tables.cos),
    sin: table("rope_sin", tables.sin),
    positions,
    bias,
    decode: g.operators === "fused" ? decodeContext(g, mask, seq, total) : undefined,
  };
}

function decodeContext(g: GraphBuilder, mask: string, seq: string, total: string): DecodeContext {
  const total32 = g.op("Cast", [total], { to: DataType.INT32 });
  const batch = g.op("Slice", [g.op("Shape", [mask]), g.int64([0]), g.int64([1])]);
  return {
    isDecode: g.op("Equal", [seq, g.int64([1], [])]),
    total,
    seqlensK: g.op("Expand", [g.op("Sub", [total32, g.int32Scalar(1)]), batch]),
    totalLength: total32,
  };
}

/**
 * RMSNorm: x · rsqrt(mean(x²) + eps) · w. The statistics and the division are fp32 in every graph
 * (a sum of squares overflows fp16 at |x| ≈ 256/√h); the result returns to the activation type
 * before the weight, as transformers' LlamaRMSNorm does.
 */
export function rmsNorm(g: GraphBuilder, x: string, weight: string, eps: number): string {
  // onnxruntime registers SimplifiedLayerNormalization in the standard domain (its own schema).
  if (g.operators === "fused") {
    return g.op("SimplifiedLayerNormalization", [x, weight], {
      axis: -1,
      epsilon: eps,
      stash_type: 1,
    });
  }
  const x32 = g.toFloat(x);
  const meanSquare = g.op("ReduceMean", [g.op("Mul", [x32, x32])], { axes: [-1], keepdims: 1 });
  const rms = g.op("Sqrt", [g.op("Add", [meanSquare, g.float([eps])])]);
  return g.op("Mul", [g.toActivation(g.op("Div", [x32, rms])), weight]);
}

/**
 * RMSNorm of x + delta, and the sum itself (the residual stream): one
 * SkipSimplifiedLayerNormalization in fused graphs (its outputs 0 and 3).
 */
function addThenNorm(
  g: GraphBuilder,
  x: string,
  delta: string,
  weight: string,
  eps: number,
): { sum: string; normed: string } {
  if (g.operators === "plain") {
    const sum = g.op("Add", [x, delta]);
    return { sum, normed: rmsNorm(g, sum, weight, eps) };
  }
  const [normed, , , sum] = g.contribOpMulti(
    "SkipSimplifiedLayerNormalization",
    [x, delta, weight],
    4,
    { epsilon: eps },
    [1, 2],
  );
  return { sum, normed };
}

/**
 * The residual stream between layers: a tensor, or (fused pre-norm graphs) a sum not yet taken,
 * so that the next layer's input norm adds and normalises in one SkipSimplifiedLayerNormalization.
 */
export type Residual = string | { base: string; delta: string };

/** The residual stream as a tensor (an Add where a sum is still pending). */
export function settle(g: GraphBuilder, x: Residual): string {
  return typeof x === "string" ? x : g.op("Add", [x.base, x.delta]);
}

/**
 * x [b, t, in] · Wᵀ, with W given in Hugging Face's [out, in] layout; a quantized graph stores W
 * block-quantized as one MatMulNBits node, or (i8) in int8 as a MatMulInteger with per-row activation codes.
 */
export function linear(
  g: GraphBuilder,
  x: string,
  name: string,
  w: Float32Array,
  outDim: number,
  inDim: number,
): string {
  if (g.quant?.linear === "MatMulInteger") return g.int8MatMul(x, name, w, outDim, inDim);
  if (g.quant) return g.quantizedMatMul(x, name, w, outDim, inDim);
  return g.op("MatMul", [x, g.weight(name, transpose(w, outDim, inDim), [inDim, outDim])]);
}

/**
 * One decoder layer. Reads `past_key_values.{index}.key|value` and writes `present.{index}.…`
 * (index within this graph). Returns the layer's output (`settle` it where a tensor is needed).
 */
export function decoderLayer(
  g: GraphBuilder,
  incoming: Residual,
  layer: LayerWeights,
  index: number,
  prefix: string,
  dims: ModelDims,
  ctx: AttentionContext,
): Residual {
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
      // Fused: [b, t, count · headDim] rotated; split into heads where attention needs them.
      if (g.operators === "fused") return fusedRope(g, p, count, ctx);
      return rope(g, heads(p, count), ctx);
    };
    const q = projected("q", layer.q, numHeads);
    const kNew = projected("k", layer.k, numKvHeads);
    const v = linear(g, input, w("v"), layer.v, numKvHeads * headDim, h);

    const kvDims = ["batch", numKvHeads, "past_sequence", headDim];
    const presentDims = ["batch", numKvHeads, "total_sequence", headDim];
    const kvType = g.activationType;
    const pastK = g.input(`past_key_values.${index}.key`, kvType, kvDims);
    const pastV = g.input(`past_key_values.${index}.value`, kvType, kvDims);
    const present = (key: string, value: string) => {
      g.output(`present.${index}.key`, key, kvType, presentDims);
      g.output(`present.${index}.value`, value, kvType, presentDims);
    };
    if (!ctx.decode) {
      const attended = concatAttention(q, kNew, heads(v, numKvHeads), pastK, pastV);
      present(attended.key, attended.value);
      return linear(g, attended.merged, w("o"), layer.o, h, numHeads * headDim);
    }
    const decode = ctx.decode;
    groupBias(g, ctx, numHeads / numKvHeads); // outer graph: both branches read it
    const kvInfo = { elemType: kvType, dims: presentDims };
    const bufferSlots = g.op("Gather", [g.op("Shape", [pastK]), g.int64([2], [])]);
    const inPlace = g.op("And", [
      decode.isDecode,
      g.op("GreaterOrEqual", [bufferSlots, decode.total]),
    ]);
    const [merged, key, value] = g.ifElse(
      inPlace,
      [{ elemType: kvType, dims: ["batch", "sequence", numHeads * headDim] }, kvInfo, kvInfo],
      () =>
        g.contribOpMulti(
          "GroupQueryAttention",
          [q, kNew, v, pastK, pastV, decode.seqlensK, decode.totalLength, "", "", "", ctx.bias],
          3,
          { num_heads: numHeads, kv_num_heads: numKvHeads },
        ),
      () => {
        const attended = concatAttention(
          heads(q, numHeads),
          heads(kNew, numKvHeads),
          heads(v, numKvHeads),
          pastK,
          pastV,
        );
        return [attended.merged, attended.key, attended.value];
      },
    );
    present(key, value);
    return linear(g, merged, w("o"), layer.o, h, numHeads * headDim);
  };

  /** Attention over the cache grown by Concat: q [b, heads, t, d], kNew/vNew [b, kv, t, d]. */
  const concatAttention = (
    q: string,
    kNew: string,
    vNew: string,
    pastK: string,
    pastV: string,
  ): { merged: string; key: string; value: string } => {
    const k = g.op("Concat", [pastK, kNew], { axis: 2 });
    const v = g.op("Concat", [pastV, vNew], { axis: 2 });

    // GQA without copying K/V per group: query head j reads kv head j // groups, and the heads of
    // one kv head are adjacent, so q [b, heads, t, d] is q [b, kv, groups·t, d] and one matmul per
    // kv head covers its whole group. The bias is tiled over the groups to match (ctx.groupBias).
    const groups = numHeads / numKvHeads;
    const grouped = groups === 1 ? q : g.op("Reshape", [q, g.int64([0, numKvHeads, -1, headDim])]);
    // Scores leave q·kᵀ in fp32: the mask bias (−1e9) and softmax need its range and precision.
    const scores = g.op("Add", [
      g.op("Mul", [
        g.toFloat(g.op("MatMul", [grouped, g.op("Transpose", [k], { perm: [0, 1, 3, 2] })])),
        g.float([1 / Math.sqrt(headDim)]),
      ]),
      groupBias(g, ctx, groups),
    ]);
    const probabilities = g.toActivation(g.op("Softmax", [scores], { axis: -1 }));
    const groupedContext = g.op("MatMul", [probabilities, v]);
    const context =
      groups === 1
        ? groupedContext
        : g.op("Reshape", [groupedContext, g.int64([0, numHeads, -1, headDim])]);
    const merged = g.op("Reshape", [
      g.op("Transpose", [context], { perm: [0, 2, 1, 3] }),
      g.int64([0, 0, numHeads * headDim]),
    ]);
    return { merged, key: k, value: v };
  };

  // x and its input norm N1(x): x += Attn(N1 x); x += MLP(N2 x). Fused graphs leave the last sum
  // to the next layer (or to `settle`).
  function preNormLayer(x: string, normed: string): Residual {
    const attended = attention(normed);
    const residual = addThenNorm(g, x, attended, normWeight("post_norm", layer.postNorm), eps);
    const delta = mlp(residual.normed);
    if (g.operators === "fused") return { base: residual.sum, delta };
    return g.op("Add", [residual.sum, delta]);
  }

  const mlp = (input: string) => {
    const gate = linear(g, input, w("gate"), layer.gate, intermediateSize, h);
    const up = linear(g, input, w("up"), layer.up, intermediateSize, h);
    const activated = g.op("Mul", [g.op("Mul", [gate, g.op("Sigmoid", [gate])]), up]);
    return linear(g, activated, w("down"), layer.down, h, intermediateSize);
  };

  const eps = dims.rmsNormEps;
  const normWeight = (name: string, weight: Float32Array) => g.weight(w(name), weight, [h]);
  if (dims.normPlacement === "pre" && typeof incoming !== "string") {
    // The previous layer's MLP residual, added and normalised in one fused node.
    const entry = addThenNorm(
      g,
      incoming.base,
      incoming.delta,
      normWeight("input_norm", layer.inputNorm),
      eps,
    );
    return preNormLayer(entry.sum, entry.normed);
  }
  const x = settle(g, incoming);
  switch (dims.normPlacement) {
    case "pre":
      return preNormLayer(x, norm(x, "input_norm", layer.inputNorm));
    case "post": {
      const afterAttention = g.op("Add", [x, norm(attention(x), "input_norm", layer.inputNorm)]);
      return g.op("Add", [afterAttention, norm(mlp(afterAttention), "post_norm", layer.postNorm)]);
    }
    case "sandwich": {
      const attended = attention(norm(x, "input_norm", layer.inputNorm));
      const afterAttention = addThenNorm(
        g,
        x,
        attended,
        normWeight("post_norm", layer.postNorm),
        eps,
      ).normed;
      const mlpOut = mlp(norm(afterAttention, "mlp_input_norm", layer.mlpInputNorm!));
      const closing = normWeight("mlp_output_norm", layer.mlpOutputNorm!);
      return addThenNorm(g, afterAttention, mlpOut, closing, eps).normed;
    }
  }
}

/**
 * The attention bias [b, 1, t, total] repeated for `groups` query heads stacked along the query
 * axis ([b, 1, groups·t, total], row g·t + i is query i), built once per graph and group count.
 */
function groupBias(g: GraphBuilder, ctx: AttentionContext, groups: number): string {
  if (groups === 1) return ctx.bias;
  ctx.groupBias ??= g.op("Tile", [ctx.bias, g.int64([1, 1, groups, 1])]);
  return ctx.groupBias;
}

/**
 * Rotate-half RoPE on the projection [b, t, count · headDim] before its split into heads:
 * RotaryEmbedding with interleaved = 0 gathers the table rows of `position_ids` itself.
 */
function fusedRope(g: GraphBuilder, x: string, count: number, ctx: AttentionContext): string {
  return g.contribOp("RotaryEmbedding", [x, ctx.positions, ctx.cos, ctx.sin], {
    interleaved: 0,
    num_heads: count,
  });
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
