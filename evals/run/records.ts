// The result records of a run (DESIGN §7): one per (task, doc, r), plus the run's configuration.
// The same schema is written by `evals local` and read by `evals check` and `evals results`.
import { z } from "zod";
import { DtypeSchema, GraphVariantNameSchema } from "../../model/manifest.ts";

export const SampleRecordSchema = z.object({
  key: z.string(),
  task: z.string(),
  task_hash: z.string(),
  doc_index: z.number().int(),
  doc_id: z.string(),
  doc_hash: z.string(),
  recurrences: z.number().int(),
  prompt_hash: z.string(),
  completion: z.string(),
  prompt_tokens: z.number().int(),
  generated_tokens: z.number().int(),
  prompt_truncated: z.boolean(),
  flops: z.number(),
  backend: z.enum(["node", "wasm", "webgpu"]),
  kv: z.enum(["full", "shared"]),
  state_init: z.enum(["zeros", "normal"]),
  seed: z.number().int(),
  dtype: DtypeSchema,
  /** A graph variant of the checkpoint computed this sample (e.g. `webgpu_f16`); absent: default graphs. */
  graph_variant: GraphVariantNameSchema.optional(),
  adapter: z.string(),
  runner_version: z.string(),
  ms: z.number(),
  extracted: z.record(z.string(), z.string()),
  metrics: z.record(z.string(), z.number()),
  /** Loglikelihood tasks: each request's summed log-probability and greedy flag, in order. */
  loglikelihoods: z
    .array(z.object({ logprob: z.number(), is_greedy: z.boolean(), tokens: z.number().int() }))
    .optional(),
});
export type SampleRecord = z.infer<typeof SampleRecordSchema>;

/** The fields a record gets from scoring what the model produced; the rest says what was asked. */
export type ScoredField =
  | "completion"
  | "prompt_tokens"
  | "generated_tokens"
  | "prompt_truncated"
  | "flops"
  | "extracted"
  | "metrics"
  | "loglikelihoods";

export const RunConfigSchema = z.object({
  model: z.string(),
  checkpoint_name: z.string(),
  checkpoint_graphs: z.array(z.string()),
  tasks: z.array(z.string()),
  recurrences: z.array(z.number().int()),
  limit: z.number().int().nullable(),
  num_fewshot: z.number().int().nullable(),
  kv: z.enum(["full", "shared"]),
  state_init: z.enum(["zeros", "normal"]),
  seed: z.number().int(),
  dtype: DtypeSchema,
  max_gen_toks: z.number().int().nullable(),
});
export type RunConfig = z.infer<typeof RunConfigSchema>;

export const AggregateSchema = z.object({
  task: z.string(),
  recurrences: z.number().int(),
  n: z.number().int(),
  primary_metric: z.string(),
  metrics: z.record(
    z.string(),
    z.object({ accuracy: z.number(), stderr: z.number(), ci95: z.tuple([z.number(), z.number()]) }),
  ),
  /** Which interval `ci95` is: Wilson score (files written before it was said were Wald). */
  interval: z.literal("wilson").optional(),
  mean_flops: z.number(),
  mean_generated_tokens: z.number(),
  mean_prompt_tokens: z.number(),
  /** Samples whose prompt was cut to the model's window (absent in files written before it). */
  truncated: z.number().int().optional(),
  /**
   * What computed the samples: `wasm`, `webgpu`, `node`, and `webgpu (webgpu_f16 graphs)` for
   * fp16-compute graphs, so an r whose documents mixed the two precisions shows it.
   */
  backends: z.array(z.string()),
});
export type Aggregate = z.infer<typeof AggregateSchema>;

export const RunResultsSchema = z.object({
  format: z.literal("evals-run-1"),
  created_at: z.string(),
  config: RunConfigSchema,
  aggregates: z.array(AggregateSchema),
  samples: z.array(SampleRecordSchema),
});
export type RunResults = z.infer<typeof RunResultsSchema>;

/** `backend`, with the graph set when it is not the default (run-view.ts writes the same). */
export function computedBy(sample: Pick<SampleRecord, "backend" | "graph_variant">): string {
  return sample.graph_variant
    ? `${sample.backend} (${sample.graph_variant} graphs)`
    : sample.backend;
}

/** Whether a `computedBy` label names the fp16-compute graphs. */
export function computedInFp16(label: string): boolean {
  return label.endsWith(" (webgpu_f16 graphs)");
}
