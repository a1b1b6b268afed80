// The three graphs of a recurrent checkpoint (names in model/graphs.md): prelude (embedding +
// prelude layers), block (adapter + block layers = one recurrence), coda (coda layers, final norm,
// lm_head). The recurrence loop itself is driven from TypeScript by the engine (DESIGN §3).
import type { RecurrentWeights } from "../weights.ts";
import {
  type ComputeType,
  GraphBuilder,
  type OperatorSet,
  type QuantSpec,
} from "./graph-builder.ts";
import {
  attentionContext,
  decoderLayer,
  linear,
  type Residual,
  rmsNorm,
  settle,
} from "./layers.ts";
import { DataType } from "./proto.ts";
import type { FloatStorage, WeightSink } from "./weight-sink.ts";

export type GraphName = "prelude" | "block" | "coda";

export function buildGraph(
  name: GraphName,
  weights: RecurrentWeights,
  sink: WeightSink,
  storage: FloatStorage,
  quant: QuantSpec | null = null,
  operators: OperatorSet = "plain",
  compute: ComputeType = "fp32",
): GraphBuilder {
  const g = new GraphBuilder(name, sink, storage, quant, operators, compute);
  if (name === "prelude") buildPrelude(g, weights);
  else if (name === "block") buildBlock(g, weights);
  else buildCoda(g, weights);
  return g;
}

const hiddenDims = (h: number) => ["batch", "sequence", h];

function buildPrelude(g: GraphBuilder, weights: RecurrentWeights): void {
  const { dims } = weights;
  const ids = g.input("input_ids", DataType.INT64, ["batch", "sequence"]);
  const ctx = attentionContext(g, dims);
  let x: Residual = embedding(g, weights, ids);
  if (dims.embedScale !== 1) x = g.op("Mul", [x, g.activationConstant([dims.embedScale])]);
  weights.prelude.forEach((layer, i) => {
    x = decoderLayer(g, x, layer, i, "prelude", dims, ctx);
  });
  // e and the recurrent state cross graphs in fp32 in every variant: the state is fed back r times.
  g.output("e", g.toFloat(settle(g, x)), DataType.FLOAT, hiddenDims(dims.hiddenSize));
}

/**
 * The embedding lookup. Quantized graphs gather block-quantized rows (GatherBlockQuantized) when
 * the hidden size is whole blocks, else keep the table in fp16: the table is too large for fp32.
 */
function embedding(g: GraphBuilder, weights: RecurrentWeights, ids: string): string {
  const { vocabSize, hiddenSize } = weights.dims;
  if (!g.quant) {
    return g.op("Gather", [g.weight("embed_tokens", weights.embed, [vocabSize, hiddenSize]), ids]);
  }
  if (embeddingQuantizable(hiddenSize, g.quant)) {
    return g.quantizedGather("embed_tokens", weights.embed, vocabSize, hiddenSize, ids);
  }
  // Gather the fp16 rows, then cast: a Cast of the whole table would be folded into an fp32 copy.
  const table = g.halfInitializer("embed_tokens", weights.embed, [vocabSize, hiddenSize]);
  return g.op("Cast", [g.op("Gather", [table, ids])], { to: DataType.FLOAT });
}

/** Whether a quantized export stores the embedding block-quantized (else fp16). */
export function embeddingQuantizable(hiddenSize: number, quant: QuantSpec): boolean {
  return hiddenSize % quant.blockSize === 0;
}

function buildBlock(g: GraphBuilder, weights: RecurrentWeights): void {
  const { dims } = weights;
  const h = dims.hiddenSize;
  const e = g.input("e", DataType.FLOAT, hiddenDims(h));
  const state = g.input("state", DataType.FLOAT, hiddenDims(h));
  const ctx = attentionContext(g, dims);
  // State first, then e (DESIGN §4.4).
  const joined = g.toActivation(g.op("Concat", [state, e], { axis: -1 }));
  let x: Residual = linear(g, joined, "adapter", weights.adapter!, h, 2 * h);
  weights.block.forEach((layer, i) => {
    x = decoderLayer(g, x, layer, i, "block", dims, ctx);
  });
  g.output("state_out", g.toFloat(settle(g, x)), DataType.FLOAT, hiddenDims(h));
}

function buildCoda(g: GraphBuilder, weights: RecurrentWeights): void {
  const { dims } = weights;
  const h = dims.hiddenSize;
  let x: Residual = g.toActivation(g.input("state", DataType.FLOAT, hiddenDims(h)));
  const keep = g.input("num_logits_to_keep", DataType.INT64, []);
  const ctx = attentionContext(g, dims);
  // Huginn: ln_f closes the recurrence and, the same weight, the coda (RAVEN-FORMATS §3.3).
  const finalNorm = g.weight("final_norm", weights.finalNorm, [h]);
  if (weights.finalNormBeforeCoda) x = rmsNorm(g, settle(g, x), finalNorm, dims.rmsNormEps);
  weights.coda.forEach((layer, i) => {
    x = decoderLayer(g, x, layer, i, "coda", dims, ctx);
  });
  // Keep the last k positions before the head: vocab-sized logits for a whole prompt are the
  // largest tensor of a step. k = 0 slices from 0, i.e. keeps every position.
  const start = g.op("Unsqueeze", [g.op("Neg", [keep]), g.int64([0])]);
  const last = g.op("Slice", [
    settle(g, x),
    start,
    g.int64([Number.MAX_SAFE_INTEGER]),
    g.int64([1]),
  ]);
  const normed = rmsNorm(g, last, finalNorm, dims.rmsNormEps);
  const logits = linear(g, normed, "lm_head", weights.head, dims.vocabSize, h);
  g.output("logits", g.toFloat(logits), DataType.FLOAT, [
    "batch",
    "logits_sequence",
    dims.vocabSize,
  ]);
}
