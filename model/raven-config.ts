// The config.json of a raven (`huginn_raven`) checkpoint as the authors' code writes it
// (shared/RAVEN-FORMATS.md §1): `n_heads`/`n_embd`/`n_layers` on disk, with the HF names accepted
// as aliases. The flavour is not a config key: it follows from tensor names and `rope_theta`
// (§1.1), and it decides which keys mean anything (rope_theta vs rope_base, head_dim, the limit).
import { z } from "zod";
import {
  allIds,
  checkHeads,
  firstId,
  idOrIds,
  parseWith,
  RopeScalingSchema,
  ropeScalingOf,
} from "./config-fields.ts";
import { ModelConfigError, UnsupportedArchitectureError } from "./errors.ts";
import type { Flavour, SourceConfig, TensorNames } from "./hf-config.ts";
import type { NormPlacement } from "./weights.ts";

export type RavenFlavour = Extract<Flavour, "retrofit-llama" | "retrofit-olmo2" | "huginn">;

const positive = z.number().int().positive();

const RavenConfigSchema = z.object({
  n_embd: positive.optional(),
  hidden_size: positive.optional(),
  n_heads: positive.optional(),
  num_attention_heads: positive.optional(),
  num_key_value_heads: positive.optional(),
  head_dim: positive.nullish(),
  intermediate_size: positive,
  n_layers_in_prelude: z.number().int().nonnegative(),
  n_layers_in_recurrent_block: z.number().int().nonnegative(),
  n_layers_in_coda: z.number().int().nonnegative(),
  vocab_size: positive,
  padded_vocab_size: positive.optional(),
  block_size: positive.default(4096),
  max_position_embeddings: positive.optional(),
  norm_eps: z.number().positive().default(1e-6),
  rope_base: z.number().positive().optional(),
  rope_theta: z.number().positive().optional(),
  rope_scaling: RopeScalingSchema,
  tie_embeddings: z.boolean().optional(),
  tie_word_embeddings: z.boolean().optional(),
  bias: z.boolean().default(false),
  qk_bias: z.boolean().default(false),
  mean_recurrence: positive.optional(),
  init_values: z
    .object({ embed_scale: z.number().positive().optional(), std: z.number().min(0).optional() })
    .partial()
    .optional(),
  bos_token_id: idOrIds,
  eos_token_id: idOrIds,
});

type RavenRecord = z.infer<typeof RavenConfigSchema>;

const HUGINN_TENSOR = /\.(norm_3\.weight|norm_4\.weight|attn\.qk_bias)$/;
const OLMO2_TENSOR = /\.attn\.(q_norm|k_norm)\.weight$/;

const PLACEMENT: Record<RavenFlavour, NormPlacement> = {
  "retrofit-llama": "pre",
  "retrofit-olmo2": "post",
  huginn: "sandwich",
};

export function parseRavenConfig(
  record: Record<string, unknown>,
  where: string,
  architecture: string,
  tensorNames: TensorNames,
): SourceConfig {
  const c = parseWith(RavenConfigSchema, record, where);
  const hidden = required(c.n_embd ?? c.hidden_size, "n_embd", where);
  const heads = required(c.n_heads ?? c.num_attention_heads, "n_heads", where);
  const flavour = ravenFlavour(c, where, tensorNames);
  const kvHeads = c.num_key_value_heads ?? heads;
  const notes: string[] = [];
  if (c.bias) {
    throw new UnsupportedArchitectureError(
      `${where}: key bias is true (linear layers with biases, the adapter's included); evals ` +
        "computes bias-free raven layers only and will not drop the biases; set bias to false only " +
        "if the checkpoint has no bias tensors",
    );
  }
  // Huginn and Llama retrofits split heads by n_embd // n_heads; only OLMo-2 reads head_dim (§4).
  const headDim = flavour === "retrofit-olmo2" ? (c.head_dim ?? hidden / heads) : hidden / heads;
  if (flavour === "retrofit-llama" && c.head_dim && c.head_dim !== headDim) {
    throw new ModelConfigError(
      `${where}: head_dim ${c.head_dim} differs from n_embd / n_heads = ${headDim}; a Llama ` +
        "retrofit's attention uses n_embd / n_heads and its RoPE uses head_dim, so it cannot run; fix config.json",
    );
  }
  checkHeads(where, heads, kvHeads, headDim);
  if (flavour === "huginn" && kvHeads !== heads) {
    throw new UnsupportedArchitectureError(
      `${where}: key num_key_value_heads ${kvHeads} differs from n_heads ${heads}; Huginn ` +
        "attention (qk_bias over all heads, no GQA) needs them equal; fix config.json",
    );
  }
  const split = {
    prelude: c.n_layers_in_prelude,
    block: c.n_layers_in_recurrent_block,
    coda: c.n_layers_in_coda,
  };

  let ropeTheta: number;
  let maxPositions: number;
  let embedScale: number;
  if (flavour === "huginn") {
    ropeTheta = c.rope_base ?? 50000;
    maxPositions = c.block_size;
    embedScale = Math.sqrt(hidden);
    if (c.rope_scaling) notes.push("rope_scaling ignored: Huginn's RoPE does not read it");
    const configured = c.init_values?.embed_scale;
    if (configured !== undefined && Math.abs(configured - embedScale) > 1e-3 * embedScale) {
      notes.push(
        `init_values.embed_scale ${configured} ignored: Huginn scales embeddings by sqrt(n_embd) = ${embedScale}`,
      );
    }
  } else {
    ropeTheta = c.rope_theta!;
    if (c.rope_base !== undefined && c.rope_base !== ropeTheta) {
      notes.push(`rope_base ${c.rope_base} ignored: retrofits rotate with rope_theta ${ropeTheta}`);
    }
    maxPositions = c.max_position_embeddings ?? c.block_size;
    if (c.max_position_embeddings === undefined) {
      notes.push(`no max_position_embeddings: positions limited to block_size ${c.block_size}`);
    }
    embedScale = c.init_values?.embed_scale ?? 1;
  }
  const std = c.init_values?.std ?? Math.sqrt(2 / (5 * hidden));

  return {
    family: "raven",
    flavour,
    architecture,
    dims: {
      hiddenSize: hidden,
      numHeads: heads,
      numKvHeads: kvHeads,
      headDim,
      intermediateSize: c.intermediate_size,
      vocabSize: c.padded_vocab_size ?? c.vocab_size,
      maxPositionEmbeddings: maxPositions,
      rmsNormEps: c.norm_eps,
      ropeTheta,
      ropeScaling: flavour === "huginn" ? null : ropeScalingOf(c.rope_scaling, where),
      embedScale,
      normPlacement: PLACEMENT[flavour],
    },
    numLayers: split.prelude + split.block + split.coda,
    tieWordEmbeddings: c.tie_embeddings ?? c.tie_word_embeddings ?? true,
    bosTokenId: firstId(c.bos_token_id),
    eosTokenIds: allIds(c.eos_token_id),
    ravenSplit: split,
    configDefaultRecurrence: c.mean_recurrence ?? null,
    // initialize_state: trunc_normal(std) then times the embedding scale (§5).
    stateInitStd: std > 0 ? std * embedScale : null,
    qkBias: c.qk_bias,
    notes,
  };
}

/** Decides the flavour from the markers of RAVEN-FORMATS §1.1; mixed markers are refused. */
function ravenFlavour(c: RavenRecord, where: string, tensorNames: TensorNames): RavenFlavour {
  let huginnTensor: string | null = null;
  let olmoTensor: string | null = null;
  for (const name of tensorNames()) {
    if (!huginnTensor && HUGINN_TENSOR.test(name)) huginnTensor = name;
    if (!olmoTensor && OLMO2_TENSOR.test(name)) olmoTensor = name;
  }
  const weights = where.replace(/config\.json$/, "model.safetensors*");
  const mixed = (a: string, b: string): never => {
    throw new UnsupportedArchitectureError(
      `${where}: the checkpoint mixes markers of two raven flavours: ${a} and ${b}; ` +
        "it is neither Huginn nor a retrofit as their authors wrote them; re-convert it or fix config.json",
    );
  };
  const huginnMarker = huginnTensor
    ? `Huginn tensor ${huginnTensor} (${weights})`
    : c.qk_bias
      ? "Huginn key qk_bias: true"
      : null;
  const retrofitMarker = olmoTensor
    ? `OLMo-2 retrofit tensor ${olmoTensor} (${weights})`
    : c.rope_theta !== undefined
      ? `retrofit key rope_theta ${c.rope_theta}`
      : null;
  if (huginnMarker && retrofitMarker) mixed(huginnMarker, retrofitMarker);
  if (huginnMarker) {
    if (huginnTensor && !c.qk_bias && huginnTensor.endsWith("qk_bias")) {
      mixed(`Huginn tensor ${huginnTensor}`, "key qk_bias: false");
    }
    return "huginn";
  }
  if (c.rope_theta === undefined) {
    throw new ModelConfigError(
      `${where}: no rope_theta and no Huginn tensors (norm_3/norm_4/attn.qk_bias): a retrofit ` +
        "needs its source model's rope_theta (rope_base is a dead value there); add rope_theta to config.json",
    );
  }
  return olmoTensor ? "retrofit-olmo2" : "retrofit-llama";
}

function required(value: number | undefined, key: string, where: string): number {
  if (value === undefined) {
    throw new ModelConfigError(`${where}: field ${key}: Required; fix config.json`);
  }
  return value;
}
