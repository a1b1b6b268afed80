// Parses a Hugging Face config.json into ModelDims plus the facts surgery needs. Two families are
// understood: plain Llama (`LlamaForCausalLM`) and raven retrofits (`model_type` `huginn_raven`).
import { existsSync, readFileSync } from "node:fs";
import { z } from "zod";
import { ModelConfigError, UnsupportedArchitectureError } from "./errors.ts";
import type { ModelDims, RopeScalingLlama3 } from "./weights.ts";

export interface SourceConfig {
  family: "llama" | "raven";
  architecture: string;
  dims: ModelDims;
  numLayers: number;
  tieWordEmbeddings: boolean;
  bosTokenId: number | null;
  eosTokenIds: number[];
  /** Raven only: the split the checkpoint was trained with. */
  ravenSplit: { prelude: number; block: number; coda: number } | null;
  /** Raven only: the mean recurrence used in training. */
  trainRecurrence: number | null;
  /** Raven only: std of the truncated-normal initial state, when the config gives one. */
  stateInitStd: number | null;
}

const idOrIds = z.union([z.number().int(), z.array(z.number().int())]).nullish();

const RopeScalingSchema = z
  .object({
    rope_type: z.string().optional(),
    type: z.string().optional(),
    factor: z.number().optional(),
    low_freq_factor: z.number().optional(),
    high_freq_factor: z.number().optional(),
    original_max_position_embeddings: z.number().optional(),
  })
  .nullish();

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

const RavenConfigSchema = z.object({
  n_embd: z.number().int().positive(),
  intermediate_size: z.number().int().positive(),
  num_attention_heads: z.number().int().positive(),
  num_key_value_heads: z.number().int().positive().optional(),
  n_layers_in_prelude: z.number().int().nonnegative(),
  n_layers_in_recurrent_block: z.number().int().nonnegative(),
  n_layers_in_coda: z.number().int().nonnegative(),
  vocab_size: z.number().int().positive(),
  padded_vocab_size: z.number().int().positive().optional(),
  block_size: z.number().int().positive().default(4096),
  norm_eps: z.number().positive().default(1e-5),
  rope_base: z.number().positive().default(50000),
  rope_scaling: RopeScalingSchema,
  tie_embeddings: z.boolean().optional(),
  tie_word_embeddings: z.boolean().optional(),
  mean_recurrence: z.number().int().positive().optional(),
  init_values: z
    .object({ embed_scale: z.number().positive().optional(), std: z.number().optional() })
    .partial()
    .optional(),
});

/** Reads and interprets `<dir>/config.json`. */
export function readSourceConfig(dir: string): SourceConfig {
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
  return parseSourceConfig(raw, path);
}

/** Interprets a parsed config.json; `where` names it in errors. */
export function parseSourceConfig(raw: unknown, where: string): SourceConfig {
  const record = (raw ?? {}) as Record<string, unknown>;
  const modelType = String(record.model_type ?? "");
  const architectures = Array.isArray(record.architectures) ? record.architectures.map(String) : [];
  if (modelType === "huginn_raven" || architectures.includes("RavenForCausalLM")) {
    return parseRaven(record, where, architectures[0] ?? "RavenForCausalLM");
  }
  if (modelType === "llama" || architectures.includes("LlamaForCausalLM")) {
    return parseLlama(record, where, architectures[0] ?? "LlamaForCausalLM");
  }
  throw new UnsupportedArchitectureError(
    `${where}: model_type "${modelType || "(none)"}", architectures [${architectures.join(", ")}] ` +
      "is not supported; evals imports LlamaForCausalLM and huginn_raven (RavenForCausalLM) checkpoints",
  );
}

function parseLlama(record: Record<string, unknown>, where: string, arch: string): SourceConfig {
  const c = parseWith(LlamaConfigSchema, record, where);
  if (c.hidden_act !== "silu") unsupported(where, `hidden_act "${c.hidden_act}" (only silu)`);
  if (c.attention_bias || c.mlp_bias)
    unsupported(where, "attention_bias/mlp_bias (bias-free only)");
  const numKvHeads = c.num_key_value_heads ?? c.num_attention_heads;
  const headDim = c.head_dim ?? c.hidden_size / c.num_attention_heads;
  checkHeads(where, c.num_attention_heads, numKvHeads, headDim);
  return {
    family: "llama",
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
    },
    numLayers: c.num_hidden_layers,
    tieWordEmbeddings: c.tie_word_embeddings,
    bosTokenId: firstId(c.bos_token_id),
    eosTokenIds: allIds(c.eos_token_id),
    ravenSplit: null,
    trainRecurrence: null,
    stateInitStd: null,
  };
}

function parseRaven(record: Record<string, unknown>, where: string, arch: string): SourceConfig {
  const c = parseWith(RavenConfigSchema, record, where);
  const numKvHeads = c.num_key_value_heads ?? c.num_attention_heads;
  const headDim = c.n_embd / c.num_attention_heads;
  checkHeads(where, c.num_attention_heads, numKvHeads, headDim);
  const split = {
    prelude: c.n_layers_in_prelude,
    block: c.n_layers_in_recurrent_block,
    coda: c.n_layers_in_coda,
  };
  return {
    family: "raven",
    architecture: arch,
    dims: {
      hiddenSize: c.n_embd,
      numHeads: c.num_attention_heads,
      numKvHeads,
      headDim,
      intermediateSize: c.intermediate_size,
      vocabSize: c.padded_vocab_size ?? c.vocab_size,
      maxPositionEmbeddings: c.block_size,
      rmsNormEps: c.norm_eps,
      ropeTheta: c.rope_base,
      ropeScaling: ropeScalingOf(c.rope_scaling, where),
      embedScale: c.init_values?.embed_scale ?? 1,
    },
    numLayers: split.prelude + split.block + split.coda,
    tieWordEmbeddings: c.tie_embeddings ?? c.tie_word_embeddings ?? false,
    // Released raven configs carry wrong bos/eos (65504/65505): the tokenizer decides (DESIGN §4.7).
    bosTokenId: null,
    eosTokenIds: [],
    ravenSplit: split,
    trainRecurrence: c.mean_recurrence ?? null,
    stateInitStd: c.init_values?.std ?? null,
  };
}

function parseWith<T>(schema: z.ZodType<T>, record: unknown, where: string): T {
  const parsed = schema.safeParse(record);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new ModelConfigError(
    `${where}: field ${issue.path.join(".") || "(root)"}: ${issue.message}; fix config.json`,
  );
}

function checkHeads(where: string, heads: number, kvHeads: number, headDim: number): void {
  if (!Number.isInteger(headDim)) unsupported(where, "hidden size not divisible by the head count");
  if (heads % kvHeads !== 0) {
    throw new ModelConfigError(
      `${where}: num_attention_heads ${heads} is not a multiple of num_key_value_heads ${kvHeads}`,
    );
  }
}

function ropeScalingOf(
  scaling: z.infer<typeof RopeScalingSchema>,
  where: string,
): RopeScalingLlama3 | null {
  if (!scaling) return null;
  const type = scaling.rope_type ?? scaling.type;
  if (type === "default") return null;
  if (type !== "llama3") unsupported(where, `rope_scaling type "${type}" (only llama3)`);
  return {
    type: "llama3",
    factor: scaling.factor ?? 8,
    lowFreqFactor: scaling.low_freq_factor ?? 1,
    highFreqFactor: scaling.high_freq_factor ?? 4,
    originalMaxPositionEmbeddings: scaling.original_max_position_embeddings ?? 8192,
  };
}

function unsupported(where: string, what: string): never {
  throw new UnsupportedArchitectureError(`${where}: ${what} is not supported by evals`);
}

function firstId(value: number | number[] | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}

function allIds(value: number | number[] | null | undefined): number[] {
  if (value === null || value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
