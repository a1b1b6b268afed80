// Raven checkpoints (shared/RAVEN-FORMATS.md §2): a model already split into prelude, recurrent
// block and coda, with fused attention and MLP projections that are cut apart here into the
// in-memory layout. Three flavours share the names; their extra tensors are read per flavour, and
// a tensor no flavour explains is refused rather than ignored.
import { UnsupportedArchitectureError } from "./errors.ts";
import type { SafetensorsCollection } from "./safetensors.ts";
import type { SourceModel } from "./source.ts";
import type { LayerWeights, ModelDims, RecurrentWeights } from "./weights.ts";

type RavenPart = "prelude" | "core_block" | "coda";

/** Huginn's RoPE table, a persistent buffer saved with the weights; recomputed, never read. */
const IGNORED_TENSORS = new Set(["freqs_cis"]);

/** The recurrent model stored in a raven checkpoint, with its own split and trained adapter. */
export function recurrentFromRaven(source: SourceModel): RecurrentWeights {
  const { dims, ravenSplit: split, tieWordEmbeddings, flavour, qkBias } = source.config;
  if (!split) throw new Error(`${source.dir} is not a raven checkpoint`);
  const used = new Set<string>();
  const tensors = trackingReads(source.tensors, used);
  const h = dims.hiddenSize;
  const embed = tensors.read("transformer.wte.weight", [dims.vocabSize, h]);
  // Huginn ties the head and saves only wte; retrofits always store lm_head.
  if (tieWordEmbeddings) used.add("lm_head.weight");
  const head = tieWordEmbeddings ? embed : tensors.read("lm_head.weight", [dims.vocabSize, h]);
  const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
  const layer = { huginn: flavour === "huginn", olmo2: flavour === "retrofit-olmo2", qkBias };
  const read = (part: RavenPart, n: number) =>
    range(0, n).map((i) => readRavenLayer(tensors, part, i, dims, layer));
  const weights: RecurrentWeights = {
    dims,
    embed,
    prelude: read("prelude", split.prelude),
    block: read("core_block", split.block),
    adapter: split.block > 0 ? tensors.read("transformer.adapter.weight", [h, 2 * h]) : null,
    coda: read("coda", split.coda),
    finalNorm: tensors.read("transformer.ln_f.weight", [h]),
    head,
    tiedEmbeddings: head === embed,
    finalNormBeforeCoda: flavour === "huginn",
    layers: {
      prelude: range(0, split.prelude),
      block: range(split.prelude, split.block),
      coda: range(split.prelude + split.block, split.coda),
    },
  };
  refuseUnread(source, used);
  return weights;
}

interface LayerKind {
  huginn: boolean;
  olmo2: boolean;
  qkBias: boolean;
}

/**
 * Reads one layer (`transformer.{part}.{i}.…`): `attn.Wqkv` rows are [q; k; v] and `mlp.fc` rows
 * are [gate; up]. Huginn's q/k rows (and qk_bias) are permuted per head from interleaved RoPE pairs
 * to rotate-half order, which leaves q·k unchanged and lets every backend use one RoPE (§4).
 */
export function readRavenLayer(
  tensors: Pick<SafetensorsCollection, "read">,
  part: RavenPart,
  index: number,
  dims: ModelDims,
  kind: LayerKind = { huginn: false, olmo2: false, qkBias: false },
): LayerWeights {
  const h = dims.hiddenSize;
  const q = dims.numHeads * dims.headDim;
  const kv = dims.numKvHeads * dims.headDim;
  const i = dims.intermediateSize;
  const p = `transformer.${part}.${index}`;
  const qkv = tensors.read(`${p}.attn.Wqkv.weight`, [q + 2 * kv, h]);
  const fc = tensors.read(`${p}.mlp.fc.weight`, [2 * i, h]);
  const layer: LayerWeights = {
    inputNorm: tensors.read(`${p}.norm_1.weight`, [h]),
    q: qkv.subarray(0, q * h),
    k: qkv.subarray(q * h, (q + kv) * h),
    v: qkv.subarray((q + kv) * h, (q + 2 * kv) * h),
    o: tensors.read(`${p}.attn.proj.weight`, [h, q]),
    postNorm: tensors.read(`${p}.norm_2.weight`, [h]),
    gate: fc.subarray(0, i * h),
    up: fc.subarray(i * h, 2 * i * h),
    down: tensors.read(`${p}.mlp.proj.weight`, [h, i]),
  };
  if (kind.olmo2) {
    layer.qNorm = tensors.read(`${p}.attn.q_norm.weight`, [q]);
    layer.kNorm = tensors.read(`${p}.attn.k_norm.weight`, [kv]);
  }
  if (kind.huginn) {
    layer.mlpInputNorm = tensors.read(`${p}.norm_3.weight`, [h]);
    layer.mlpOutputNorm = tensors.read(`${p}.norm_4.weight`, [h]);
    const d = dims.headDim;
    layer.q = interleavedToRotateHalf(layer.q, dims.numHeads, d, h);
    layer.k = interleavedToRotateHalf(layer.k, dims.numKvHeads, d, h);
    if (kind.qkBias) {
      const bias = tensors.read(`${p}.attn.qk_bias`, [2, 1, dims.numHeads, d]);
      layer.qBias = interleavedToRotateHalf(bias.subarray(0, q), dims.numHeads, d, 1);
      layer.kBias = interleavedToRotateHalf(bias.subarray(q, 2 * q), dims.numHeads, d, 1);
    }
  }
  return layer;
}

/**
 * Rows [heads·d, cols] with each head's features as interleaved pairs (x0,x1),(x2,x3),… →
 * rotate-half order (x0,x2,…,x1,x3,…), so pair i becomes features (i, i + d/2).
 */
export function interleavedToRotateHalf(
  rows: Float32Array,
  heads: number,
  d: number,
  cols: number,
): Float32Array {
  const out = new Float32Array(rows.length);
  const half = d / 2;
  for (let head = 0; head < heads; head++) {
    for (let j = 0; j < d; j++) {
      const from = j < half ? 2 * j : 2 * (j - half) + 1;
      const src = (head * d + from) * cols;
      out.set(rows.subarray(src, src + cols), (head * d + j) * cols);
    }
  }
  return out;
}

function trackingReads(tensors: SafetensorsCollection, used: Set<string>) {
  return {
    read(name: string, shape?: readonly number[]): Float32Array {
      used.add(name);
      return tensors.read(name, shape);
    },
  };
}

function refuseUnread(source: SourceModel, used: ReadonlySet<string>): void {
  for (const [name, info] of source.tensors.tensors) {
    if (used.has(name) || IGNORED_TENSORS.has(name)) continue;
    throw new UnsupportedArchitectureError(
      `${info.file}: tensor ${name} has no place in a ${source.config.flavour} raven checkpoint ` +
        `(config ${source.dir}/config.json); evals would compute without it, so it refuses; ` +
        "remove the tensor or fix config.json (split, qk_bias, tie_embeddings)",
    );
  }
}
