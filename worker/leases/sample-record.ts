// A runner's raw completion becomes a scored DESIGN §7 record here, on the server: the runner
// never reports scores, FLOPs or keys.

import type { z } from "zod";
import type { SampleRecord } from "../../evals/run/records.ts";
import { flopsForSample } from "../../model/flops.ts";
import type { ResultInSchema } from "../protocol.ts";
import type { RunContext, RunTask } from "../runs/run-context.ts";

export interface RunDoc {
  doc_index: number;
  doc_id: string;
  doc_hash: string;
  prompt_hash: string;
  gold: string;
}

export type StoredRecord = SampleRecord & { device: string | null };

export function scoreResult(
  run: RunContext,
  task: RunTask,
  doc: RunDoc,
  key: string,
  result: z.output<typeof ResultInSchema>,
): { record: StoredRecord; correct: number } {
  const { manifest } = run.checkpoint;
  const score = task.task.score(result.completion, doc.gold);
  const record: StoredRecord = {
    key,
    task: task.task.name,
    task_hash: task.taskHash,
    doc_index: doc.doc_index,
    doc_id: doc.doc_id,
    doc_hash: doc.doc_hash,
    recurrences: result.recurrences,
    prompt_hash: doc.prompt_hash,
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
    backend: result.backend,
    kv: run.config.kv,
    state_init: run.config.state_init,
    seed: run.config.seed,
    dtype: run.config.dtype ?? manifest.dtype,
    adapter: adapterLabel(run),
    runner_version: result.runner_version,
    ms: result.timings.ms,
    extracted: score.extracted,
    metrics: score.metrics,
    device: result.device,
  };
  return { record, correct: (score.metrics[task.task.primaryMetric] ?? 0) > 0 ? 1 : 0 };
}

/** The checkpoint's adapter as `evals local` labels it (`random:seed=0`, `identity`, `none`). */
function adapterLabel(run: RunContext): string {
  const adapter = run.checkpoint.manifest.adapter;
  if (!adapter) return "none";
  return adapter.seed !== null ? `${adapter.init}:seed=${adapter.seed}` : adapter.init;
}
