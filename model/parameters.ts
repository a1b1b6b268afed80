// Parameter counts per part (DESIGN §3), from shapes alone so they match the manifest's meaning.
import type { Manifest } from "./manifest.ts";
import type { ModelDims, RecurrentWeights } from "./weights.ts";

export function layerParameters(dims: ModelDims): number {
  const h = dims.hiddenSize;
  const q = dims.numHeads * dims.headDim;
  const kv = dims.numKvHeads * dims.headDim;
  return 2 * h + 2 * q * h + 2 * kv * h + 3 * dims.intermediateSize * h;
}

export function countParameters(weights: RecurrentWeights): Manifest["parameters"] {
  const { dims } = weights;
  const perLayer = layerParameters(dims);
  const h = dims.hiddenSize;
  const parts = {
    embedding: dims.vocabSize * h,
    prelude: weights.prelude.length * perLayer,
    adapter: weights.adapter ? 2 * h * h : 0,
    block: weights.block.length * perLayer,
    coda: weights.coda.length * perLayer,
    head: dims.vocabSize * h + h,
  };
  const sum = Object.values(parts).reduce((a, b) => a + b, 0);
  return { ...parts, total: sum - (weights.tiedEmbeddings ? dims.vocabSize * h : 0) };
}
