// `recurrent.json`: the checkpoint manifest (DESIGN §3). This schema is the contract between
// export, the engine, the API and the dashboard; bump FORMAT_VERSION on any incompatible change.
import { z } from "zod";

export const FORMAT_VERSION = 1;
export const MANIFEST_FILE = "recurrent.json";

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, "expected a lowercase hex sha256");
const count = z.number().int().nonnegative();

export const GraphFileSchema = z.object({
  /** File name inside the checkpoint directory, e.g. `block.onnx`. */
  file: z.string(),
  sha256,
  bytes: count,
  /** External tensor data (`<graph>.onnx.data`), present when weights live outside the graph. */
  externalData: z.object({ file: z.string(), sha256, bytes: count }).nullable(),
});

export const RopeSchema = z.object({
  theta: z.number().positive(),
  scaling: z
    .object({
      type: z.literal("llama3"),
      factor: z.number().positive(),
      lowFreqFactor: z.number().positive(),
      highFreqFactor: z.number().positive(),
      originalMaxPositionEmbeddings: z.number().int().positive(),
    })
    .nullable(),
});

export const DtypeSchema = z.enum(["fp32", "fp16", "q8", "i8", "q4"]);
export type Dtype = z.infer<typeof DtypeSchema>;

/** Which operators the graphs use (model/graphs.md): standard ones, or onnxruntime's fused ones. */
export const OperatorsSchema = z.enum(["plain", "fused"]);

export const QuantizationSchema = z.object({
  bits: z.union([z.literal(4), z.literal(8)]),
  /** Weights per block of MatMulNBits and of a block-quantized embedding (i8: the embedding's). */
  block_size: z.number().int().min(16),
  /**
   * The linear layers' scheme. `asymmetric` (q8/q4): per-block scale and uint zero point,
   * w ≈ (q − zero_point) · scale. `symmetric_per_column` (i8): int8 codes, one scale per output
   * column, w ≈ q · scale. A block-quantized embedding is asymmetric in both.
   */
  scheme: z.enum(["asymmetric", "symmetric_per_column"]),
  /**
   * The linear layers' operator; absent in older manifests = MatMulNBits. `MatMulInteger` (i8):
   * activations quantized to int8 per row. `DynamicQuantizeMatMul`: i8 exports of before, whose
   * activations were quantized per call (a token's numbers depend on its batch).
   */
  linear: z.enum(["MatMulNBits", "MatMulInteger", "DynamicQuantizeMatMul"]).optional(),
  /** The embedding table: block-quantized (`GatherBlockQuantized`) or stored in fp16. */
  embedding: z.enum(["block", "fp16"]),
  /**
   * MatMulNBits' `accuracy_level` (0 kernel default, 1 fp32, 2 fp16, 3 bf16, 4 int8 activations);
   * absent in older manifests = 0.
   */
  accuracy_level: z.number().int().min(0).max(4).optional(),
});

/**
 * True when the graphs quantize activations to 8 bits at run time (i8's MatMulInteger and the
 * older DynamicQuantizeMatMul, MatMulNBits at accuracy level 4). Each backend's float kernels
 * round a little differently, and where that noise meets an activation on a rounding tie its
 * int8 code flips, so backends differ by more than float noise (model/graphs.md): results are
 * kept per backend.
 */
export function quantizesActivations(
  quantization: z.infer<typeof QuantizationSchema> | null | undefined,
): boolean {
  return (
    quantization?.accuracy_level === 4 ||
    quantization?.linear === "MatMulInteger" ||
    quantization?.linear === "DynamicQuantizeMatMul"
  );
}

/**
 * True when onnxruntime-web's WebGPU provider lacks kernels for some of the graphs' operators: i8's
 * int8 GEMMs (MatMulInteger with DynamicQuantizeLinear, or the older DynamicQuantizeMatMul).
 * ORT then runs those layers on its CPU (WASM) kernels with copies to and from the GPU around each:
 * correct but slow, so the API leases such checkpoints to WebGPU runners last (model/graphs.md).
 */
export function webGpuLacksKernels(manifest: Pick<Manifest, "dtype" | "quantization">): boolean {
  const linear = manifest.quantization?.linear;
  return (
    manifest.dtype === "i8" || linear === "MatMulInteger" || linear === "DynamicQuantizeMatMul"
  );
}

/** Teacher-forced comparison of the exported graphs with the fp32 graphs, per recurrence. */
export const FidelitySchema = z.object({
  reference: z.literal("fp32"),
  /** Where the prompts came from, e.g. `gsm8k test[0:32]`. */
  prompts: z.string(),
  prompt_count: count,
  /** Tokens of the fp32 greedy continuation each prompt is scored over. */
  continuation_tokens: count,
  /**
   * Whose arithmetic computed the lossy side: `onnxruntime-node`, or `onnxruntime-web webgpu
   * (<adapter>)` for fp16-compute graphs measured with real half-precision shaders. Absent in
   * manifests from before it was recorded, which were all measured on onnxruntime-node.
   */
  computed_on: z.string().optional(),
  per_recurrence: z.array(
    z.object({
      recurrences: z.number().int().positive(),
      /** Fraction of positions where both argmax tokens agree. */
      top1_agreement: z.number().min(0).max(1),
      /** KL(fp32 ‖ lossy) of the next-token distributions, in nats. */
      mean_kl: z.number().nonnegative(),
      max_kl: z.number().nonnegative(),
    }),
  ),
});
export type Fidelity = z.infer<typeof FidelitySchema>;

const GraphSetSchema = z.object({
  prelude: GraphFileSchema,
  /** Null for a non-recurrent checkpoint (B = 0). */
  block: GraphFileSchema.nullable(),
  coda: GraphFileSchema,
});

/**
 * The numeric check: logits onnxruntime-node computed on the default graphs for a fixed input.
 * Every other backend (and graph variant, at its own tolerance) must reproduce them.
 */
const NumericCheckSchema = z.object({
  input_ids: z.array(count),
  recurrences: z.number().int().positive(),
  top5: z.array(z.tuple([count, z.number()])),
});

/** Names of the optional graph sets a checkpoint may carry beside its default graphs. */
export const GraphVariantNameSchema = z.enum(["webgpu_f16"]);
export type GraphVariantName = z.infer<typeof GraphVariantNameSchema>;

/**
 * A second set of graphs over the same weights (model/graphs.md, "fp16 compute"): `webgpu_f16`
 * computes in half precision (fp16 activations and KV cache, fp32 norm statistics, softmax and
 * graph outputs) and shares the default graphs' external weight files. Used only where the
 * backend offers fast fp16 (WebGPU with `shader-f16`) and reproduces the numeric check.
 */
export const GraphVariantSchema = z.object({
  compute: z.literal("fp16"),
  /** Element type of past_key_values / present tensors. */
  kv_dtype: z.literal("float16"),
  graphs: GraphSetSchema,
  /** The variant against the fp32 reference, measured at export like `fidelity`; null if not. */
  fidelity: FidelitySchema.nullable(),
});
export type GraphVariant = z.infer<typeof GraphVariantSchema>;

export const ManifestSchema = z.object({
  format_version: z.literal(FORMAT_VERSION),
  name: z.string(),
  source: z.object({
    kind: z.enum(["hf", "path", "random"]),
    /** `org/name` for hub sources. */
    repo: z.string().nullable(),
    revision: z.string().nullable(),
    path: z.string().nullable(),
    /** Random preset and seed for `kind: random`. */
    preset: z.string().nullable(),
    /** Source file name → sha256 (weights, config, tokenizer files). */
    files: z.record(z.string(), sha256),
    /** `LlamaForCausalLM`, `RavenForCausalLM`, … as found in config.json. */
    architecture: z.string(),
  }),
  architecture: z.object({
    /**
     * What the graphs compute (shared/RAVEN-FORMATS.md): `llama`/`olmo2` for surgery on a plain
     * model, `retrofit-llama`/`retrofit-olmo2`/`huginn` for the released raven checkpoints.
     */
    flavour: z.enum(["llama", "olmo2", "retrofit-llama", "retrofit-olmo2", "huginn"]),
    hidden_size: count,
    num_attention_heads: count,
    num_key_value_heads: count,
    head_dim: count,
    intermediate_size: count,
    vocab_size: count,
    max_position_embeddings: count,
    rms_norm_eps: z.number().positive(),
    rope: RopeSchema,
    embed_scale: z.number().positive(),
    tie_word_embeddings: z.boolean(),
  }),
  layers: z.object({
    /** Source layer indices of each part; counts are the lengths (P, B, C). B = 0: non-recurrent. */
    prelude: z.array(count),
    block: z.array(count),
    coda: z.array(count),
  }),
  adapter: z
    .object({
      init: z.enum(["random", "identity", "trained"]),
      std: z.number().nonnegative().nullable(),
      seed: z.number().int().nullable(),
    })
    .nullable(),
  state_init: z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("zeros") }),
    z.object({ kind: z.literal("trunc_normal"), std: z.number().positive() }),
  ]),
  /** Recurrence the checkpoint was trained with, when known (shown on the leaderboard). */
  train_recurrence: z.number().int().positive().nullable(),
  /**
   * A raven config's `mean_recurrence`: the r its own forward uses when none is given. Not
   * evidence of the training recurrence (retrofits inherit Huginn's 32).
   */
  config_default_recurrence: z.number().int().positive().nullable().optional(),
  tokens: z.object({
    bos_token_id: count.nullable(),
    /** Every id that ends generation (EOS from tokenizer and generation config). */
    eos_token_ids: z.array(count),
    pad_token_id: count.nullable(),
    add_bos_token: z.boolean(),
  }),
  /**
   * Weight precision: fp32, fp16 (stored half, computed fp32), q8/q4 (linear layers
   * block-quantized) or i8 (int8 per output column, activations quantized per call);
   * `quantization` says how. The precision runs are compared at.
   */
  dtype: DtypeSchema,
  /** `fused`: RMSNorm and RoPE as onnxruntime fused operators; absent in older manifests: plain. */
  operators: OperatorsSchema.optional(),
  /**
   * `GroupQueryAttention`: one-token steps attend with onnxruntime's GroupQueryAttention, which
   * writes into the cache in place when one buffer is bound as past and present (model/graphs.md).
   * Absent: every step grows the cache by Concat.
   */
  decode_attention: z.literal("GroupQueryAttention").optional(),
  /** How a q8/q4/i8 checkpoint was quantized (model/graphs.md); absent for float checkpoints. */
  quantization: QuantizationSchema.nullable().optional(),
  /** Agreement of a lossy export with the fp32 reference, measured at export; absent if not. */
  fidelity: FidelitySchema.nullable().optional(),
  graphs: GraphSetSchema,
  /** Extra graph sets over the same weights, by name; absent when there are none. */
  variants: z.object({ webgpu_f16: GraphVariantSchema.optional() }).optional(),
  tokenizer: z.object({ files: z.record(z.string(), sha256) }),
  parameters: z.object({
    embedding: count,
    prelude: count,
    adapter: count,
    block: count,
    coda: count,
    /** lm_head plus the final norm; counted even when tied to the embedding (it costs FLOPs). */
    head: count,
    /** Distinct stored parameters (a tied head counted once). */
    total: count,
  }),
  created_by: z.string(),
  /**
   * Logits onnxruntime-node computed on these graphs for a fixed input at export time. Every other
   * backend must reproduce them before it is trusted (some builds return wrong numbers silently).
   */
  numeric_check: NumericCheckSchema.nullable().default(null),
});

export type Manifest = z.infer<typeof ManifestSchema>;
export type GraphFile = z.infer<typeof GraphFileSchema>;
