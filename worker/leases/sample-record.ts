// A runner's raw completion becomes a scored DESIGN §7 record here, on the server: the runner
// never reports scores, FLOPs or keys.

import type { z } from "zod";
import type { SampleRecord, ScoredField } from "../../evals/run/records.ts";
import { flopsForSample } from "../../model/flops.ts";
import { badRequest } from "../http-error.ts";
import type { ResultInSchema } from "../protocol.ts";
import type { GenerateRunTask, RunContext } from "../runs/run-context.ts";

export interface RunDoc {
  doc_index: number;
  doc_id: string;
  doc_hash: string;
  /** The prompt, or for a loglikelihood document the JSON of its requests. */
  prompt: string;
  prompt_hash: string;
  /** The raw reference, or for a loglikelihood document the JSON of {gold, choices}. */
  gold: string;
  /** UTF-8 length of the prompt: no tokenizer makes more tokens than bytes (+ BOS, + a prefix space). */
  prompt_bytes: number;
}

/** Longest a single sample may claim to have taken (a day): timings are claims, kept sane. */
const MAX_SAMPLE_MS = 86_400_000;

/**
 * Counts are the runner's claims and FLOPs are computed from them, so each is bounded by what the
 * server knows: the prompt (its bytes), the model's window and the run's max_new_tokens.
 */
export function checkClaimedCounts(
  result: z.output<typeof ResultInSchema>,
  doc: RunDoc,
  run: RunContext,
  task: GenerateRunTask,
  path: string,
): void {
  if (result.loglikelihoods) {
    throw badRequest(
      `${path}.loglikelihoods: ${task.task.name} is a generation task; post the completion without log-probabilities`,
    );
  }
  const window = run.checkpoint.manifest.architecture.max_position_embeddings;
  const promptMax = Math.min(window, doc.prompt_bytes + 2);
  if (result.prompt_tokens < 1 || result.prompt_tokens > promptMax) {
    throw badRequest(
      `${path}.prompt_tokens: ${result.prompt_tokens} is impossible for this prompt (${doc.prompt_bytes} bytes, window ${window}); expected 1–${promptMax}`,
    );
  }
  if (result.generated_tokens > task.maxNewTokens) {
    throw badRequest(
      `${path}.generated_tokens: ${result.generated_tokens} exceeds the run's max_new_tokens (${task.maxNewTokens})`,
    );
  }
  checkTimings(result, path);
}

export function checkTimings(result: z.output<typeof ResultInSchema>, path: string): void {
  if (!Number.isFinite(result.timings.ms) || result.timings.ms > MAX_SAMPLE_MS) {
    throw badRequest(`${path}.timings.ms: ${result.timings.ms} is not a plausible duration`);
  }
}

export type StoredRecord = SampleRecord & { device: string | null };

/** Everything of a record but what scoring the runner's answer computes. */
type RecordHead = Omit<StoredRecord, ScoredField>;

/** The fields every stored record takes from its run, task, document and the runner's claims. */
export function recordHead(
  run: RunContext,
  task: { task: { name: string }; taskHash: string },
  doc: RunDoc,
  key: string,
  result: z.output<typeof ResultInSchema>,
): RecordHead {
  const { manifest } = run.checkpoint;
  return {
    key,
    task: task.task.name,
    task_hash: task.taskHash,
    doc_index: doc.doc_index,
    doc_id: doc.doc_id,
    doc_hash: doc.doc_hash,
    recurrences: result.recurrences,
    prompt_hash: doc.prompt_hash,
    backend: result.backend,
    kv: run.config.kv,
    state_init: run.config.state_init,
    seed: run.config.seed,
    dtype: run.config.dtype ?? manifest.dtype,
    ...(result.graph_variant === "default" ? {} : { graph_variant: result.graph_variant }),
    adapter: adapterLabel(run),
    runner_version: result.runner_version,
    ms: result.timings.ms,
    device: result.device,
  };
}

export function scoreResult(
  run: RunContext,
  task: GenerateRunTask,
  doc: RunDoc,
  key: string,
  result: z.output<typeof ResultInSchema>,
): { record: StoredRecord; correct: number } {
  const { manifest } = run.checkpoint;
  const score = task.task.score(result.completion, doc.gold);
  const record: StoredRecord = {
    ...recordHead(run, task, doc, key, result),
    completion: result.completion,
    prompt_tokens: result.prompt_tokens,
    generated_tokens: result.generated_tokens,
    prompt_truncated: result.prompt_truncated,
    flops: flopsForSample(
      manifest,
      result.recurrences,
      result.prompt_tokens,
      result.generated_tokens,
    ),
    extracted: score.extracted,
    metrics: score.metrics,
  };
  return { record, correct: (score.metrics[task.task.primaryMetric] ?? 0) > 0 ? 1 : 0 };
}

/** The checkpoint's adapter as `evals local` labels it (`random:seed=0`, `identity`, `none`). */
export function adapterLabel(run: RunContext): string {
  const adapter = run.checkpoint.manifest.adapter;
  if (!adapter) return "none";
  return adapter.seed !== null ? `${adapter.init}:seed=${adapter.seed}` : adapter.init;
}
