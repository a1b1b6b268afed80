// The weights an fp16 export stores, as float32: the oracle's input for fp16 graphs.
import { floatToHalfBits } from "../onnx/half.ts";
import { halfToFloat } from "../safetensors.ts";
import type { LayerWeights, RecurrentWeights } from "../weights.ts";

export function roundedToHalf(weights: RecurrentWeights): RecurrentWeights {
  const round = (a: Float32Array) => Float32Array.from(a, (v) => halfToFloat(floatToHalfBits(v)));
  const layer = (l: LayerWeights): LayerWeights =>
    Object.fromEntries(Object.entries(l).map(([k, v]) => [k, round(v)])) as unknown as LayerWeights;
  const embed = round(weights.embed);
  return {
    ...weights,
    embed,
    head: weights.tiedEmbeddings ? embed : round(weights.head),
    prelude: weights.prelude.map(layer),
    block: weights.block.map(layer),
    coda: weights.coda.map(layer),
    adapter: weights.adapter && round(weights.adapter),
    finalNorm: round(weights.finalNorm),
  };
}
