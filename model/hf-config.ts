// Parses a Hugging Face config.json into ModelDims plus the facts surgery needs. Three families are
// understood: plain Llama (`LlamaForCausalLM`), plain OLMo-2 (`Olmo2ForCausalLM`) and raven
// checkpoints (`model_type` `huginn_raven`, read by raven-config.ts).
import { existsSync, readFileSync } from "node:fs";
import { z } from "zod";
import {
  allIds,
  checkHeads,
  firstId,
  idOrIds,
  parseWith,
  RopeScalingSchema,
  ropeScalingOf,
  unsupported,
} from "./config-fields.ts";
import { ModelConfigError, UnsupportedArchitectureError } from "./errors.ts";
import { parseRavenConfig } from "./raven-config.ts";
import type { ModelDims } from "./weights.ts";

/** What a checkpoint computes: a plain source for surgery, or one of the raven flavours. */
export type Flavour = "llama" | "olmo2" | "retrofit-llama" | "retrofit-olmo2" | "huginn";

export interface SourceConfig {
  family: "llama" | "olmo2" | "raven";
  flavour: Flavour;
  architecture: string;
  dims: ModelDims;
  numLayers: number;
  tieWordEmbeddings: boolean;
  /** As configured; for raven checkpoints only candidates the tokenizer must confirm. */
  bosTokenId: number | null;
  eosTokenIds: number[];
  /** Raven only: the split the checkpoint was trained with. */
  ravenSplit: { prelude: number; block: number; coda: number } | null;
  /** Raven only: `mean_recurrence`, the r a bare forward uses; not evidence of the training r. */
  configDefaultRecurrence: number | null;
  /** Raven only: std of the truncated-normal initial state, embedding scale included. */
  stateInitStd: number | null;
  /** Raven only: `qk_bias` (Huginn's q/k biases are stored and must be read). */
  qkBias: boolean;
  /** Raven only: config values read but deliberately not used, for the export log. */
  notes: string[];
}

/** The tensor names of the checkpoint, for raven flavour detection (read lazily). */
export type TensorNames = () => Iterable<string>;

const LlamaConfigSchema = z.object({
  hidden_size: z.number().int().positive(),
  intermediate_size: z.number().int().positive(),
  num_hidden_layers: z.number().int().positive(),
  num_attention_heads: z.number().int().positive(),
  num_key_value_heads: z.number().int().positive().optional(),
  head_dim: z.number().int().positive().nullish(),
  vocab_size: z.number().int().positive(),
  max_position_embeddings: z.number().int().positive().default(2048),
  rms_norm_eps: z.number().positive().default(1e-6),
  rope_theta: z.number().positive().default(10000),
  rope_scaling: RopeScalingSchema,
  hidden_act: z.string().default("silu"),
  attention_bias: z.boolean().default(false),
  mlp_bias: z.boolean().default(false),
  tie_word_embeddings: z.boolean().default(false),
  bos_token_id: idOrIds,
  eos_token_id: idOrIds,
});

/** Reads and interprets `<dir>/config.json`. */
export function readSourceConfig(dir: string, tensorNames: TensorNames = () => []): SourceConfig {
  const path = `${dir}/config.json`;
  if (!existsSync(path)) {
    throw new ModelConfigError(`no config.json in ${dir}; is this a Hugging Face model directory?`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ModelConfigError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  return parseSourceConfig(raw, path, tensorNames);
}

/** Interprets a parsed config.json; `where` names it in errors. */
export function parseSourceConfig(
  raw: unknown,
  where: string,
  tensorNames: TensorNames = () => [],
): SourceConfig {
  const record = (raw ?? {}) as Record<string, unknown>;
  const modelType = String(record.model_type ?? "");
  const architectures = Array.isArray(record.architectures) ? record.architectures.map(String) : [];
  if (modelType === "huginn_raven" || architectures.includes("RavenForCausalLM")) {
    return parseRavenConfig(record, where, architectures[0] ?? "RavenForCausalLM", tensorNames);
  }
  if (modelType === "llama" || architectures.includes("LlamaForCausalLM")) {
    return parseLlama(record, where, architectures[0] ?? "LlamaForCausalLM", "llama");
  }
  if (modelType === "olmo2" || architectures.includes("Olmo2ForCausalLM")) {
    return parseLlama(record, where, architectures[0] ?? "Olmo2ForCausalLM", "olmo2");
  }
  throw new UnsupportedArchitectureError(
    `${where}: model_type "${modelType || "(none)"}", architectures [${architectures.join(", ")}] ` +
      "is not supported; evals imports LlamaForCausalLM, Olmo2ForCausalLM and huginn_raven " +
      "(RavenForCausalLM) checkpoints",
  );
}

/** Llama and OLMo-2 configs share their keys; OLMo-2 differs in the layer (post-norm, q/k norms). */
function parseLlama(
  record: Record<string, unknown>,
  where: string,
  arch: string,
  family: "llama" | "olmo2",
): SourceConfig {
  const c = parseWith(LlamaConfigSchema, record, where);
  if (c.hidden_act !== "silu") unsupported(where, `hidden_act "${c.hidden_act}" (only silu)`);
  if (c.attention_bias || c.mlp_bias)
    unsupported(where, "attention_bias/mlp_bias (bias-free only)");
  const numKvHeads = c.num_key_value_heads ?? c.num_attention_heads;
  const headDim = c.head_dim ?? c.hidden_size / c.num_attention_heads;
  checkHeads(where, c.num_attention_heads, numKvHeads, headDim);
  return {
    family,
    flavour: family,
    architecture: arch,
    dims: {
      hiddenSize: c.hidden_size,
      numHeads: c.num_attention_heads,
      numKvHeads,
      headDim,
      intermediateSize: c.intermediate_size,
      vocabSize: c.vocab_size,
      maxPositionEmbeddings: c.max_position_embeddings,
      rmsNormEps: c.rms_norm_eps,
      ropeTheta: c.rope_theta,
      ropeScaling: ropeScalingOf(c.rope_scaling, where),
      embedScale: 1,
      normPlacement: family === "olmo2" ? "post" : "pre",
    },
    numLayers: c.num_hidden_layers,
    tieWordEmbeddings: c.tie_word_embeddings,
    bosTokenId: firstId(c.bos_token_id),
    eosTokenIds: allIds(c.eos_token_id),
    ravenSplit: null,
    configDefaultRecurrence: null,
    stateInitStd: null,
    qkBias: false,
    notes: [],
  };
}
