// The coordinator API's wire contract: zod schemas and their types, shared by the worker, the CLI
// and the runner. Field names are snake_case on the wire, like the result records (DESIGN §7).
import { z } from "zod";
import { AggregateSchema, SampleRecordSchema } from "../evals/run/records.ts";
import { CheckpointProvenanceSchema } from "../model/checkpoint-provenance.ts";
import { DtypeSchema, GraphVariantNameSchema, ManifestSchema } from "../model/manifest.ts";

export const Sha256Schema = z
  .string()
  .regex(/^[0-9a-f]{64}$/, "expected a lowercase hex sha256")
  .meta({ id: "Sha256" });

export const ErrorSchema = z
  .object({ error: z.string(), detail: z.string() })
  .meta({ id: "Error", description: "Every 4xx answer; `error` is a stable code." });
export type ErrorBody = z.infer<typeof ErrorSchema>;

const isoTime = z.string();
const id = z.string().min(1).max(200);

// ── tokens (admin) ──────────────────────────────────────────────────────────
export const RoleSchema = z.enum(["admin", "submit", "runner"]);
export type Role = z.infer<typeof RoleSchema>;

export const TokenCreateSchema = z
  .object({
    role: RoleSchema,
    name: z.string().min(1).max(100),
    /** Results from trusted runners make a run `verified` on the leaderboard. */
    trusted: z.boolean().default(false),
  })
  .meta({ id: "TokenCreate" });
export type TokenCreate = z.input<typeof TokenCreateSchema>;

export const TokenInfoSchema = z
  .object({
    id: z.string(),
    role: RoleSchema,
    name: z.string(),
    trusted: z.boolean(),
    created_at: isoTime,
    revoked_at: isoTime.nullable(),
  })
  .meta({ id: "TokenInfo" });
export type TokenInfo = z.infer<typeof TokenInfoSchema>;

export const TokenCreatedSchema = TokenInfoSchema.extend({
  /** The bearer token itself; shown once, stored only as a hash. */
  token: z.string(),
}).meta({ id: "TokenCreated" });
export type TokenCreated = z.infer<typeof TokenCreatedSchema>;

export const TokenListSchema = z.object({ tokens: z.array(TokenInfoSchema) });

// ── blobs and resumable uploads ─────────────────────────────────────────────
/** One PUT carries at most this much; larger files go through multipart uploads. */
export const MAX_SINGLE_PUT_BYTES = 95 * 2 ** 20;
/** R2 needs every part but the last to be at least 5 MiB. */
export const MIN_PART_BYTES = 5 * 2 ** 20;
export const DEFAULT_PART_BYTES = 64 * 2 ** 20;

export const BlobInfoSchema = z
  .object({ sha256: Sha256Schema, bytes: z.number().int().nonnegative() })
  .meta({ id: "BlobInfo" });
export type BlobInfo = z.infer<typeof BlobInfoSchema>;

export const UploadCreateSchema = z
  .object({
    sha256: Sha256Schema,
    bytes: z
      .number()
      .int()
      .positive()
      .max(2 ** 40),
    part_size: z
      .number()
      .int()
      .min(MIN_PART_BYTES)
      .max(MAX_SINGLE_PUT_BYTES)
      .default(DEFAULT_PART_BYTES),
  })
  .meta({ id: "UploadCreate" });
export type UploadCreate = z.input<typeof UploadCreateSchema>;

export const UploadSchema = z
  .object({
    /** Null when the blob was already stored (nothing to upload). */
    id: z.string().nullable(),
    sha256: Sha256Schema,
    bytes: z.number().int(),
    part_size: z.number().int(),
    part_count: z.number().int(),
    state: z.enum(["open", "complete", "aborted"]),
    /** Parts the server already holds: upload only the others, then complete. */
    parts: z.array(z.object({ part_number: z.number().int(), bytes: z.number().int() })),
  })
  .meta({ id: "Upload" });
export type Upload = z.infer<typeof UploadSchema>;

export const UploadPartSchema = z.object({
  part_number: z.number().int(),
  bytes: z.number().int(),
});

// ── checkpoints and datasets ────────────────────────────────────────────────
export const CheckpointRegisterSchema = z
  .object({ manifest: ManifestSchema })
  .meta({ id: "CheckpointRegister" });
export type CheckpointRegister = z.input<typeof CheckpointRegisterSchema>;

export const CheckpointFileSchema = z.object({
  name: z.string(),
  sha256: Sha256Schema,
  bytes: z.number().int(),
});
export type CheckpointFile = z.infer<typeof CheckpointFileSchema>;

export const CheckpointSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    manifest: ManifestSchema,
    /** Flavour, source, adapter and recurrences as every display names them (public-safe). */
    provenance: CheckpointProvenanceSchema,
    files: z.array(CheckpointFileSchema),
    total_parameters: z.number().int(),
    max_tensor_bytes: z.number().int(),
    created_at: isoTime,
  })
  .meta({ id: "Checkpoint" });
export type Checkpoint = z.infer<typeof CheckpointSchema>;

export const CheckpointListSchema = z.object({
  checkpoints: z.array(CheckpointSchema.omit({ manifest: true, files: true })),
});

export const DatasetNameSchema = z.enum([
  "gsm8k",
  "math",
  "math500",
  "arithmetic",
  // The loglikelihood tasks' datasets (lm-eval's general suite), one folder each.
  "lambada_openai",
  "hellaswag",
  "arc_easy",
  "arc_challenge",
  "openbookqa",
  "piqa",
  "mmlu",
  "social_iqa",
  "winogrande",
  "asdiv",
]);

export const DatasetRegisterSchema = z
  .object({
    name: DatasetNameSchema,
    /** File name (e.g. `test.jsonl`, `train.jsonl`, an exemplar file) → sha256 of an uploaded blob. */
    files: z.record(z.string().regex(/^[\w.-]{1,100}$/, "a plain file name"), Sha256Schema),
  })
  .meta({ id: "DatasetRegister" });
export type DatasetRegister = z.input<typeof DatasetRegisterSchema>;

export const DatasetSchema = z
  .object({
    id: z.string(),
    name: DatasetNameSchema,
    files: z.record(z.string(), Sha256Schema),
    created_at: isoTime,
    /** This version is the one runs of its name use unless they pin another. */
    canonical: z.boolean(),
  })
  .meta({ id: "Dataset" });
export type Dataset = z.infer<typeof DatasetSchema>;

export const DatasetListSchema = z.object({ datasets: z.array(DatasetSchema) });

/** Which registered version a dataset name means (admin). */
export const CanonicalDatasetSchema = z
  .object({ dataset: z.string().regex(/^[0-9a-f]{64}$/, "a dataset id (64 hex digits)") })
  .meta({ id: "CanonicalDataset" });

/** `generate`: scored from completions; `loglikelihood`: from per-request log-probabilities. */
export const TaskKindSchema = z.enum(["generate", "loglikelihood"]);
export type TaskKind = z.infer<typeof TaskKindSchema>;

export const TaskInfoSchema = z.object({
  name: z.string(),
  kind: TaskKindSchema.default("generate"),
  version: z.number().int(),
  dataset: DatasetNameSchema,
  /** Files a registered dataset must hold for this task. */
  dataset_files: z.array(z.string()),
  /** Files it needs besides those when run with --num-fewshot above 0. */
  fewshot_files: z.array(z.string()).default([]),
  default_num_fewshot: z.number().int(),
  /** 0 for loglikelihood tasks (nothing is generated). */
  max_gen_toks: z.number().int(),
  until: z.array(z.string()),
  /** lm-eval's metric names, e.g. `exact_match,strict-match` or `acc_norm`. */
  metrics: z.array(z.string()).default([]),
  primary_metric: z.string(),
});
export const TaskListSchema = z.object({
  tasks: z.array(TaskInfoSchema),
  /** lm-eval groups a run may name instead of their subtasks (mmlu → its 57 subjects). */
  groups: z.record(z.string(), z.array(z.string())).default({}),
});

// ── runs ────────────────────────────────────────────────────────────────────
export const KvSchema = z.enum(["full", "shared"]);
export const StateInitSchema = z.enum(["zeros", "normal"]);
export { DtypeSchema };
export const BackendSchema = z.enum(["node", "wasm", "webgpu"]);

function distinct(values: readonly unknown[]): boolean {
  return new Set(values).size === values.length;
}

export const RunCreateSchema = z
  .object({
    checkpoint: id,
    /** Task names or lm-eval groups (`mmlu`), which the run expands to their subtasks. */
    tasks: z
      .array(z.string().min(1).max(100))
      .min(1)
      .max(20)
      .refine(distinct, "each task may appear once"),
    recurrences: z
      .array(z.number().int().min(1).max(256))
      .min(1)
      .max(32)
      .refine(distinct, "each recurrence value may appear once"),
    /** Only the first `limit` documents of each task (lm-eval's --limit). */
    limit: z.number().int().positive().nullable().default(null),
    num_fewshot: z.number().int().min(0).max(64).nullable().default(null),
    kv: KvSchema.default("full"),
    state_init: StateInitSchema.default("zeros"),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31)
      .default(0),
    /** Must match the checkpoint's dtype when given. */
    dtype: DtypeSchema.nullable().default(null),
    shard_size: z.number().int().min(1).max(1000).default(16),
    /** Caps generation below each task's max_gen_toks (quick runs); part of the result key. */
    max_gen_toks: z.number().int().min(1).max(8192).nullable().default(null),
    /** Dataset name → the registered version to use instead of the canonical one. */
    datasets: z
      .partialRecord(DatasetNameSchema, z.string().regex(/^[0-9a-f]{64}$/, "a dataset id"))
      .optional(),
  })
  .meta({ id: "RunCreate" });
export type RunCreate = z.input<typeof RunCreateSchema>;
export type RunConfig = z.output<typeof RunCreateSchema>;

/** `incomplete`: every shard ended, but some failed for good (see the run's `missing`). */
export const RunStateSchema = z.enum(["active", "finished", "incomplete", "cancelled"]);
export const ShardStateSchema = z.enum(["queued", "leased", "done", "failed", "cancelled"]);
export type ShardState = z.infer<typeof ShardStateSchema>;

export const RunSummarySchema = z
  .object({
    id: z.string(),
    checkpoint_id: z.string(),
    checkpoint_name: z.string(),
    state: RunStateSchema,
    published: z.boolean(),
    verified: z.boolean(),
    config: RunCreateSchema,
    created_at: isoTime,
    finished_at: isoTime.nullable(),
  })
  .meta({ id: "RunSummary" });
export type RunSummary = z.infer<typeof RunSummarySchema>;

export const RunProgressSchema = z.object({
  task: z.string(),
  recurrences: z.number().int(),
  samples_done: z.number().int(),
  samples_total: z.number().int(),
  shards: z.record(ShardStateSchema, z.number().int()),
});

export const ShardFailureSchema = z.object({
  shard_id: z.string(),
  task: z.string(),
  recurrences: z.number().int(),
  doc_start: z.number().int(),
  doc_end: z.number().int(),
  state: ShardStateSchema,
  reasons: z.array(
    z.object({
      at: isoTime,
      runner: z.string().nullable(),
      reason: z.string(),
      /** `vanished`: the lease ran out without a word; `threw`: the runner reported a failure. */
      kind: z.enum(["vanished", "threw"]),
    }),
  ),
});

/** Documents of a failed shard that have no result, and why the shard was given up. */
export const MissingSchema = z.object({
  task: z.string(),
  recurrences: z.number().int(),
  doc_indices: z.array(z.number().int()),
  why: z.string(),
});

export const RunDetailSchema = RunSummarySchema.extend({
  tasks: z.array(
    z.object({
      task: z.string(),
      kind: TaskKindSchema,
      /** lm-eval's metric names for this task, headline first. */
      metrics: z.array(z.string()),
      primary_metric: z.string(),
      task_hash: z.string(),
      dataset_id: z.string(),
      /** File name → sha256 of every dataset file the prompts were built from. */
      dataset_files: z.record(z.string(), Sha256Schema),
      /** The dataset version is (still) the canonical one for its name. */
      canonical_data: z.boolean(),
      num_fewshot: z.number().int(),
      doc_count: z.number().int(),
    }),
  ),
  progress: z.array(RunProgressSchema),
  aggregates: z.array(AggregateSchema),
  /** Samples taken from earlier runs with the same result key (DESIGN §7). */
  reused_samples: z.number().int(),
  /** Where the reused samples came from: the run that computed them and the runner that did. */
  reused_from: z.array(
    z.object({
      run_id: z.string(),
      runner: z.string().nullable(),
      runner_name: z.string().nullable(),
      samples: z.number().int(),
    }),
  ),
  /** Shards that failed at least once, with every reason reported. */
  failures: z.array(ShardFailureSchema),
  /** What an `incomplete` run lacks: (task, r, docs) of shards given up, and why. */
  missing: z.array(MissingSchema),
  /**
   * What produced the samples: every backend, device and runner version that posted one (runner
   * claims, as stored), and the API's own version and commit. Optional only for older servers.
   */
  provenance: z
    .object({
      backends: z.array(z.string()),
      devices: z.array(z.string()),
      runner_versions: z.array(z.string()),
      harness_version: z.string(),
      git_hash: z.string().nullable(),
    })
    .optional(),
}).meta({ id: "RunDetail" });
export type RunDetail = z.infer<typeof RunDetailSchema>;

export const RunListSchema = z.object({ runs: z.array(RunSummarySchema) });

/** A stored sample: the DESIGN §7 record plus what the runner said about its device. */
export const SampleSchema = SampleRecordSchema.extend({
  device: z.string().nullable(),
  reused: z.boolean(),
  /** For a reused sample, the run that computed it and the runner (token id) that did. */
  reused_from: z.object({ run_id: z.string(), runner: z.string().nullable() }).nullable(),
}).meta({ id: "Sample" });
export type Sample = z.infer<typeof SampleSchema>;

export const SampleQuerySchema = z.object({
  task: z.string().optional(),
  r: z.coerce.number().int().positive().optional(),
  correct: z.enum(["true", "false"]).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const SamplePageSchema = z
  .object({ samples: z.array(SampleSchema), next_cursor: z.string().nullable() })
  .meta({ id: "SamplePage" });
export type SamplePage = z.infer<typeof SamplePageSchema>;

// ── leases and results (runner) ─────────────────────────────────────────────
export const CapabilitiesSchema = z.object({
  /**
   * Backends this runner's pages run. With `webgpu` among them, shards of checkpoints whose graphs
   * WebGPU lacks kernels for (i8) come last: leased only when nothing else it can run is queued.
   */
  backends: z.array(BackendSchema).min(1),
  /** Largest checkpoint (total parameters) this runner can hold. */
  max_parameters: z.number().int().positive(),
  /** Largest single buffer (bytes) its device allows, e.g. WebGPU maxBufferSize. */
  max_buffer_bytes: z.number().int().positive(),
  /**
   * Memory (bytes) the backend can give a checkpoint: 4 GiB for onnxruntime-web's heap, free
   * memory for node. When given, the API leases by the checkpoint's estimated need
   * (model/memory-ceiling.ts) instead of `max_parameters`, which older runners still rely on.
   */
  max_memory_bytes: z.number().int().positive().optional(),
  /**
   * The runner can run several r of the same documents at once (one prefill at the largest r
   * serves the smaller ones). Such a runner may get a bundled lease: a shard and its queued
   * siblings (same run, task and documents, other r) whose summed memory need fits
   * `max_memory_bytes`. Absent or false: one shard per lease, as before.
   */
  sweep: z.boolean().optional(),
});
export type Capabilities = z.infer<typeof CapabilitiesSchema>;

export const LeaseRequestSchema = z
  .object({ capabilities: CapabilitiesSchema, runner_version: z.string().min(1).max(100) })
  .meta({ id: "LeaseRequest" });
export type LeaseRequest = z.input<typeof LeaseRequestSchema>;

export const GenerationConfigSchema = z.object({
  recurrences: z.number().int(),
  /** Empty for loglikelihood shards. */
  until: z.array(z.string()),
  /** 0 for loglikelihood shards. */
  max_new_tokens: z.number().int(),
  kv: KvSchema,
  state_init: StateInitSchema,
  seed: z.number().int(),
  dtype: DtypeSchema,
  /** Loglikelihood shards: prepend BOS when encoding each pair (the paper's add_bos_token=True). */
  add_bos: z.boolean().default(false),
});
export type GenerationConfig = z.infer<typeof GenerationConfigSchema>;

/** One (context, continuation) pair of a loglikelihood document, as lm-eval builds it. */
export const LoglikelihoodRequestSchema = z.object({
  context: z.string(),
  continuation: z.string(),
});

/** One shard of a lease: which r its results are for. */
export const LeaseShardSchema = z.object({ id: z.string(), recurrences: z.number().int() });

export const LeaseSchema = z
  .object({
    lease_id: z.string(),
    /**
     * ISO time after which the shard (every shard of a bundle) returns to the queue unless a
     * heartbeat extends it.
     */
    deadline: isoTime,
    /** The lease's first shard; with a bundle, the one `generation.recurrences` names. */
    shard: z.object({
      id: z.string(),
      run_id: z.string(),
      task: z.string(),
      recurrences: z.number().int(),
      doc_start: z.number().int(),
      doc_end: z.number().int(),
    }),
    /**
     * Only for a runner that declared `sweep`: every shard the lease holds, ascending in r, `shard`
     * among them. Each has the same documents; post each document's result once per r, with its
     * `recurrences`, to this lease. Older runners ignore it (and never get more than `shard`).
     */
    bundle: z.array(LeaseShardSchema).optional(),
    /** `loglikelihood`: score each document's `requests` instead of generating from `prompt`. */
    kind: TaskKindSchema.default("generate"),
    /**
     * Only the documents of the shard that have no result yet (with a bundle: that lack a result
     * at any of its r; a result already stored is counted as a duplicate). `prompt` is the exact
     * text the result key's prompt hash covers: for loglikelihood documents, their requests as JSON.
     */
    prompts: z.array(
      z.object({
        doc_index: z.number().int(),
        doc_id: z.string(),
        prompt: z.string(),
        requests: z.array(LoglikelihoodRequestSchema).optional(),
      }),
    ),
    generation: GenerationConfigSchema,
    checkpoint: z.object({
      id: z.string(),
      manifest: ManifestSchema,
      /** Every file of the checkpoint; `url` is relative to the API's base URL. */
      files: z.array(CheckpointFileSchema.extend({ url: z.string() })),
    }),
  })
  .meta({ id: "Lease" });
export type Lease = z.infer<typeof LeaseSchema>;

export const HeartbeatSchema = z.object({ lease_id: z.string(), deadline: isoTime });

/** A runner's numbers for one loglikelihood request. */
export const LoglikelihoodOutSchema = z.object({
  /** Σ log p(continuation token | before); finite (zod refuses NaN and ±Infinity). */
  logprob: z.number().max(0.001),
  is_greedy: z.boolean(),
  /** Tokens fed to the model for this request (after left truncation): its FLOPs count. */
  input_tokens: z.number().int().positive(),
  /** Tokens of the continuation scored. */
  tokens: z.number().int().positive(),
  truncated: z.boolean().default(false),
});

/**
 * A runner's report of one completion. Everything but the completion is a claim: counts are
 * bounded by the prompt, the window and max_new_tokens (400 otherwise) and FLOPs are computed from
 * them on the server; backend, device, runner_version and timings are stored as claimed.
 */
export const ResultInSchema = z.object({
  doc_id: z.string().min(1).max(200),
  recurrences: z.number().int().positive(),
  completion: z.string().max(200_000),
  prompt_tokens: z.number().int().nonnegative(),
  generated_tokens: z.number().int().nonnegative(),
  prompt_truncated: z.boolean().default(false),
  backend: BackendSchema,
  /** What the runner ran on, e.g. a WebGPU adapter's vendor/architecture. */
  device: z.string().max(500).nullable().default(null),
  /**
   * The checkpoint's graph set that computed this result: its default graphs, or a variant such as
   * `webgpu_f16` (fp16 compute). A variant's result is another measurement: it gets its own key.
   */
  graph_variant: z.enum(["default", ...GraphVariantNameSchema.options]).default("default"),
  runner_version: z.string().min(1).max(100),
  timings: z.object({ ms: z.number().nonnegative() }),
  /**
   * Loglikelihood documents: one entry per request of the document, in the lease's order. The
   * server decides acc/acc_norm/perplexity from these; token counts bound and price (FLOPs) them.
   */
  loglikelihoods: z.array(LoglikelihoodOutSchema).min(1).max(64).optional(),
});
export type ResultIn = z.input<typeof ResultInSchema>;

export const ResultsPostSchema = z
  .object({ results: z.array(ResultInSchema).min(1).max(1000) })
  .meta({ id: "ResultsPost" });
export type ResultsPost = z.input<typeof ResultsPostSchema>;

/** One shard of a lease after a runner call: its state, and its documents still without a result. */
export const LeaseShardStateSchema = LeaseShardSchema.extend({
  state: ShardStateSchema,
  remaining: z.number().int(),
});

export const ResultsAcceptedSchema = z
  .object({
    /** Newly stored samples. */
    accepted: z.number().int(),
    /** Samples that already had a result (posted twice): counted once. */
    duplicates: z.number().int(),
    /** The state of the lease's `shard`. */
    shard_state: ShardStateSchema,
    /** Documents of the lease's `shard` still without a result. */
    remaining: z.number().int(),
    /** Every shard of the lease (one unless bundled), ascending in r. Optional for older APIs. */
    shards: z.array(LeaseShardStateSchema).optional(),
  })
  .meta({ id: "ResultsAccepted" });
export type ResultsAccepted = z.infer<typeof ResultsAcceptedSchema>;

export const FailureReportSchema = z
  .object({ reason: z.string().min(1).max(4000) })
  .meta({ id: "FailureReport" });

/**
 * After a failure report or a release, which apply to every shard of the lease not yet done (done
 * ones stay done). `shard_state` and `failures` are the lease's `shard`'s, or with that shard done,
 * the first given back's.
 */
export const FailureAcceptedSchema = z.object({
  shard_state: ShardStateSchema,
  failures: z.number().int(),
  /** Every shard given back, ascending in r. Optional for older APIs. */
  shards: z
    .array(LeaseShardSchema.extend({ state: ShardStateSchema, failures: z.number().int() }))
    .optional(),
});

// ── leaderboard ─────────────────────────────────────────────────────────────
export const LeaderboardEntrySchema = z.object({
  run_id: z.string(),
  checkpoint_id: z.string(),
  checkpoint_name: z.string(),
  primary_metric: z.string(),
  best: z.object({ recurrences: z.number().int(), accuracy: z.number(), stderr: z.number() }),
  by_recurrence: z.array(
    z.object({
      recurrences: z.number().int(),
      n: z.number().int(),
      accuracy: z.number(),
      stderr: z.number(),
      ci95: z.tuple([z.number(), z.number()]),
      mean_flops: z.number(),
      effective_parameters: z.number(),
    }),
  ),
  /** Every sample came from a trusted runner. */
  verified: z.boolean(),
  /** The task's prompts were built from the canonical version of its dataset. */
  canonical_data: z.boolean(),
});
export type LeaderboardEntry = z.infer<typeof LeaderboardEntrySchema>;

export const LeaderboardSchema = z
  .object({
    tasks: z.array(z.object({ task: z.string(), entries: z.array(LeaderboardEntrySchema) })),
  })
  .meta({ id: "Leaderboard" });
export type Leaderboard = z.infer<typeof LeaderboardSchema>;
