// The in-memory recurrent model every other part of model/ speaks: readers and surgery produce it,
// the reference forward and the ONNX exporter consume it. Matrices keep Hugging Face's
// [out_features, in_features] row-major layout, always float32 in memory.

export interface RopeScalingLlama3 {
  type: "llama3";
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
}

/** Shapes and hyper-parameters shared by every layer (DESIGN §3, §4). */
export interface ModelDims {
  hiddenSize: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  intermediateSize: number;
  vocabSize: number;
  maxPositionEmbeddings: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScalingLlama3 | null;
  /** Multiplies the token embedding before the prelude: 1 for retrofits, sqrt(h) for Huginn. */
  embedScale: number;
  /**
   * Where each layer's norms sit (model/graphs.md): `pre` x += Attn(N1 x), x += MLP(N2 x) (Llama);
   * `post` x += N1(Attn x), x += N2(MLP x) (OLMo-2); `sandwich` x = N2(x + Attn(N1 x)),
   * x = N4(x + MLP(N3 x)) (Huginn).
   */
  normPlacement: NormPlacement;
}

export type NormPlacement = "pre" | "post" | "sandwich";

/**
 * One decoder layer. `inputNorm`/`postNorm` are the layer's first and second norm (raven norm_1,
 * norm_2); what they normalise depends on `ModelDims.normPlacement`.
 */
export interface LayerWeights {
  inputNorm: Float32Array; // [h]
  q: Float32Array; // [heads*headDim, h]
  k: Float32Array; // [kvHeads*headDim, h]
  v: Float32Array; // [kvHeads*headDim, h]
  o: Float32Array; // [h, heads*headDim]
  postNorm: Float32Array; // [h]
  gate: Float32Array; // [intermediate, h]
  up: Float32Array; // [intermediate, h]
  down: Float32Array; // [h, intermediate]
  /** Sandwich only: norm_3 before the MLP and norm_4 after its residual. */
  mlpInputNorm?: Float32Array; // [h]
  mlpOutputNorm?: Float32Array; // [h]
  /** OLMo-2: RMSNorm over the whole q (k) projection, before the split into heads and RoPE. */
  qNorm?: Float32Array; // [heads*headDim]
  kNorm?: Float32Array; // [kvHeads*headDim]
  /** Huginn: biases added to q and k before RoPE, already in rotate-half feature order. */
  qBias?: Float32Array; // [heads*headDim]
  kBias?: Float32Array; // [kvHeads*headDim]
}

/** Where the layers came from, recorded in the manifest. */
export interface LayerProvenance {
  prelude: number[];
  block: number[];
  coda: number[];
}

export interface RecurrentWeights {
  dims: ModelDims;
  embed: Float32Array; // [vocab, h]
  prelude: LayerWeights[];
  block: LayerWeights[];
  /** [h, 2h]; input is the concatenation [state ; e] (state first). Null when the block is empty. */
  adapter: Float32Array | null;
  coda: LayerWeights[];
  finalNorm: Float32Array; // [h]
  /** [vocab, h]; the same object as `embed` when the source ties embeddings. */
  head: Float32Array;
  tiedEmbeddings: boolean;
  /** Huginn: ln_f also normalises the last state before the coda (it is used twice). */
  finalNormBeforeCoda: boolean;
  layers: LayerProvenance;
}
