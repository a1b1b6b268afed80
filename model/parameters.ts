// Parameter counts per part (DESIGN §3), from shapes alone so they match the manifest's meaning.
import type { Manifest } from "./manifest.ts";
import type { LayerWeights, ModelDims, RecurrentWeights } from "./weights.ts";

export function layerParameters(dims: ModelDims): number {
  const h = dims.hiddenSize;
  const q = dims.numHeads * dims.headDim;
  const kv = dims.numKvHeads * dims.headDim;
  return 2 * h + 2 * q * h + 2 * kv * h + 3 * dims.intermediateSize * h;
}

/** Every stored value of a layer, the flavour's extra norms and q/k biases included. */
export function storedLayerParameters(layer: LayerWeights): number {
  return Object.values(layer).reduce(
    (n: number, w: Float32Array | undefined) => n + (w?.length ?? 0),
    0,
  );
}

export function countParameters(weights: RecurrentWeights): Manifest["parameters"] {
  const { dims } = weights;
  const h = dims.hiddenSize;
  const sum = (layers: LayerWeights[]) =>
    layers.reduce((n, layer) => n + storedLayerParameters(layer), 0);
  const parts = {
    embedding: dims.vocabSize * h,
    prelude: sum(weights.prelude),
    adapter: weights.adapter ? 2 * h * h : 0,
    block: sum(weights.block),
    coda: sum(weights.coda),
    head: dims.vocabSize * h + h,
  };
  const total = Object.values(parts).reduce((a, b) => a + b, 0);
  return { ...parts, total: total - (weights.tiedEmbeddings ? dims.vocabSize * h : 0) };
}
