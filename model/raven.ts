// Raven checkpoints (DESIGN §4.7): a model already split into prelude, recurrent block and coda,
// with fused attention and MLP projections that are cut apart here into the in-memory layout.
import { UnsupportedArchitectureError } from "./errors.ts";
import type { SafetensorsCollection } from "./safetensors.ts";
import type { SourceModel } from "./source.ts";
import type { LayerWeights, ModelDims, RecurrentWeights } from "./weights.ts";

type RavenPart = "prelude" | "core_block" | "coda";

// Huginn's sandwich norms and qk bias, OLMo-2's q/k norms: layers this importer would silently
// compute wrongly, so their presence is refused by name.
const FOREIGN_LAYER_TENSOR =
  /\.(norm_3|norm_4|attn\.qk_bias|attn\.q_norm|attn\.k_norm)(\.weight)?$/;

/** The recurrent model stored in a raven checkpoint, with its own split and trained adapter. */
export function recurrentFromRaven(source: SourceModel): RecurrentWeights {
  const { dims, ravenSplit: split, tieWordEmbeddings } = source.config;
  if (!split) throw new Error(`${source.dir} is not a raven checkpoint`);
  const { tensors } = source;
  refuseForeignLayers(tensors, source.dir);
  const h = dims.hiddenSize;
  const embed = tensors.read("transformer.wte.weight", [dims.vocabSize, h]);
  const head =
    tieWordEmbeddings || !tensors.has("lm_head.weight")
      ? embed
      : tensors.read("lm_head.weight", [dims.vocabSize, h]);
  const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
  const read = (part: RavenPart, n: number) =>
    range(0, n).map((i) => readRavenLayer(tensors, part, i, dims));
  return {
    dims,
    embed,
    prelude: read("prelude", split.prelude),
    block: read("core_block", split.block),
    adapter: split.block > 0 ? tensors.read("transformer.adapter.weight", [h, 2 * h]) : null,
    coda: read("coda", split.coda),
    finalNorm: tensors.read("transformer.ln_f.weight", [h]),
    head,
    tiedEmbeddings: head === embed,
    layers: {
      prelude: range(0, split.prelude),
      block: range(split.prelude, split.block),
      coda: range(split.prelude + split.block, split.coda),
    },
  };
}

/**
 * Reads one layer (`transformer.{part}.{i}.…`): `attn.Wqkv` rows are [q; k; v] and `mlp.fc` rows
 * are [gate; up]; the parts are views into the fused tensors, not copies.
 */
export function readRavenLayer(
  tensors: SafetensorsCollection,
  part: RavenPart,
  index: number,
  dims: ModelDims,
): LayerWeights {
  const h = dims.hiddenSize;
  const q = dims.numHeads * dims.headDim;
  const kv = dims.numKvHeads * dims.headDim;
  const i = dims.intermediateSize;
  const p = `transformer.${part}.${index}`;
  const qkv = tensors.read(`${p}.attn.Wqkv.weight`, [q + 2 * kv, h]);
  const fc = tensors.read(`${p}.mlp.fc.weight`, [2 * i, h]);
  return {
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
}

function refuseForeignLayers(tensors: SafetensorsCollection, dir: string): void {
  for (const name of tensors.tensors.keys()) {
    if (FOREIGN_LAYER_TENSOR.test(name)) {
      throw new UnsupportedArchitectureError(
        `${dir}: tensor ${name} belongs to a Huginn sandwich-norm or OLMo-2 layer; evals imports ` +
          "raven checkpoints with pre-norm Llama layers (norm_1, attn.Wqkv, attn.proj, norm_2, mlp)",
      );
    }
  }
}
