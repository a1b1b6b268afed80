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
}

/** One pre-norm Llama decoder layer. */
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
  layers: LayerProvenance;
}
