// Model surgery (DESIGN §4.8): a plain Llama or OLMo-2 becomes prelude + recurrent block + coda, joined by a
// linear adapter over [state ; e]. Raven checkpoints already have that shape (raven.ts).
import { SurgeryError } from "./errors.ts";
import { adapterStd } from "./init-scale.ts";
import { recurrentFromRaven } from "./raven.ts";
import { SeededRandom } from "./rng.ts";
import { readLlamaLayer, readOlmo2Layer, type SourceModel } from "./source.ts";
import type { LayerProvenance, LayerWeights, ModelDims, RecurrentWeights } from "./weights.ts";

/** A plain Llama whose parts are read on demand, so surgery loads only the layers it keeps. */
export interface LlamaLayerSource {
  dims: ModelDims;
  numLayers: number;
  readEmbedding(): Float32Array;
  /** null when the head is tied to the embedding. */
  readHead(): Float32Array | null;
  readFinalNorm(): Float32Array;
  readLayer(index: number): LayerWeights;
}

/** The lazy layer source of a Hugging Face Llama directory. */
export function llamaLayerSource(source: SourceModel): LlamaLayerSource {
  const { dims, tieWordEmbeddings, numLayers } = source.config;
  const { tensors } = source;
  return {
    dims,
    numLayers,
    readEmbedding: () =>
      tensors.read("model.embed_tokens.weight", [dims.vocabSize, dims.hiddenSize]),
    readHead: () =>
      tieWordEmbeddings || !tensors.has("lm_head.weight")
        ? null
        : tensors.read("lm_head.weight", [dims.vocabSize, dims.hiddenSize]),
    readFinalNorm: () => tensors.read("model.norm.weight", [dims.hiddenSize]),
    readLayer: (index) =>
      source.config.family === "olmo2"
        ? readOlmo2Layer(tensors, index, dims)
        : readLlamaLayer(tensors, index, dims),
  };
}

export type AdapterInit = "random" | "identity";

export interface SurgeryOptions {
  /** [P, B, C]: first P layers, the B layers just before the coda, the last C layers. */
  split?: readonly [number, number, number];
  /** Explicit source layer indices per part. */
  layers?: LayerProvenance;
  adapter?: AdapterInit;
  seed?: number;
}

/** Parses `--split 4,6,4`. */
export function parseSplit(text: string): [number, number, number] {
  const parts = text.split(",").map((p) => p.trim());
  if (parts.length !== 3 || parts.some((p) => !/^\d+$/.test(p))) {
    throw new SurgeryError(
      `--split "${text}" must be three non-negative integers P,B,C, e.g. 4,6,4`,
    );
  }
  return parts.map(Number) as [number, number, number];
}

/** Parses `--layers 0-3:6-11:12-15` (prelude:block:coda; ranges inclusive, commas allowed). */
export function parseLayerSpec(text: string): LayerProvenance {
  const groups = text.split(":");
  if (groups.length !== 3) {
    throw new SurgeryError(
      `--layers "${text}" needs three groups prelude:block:coda, e.g. 0-3:6-11:12-15`,
    );
  }
  const [prelude, block, coda] = groups.map((group) => parseLayerList(group, text));
  return { prelude, block, coda };
}

function parseLayerList(group: string, whole: string): number[] {
  if (group.trim() === "") return [];
  const layers: number[] = [];
  for (const item of group.split(",")) {
    const match = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(item);
    if (!match)
      throw new SurgeryError(`--layers "${whole}": "${item}" is not a layer or a range a-b`);
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    if (to < from) throw new SurgeryError(`--layers "${whole}": range ${item} runs backwards`);
    for (let i = from; i <= to; i++) layers.push(i);
  }
  return layers;
}

/** The layers a split keeps: first P, the B before the coda, last C (the rest are dropped). */
export function layersForSplit(
  split: readonly [number, number, number],
  numLayers: number,
): LayerProvenance {
  const [p, b, c] = split;
  if (p + b + c > numLayers) {
    throw new SurgeryError(
      `--split ${p},${b},${c} needs ${p + b + c} layers but the model has ${numLayers}; ` +
        `choose P+B+C ≤ ${numLayers}`,
    );
  }
  if (p + c === 0 && b === 0) throw new SurgeryError("--split 0,0,0 keeps no layers");
  const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
  return {
    prelude: range(0, p),
    block: range(numLayers - c - b, b),
    coda: range(numLayers - c, c),
  };
}

/**
 * Builds the recurrent model from a source. A Llama without `split`/`layers` stays non-recurrent
 * (every layer in the prelude, empty block), which is how a baseline is exported.
 */
export function buildRecurrentWeights(
  source: SourceModel,
  options: SurgeryOptions = {},
): RecurrentWeights {
  if (source.config.family === "raven") return recurrentFromRaven(source);
  return recurrentFromLlama(llamaLayerSource(source), options);
}

/** Surgery on any plain Llama layer source (a directory on disk or a random preset). */
export function recurrentFromLlama(
  source: LlamaLayerSource,
  options: SurgeryOptions = {},
): RecurrentWeights {
  return fromLlama(source, resolveLayers(source.numLayers, options), options);
}

function resolveLayers(n: number, options: SurgeryOptions): LayerProvenance {
  if (options.split && options.layers) {
    throw new SurgeryError("give either --split or --layers, not both");
  }
  if (options.split) return layersForSplit(options.split, n);
  if (options.layers) {
    for (const index of [
      ...options.layers.prelude,
      ...options.layers.block,
      ...options.layers.coda,
    ]) {
      if (index >= n) {
        throw new SurgeryError(
          `--layers names layer ${index} but the model has layers 0..${n - 1}`,
        );
      }
    }
    return options.layers;
  }
  return { prelude: Array.from({ length: n }, (_, i) => i), block: [], coda: [] };
}

function fromLlama(
  source: LlamaLayerSource,
  layers: LayerProvenance,
  options: SurgeryOptions,
): RecurrentWeights {
  const { dims } = source;
  const h = dims.hiddenSize;
  const embed = source.readEmbedding();
  const head = source.readHead() ?? embed;
  const read = (indices: number[]) => indices.map((i) => source.readLayer(i));
  const recurrent = layers.block.length > 0;
  return {
    dims,
    embed,
    prelude: read(layers.prelude),
    block: read(layers.block),
    adapter: recurrent ? makeAdapter(h, options.adapter ?? "random", options.seed ?? 0) : null,
    coda: read(layers.coda),
    finalNorm: source.readFinalNorm(),
    head,
    tiedEmbeddings: head === embed,
    finalNormBeforeCoda: false,
    layers,
  };
}

/**
 * The [h, 2h] adapter over [state ; e]. `identity` is [0 | I]: it passes e through and ignores the
 * state, so at r = 1 the recurrent model computes exactly what the source model computed.
 */
export function makeAdapter(h: number, init: AdapterInit, seed: number): Float32Array {
  const adapter = new Float32Array(h * 2 * h);
  if (init === "identity") {
    for (let row = 0; row < h; row++) adapter[row * 2 * h + h + row] = 1;
    return adapter;
  }
  return new SeededRandom(seed).fillTruncatedNormal(adapter, adapterStd(h));
}

export { adapterStd };
