// A source model on disk (a Hugging Face directory): its config, its tensors and the hashes of its
// files, read lazily so that surgery only loads the layers it keeps.
import { createHash } from "node:crypto";
import { createReadStream, existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { ModelConfigError } from "./errors.ts";
import { readSourceConfig, type SourceConfig } from "./hf-config.ts";
import { findSafetensors, openSafetensors, type SafetensorsCollection } from "./safetensors.ts";
import type { LayerWeights, ModelDims } from "./weights.ts";

export const TOKENIZER_FILES = [
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "generation_config.json",
] as const;

export interface SourceModel {
  dir: string;
  config: SourceConfig;
  tensors: SafetensorsCollection;
}

/** Opens a Hugging Face model directory: config.json plus safetensors weights. */
export function loadSourceModel(dir: string): SourceModel {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ModelConfigError(`model directory not found: ${dir}`);
  }
  let tensors: SafetensorsCollection | null = null;
  const openTensors = () => {
    tensors ??= openSafetensors(findSafetensors(dir));
    return tensors;
  };
  // Raven flavours are told apart by tensor names, so the config reader may need them.
  const config = readSourceConfig(dir, () => openTensors().tensors.keys());
  return { dir, config, tensors: openTensors() };
}

/** sha256 of every regular file of the model directory that describes the model. */
export async function hashSourceFiles(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (!statSync(path).isFile()) continue;
    if (!/\.(json|safetensors|model|txt)$/.test(name)) continue;
    files[name] = await sha256File(path);
  }
  return files;
}

/** Streams a file through sha256. */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(path)
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")));
  });
}

/** Reads decoder layer `index` of a Llama checkpoint (`model.layers.{i}.…`). */
export function readLlamaLayer(
  tensors: SafetensorsCollection,
  index: number,
  dims: ModelDims,
): LayerWeights {
  return readHfDecoderLayer(tensors, index, dims, {
    inputNorm: "input_layernorm",
    postNorm: "post_attention_layernorm",
  });
}

/**
 * Reads decoder layer `index` of an OLMo-2 checkpoint: post-norm, so its two norms land where a
 * raven OLMo-2 retrofit keeps them (norm_1 ← post_attention_layernorm, norm_2 ←
 * post_feedforward_layernorm), plus q_norm/k_norm over the whole projections.
 */
export function readOlmo2Layer(
  tensors: SafetensorsCollection,
  index: number,
  dims: ModelDims,
): LayerWeights {
  const p = `model.layers.${index}`;
  return {
    ...readHfDecoderLayer(tensors, index, dims, {
      inputNorm: "post_attention_layernorm",
      postNorm: "post_feedforward_layernorm",
    }),
    qNorm: tensors.read(`${p}.self_attn.q_norm.weight`, [dims.numHeads * dims.headDim]),
    kNorm: tensors.read(`${p}.self_attn.k_norm.weight`, [dims.numKvHeads * dims.headDim]),
  };
}

/** The projections and MLP both HF layouts share, with the two norms named per family. */
function readHfDecoderLayer(
  tensors: SafetensorsCollection,
  index: number,
  dims: ModelDims,
  norms: { inputNorm: string; postNorm: string },
): LayerWeights {
  const h = dims.hiddenSize;
  const q = dims.numHeads * dims.headDim;
  const kv = dims.numKvHeads * dims.headDim;
  const i = dims.intermediateSize;
  const p = `model.layers.${index}`;
  return {
    inputNorm: tensors.read(`${p}.${norms.inputNorm}.weight`, [h]),
    q: tensors.read(`${p}.self_attn.q_proj.weight`, [q, h]),
    k: tensors.read(`${p}.self_attn.k_proj.weight`, [kv, h]),
    v: tensors.read(`${p}.self_attn.v_proj.weight`, [kv, h]),
    o: tensors.read(`${p}.self_attn.o_proj.weight`, [h, q]),
    postNorm: tensors.read(`${p}.${norms.postNorm}.weight`, [h]),
    gate: tensors.read(`${p}.mlp.gate_proj.weight`, [i, h]),
    up: tensors.read(`${p}.mlp.up_proj.weight`, [i, h]),
    down: tensors.read(`${p}.mlp.down_proj.weight`, [h, i]),
  };
}
