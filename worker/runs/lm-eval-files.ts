// What the lm-eval export of a run needs from storage: the run's tasks with their dataset sizes
// and rows (the pinned files in R2), its documents and its records; the layout itself is
// evals/run/lm-eval-export.ts, shared with the CLI.
import {
  type LmEvalTask,
  type LoggedDoc,
  lmEvalResults,
  lmEvalSampleLines,
  lmEvalTaskHash,
} from "../../evals/run/lm-eval-export.ts";
import type { SampleRecord } from "../../evals/run/records.ts";
import { findTask } from "../../evals/tasks/catalog.ts";
import { loglikelihoodDatasetFiles } from "../../evals/tasks/loglikelihood/task-rows.ts";
import type { TaskDoc } from "../../evals/tasks/types.ts";
import type { Env } from "../env.ts";
import { badRequest } from "../http-error.ts";
import type { RunConfig } from "../protocol.ts";
import { findBlobs } from "../storage/blob-store.ts";
import { loadCheckpoint } from "../storage/checkpoint-store.ts";
import { maxNewTokens } from "./run-context.ts";
import { type RunRow, runAggregates } from "./run-view.ts";
import { readJsonlBlob, taskDatasetFiles } from "./task-datasets.ts";

interface ExportTaskRow {
  task: string;
  num_fewshot: number;
  dataset_files: string;
}

interface LoadedTask extends LmEvalTask {
  rows: TaskDoc[] | null;
}

/** The r an export is for: the one asked for, else the run's only r (400 when it has several). */
export function exportRecurrence(config: RunConfig, r: number | undefined, runId: string): number {
  const all = [...config.recurrences].sort((a, b) => a - b);
  if (r !== undefined) {
    if (!all.includes(r)) throw badRequest(`r: run ${runId} ran r = ${all.join(", ")}`);
    return r;
  }
  if (all.length === 1) return all[0];
  throw badRequest(
    `r: run ${runId} ran r = ${all.join(", ")}; an lm-eval results file holds one model configuration (mean_recurrence is a model argument), so pick one: ?r=${all.at(-1)}`,
  );
}

/**
 * The run's tasks with their split's rows. A file several tasks share (mmlu's 57 subjects read one
 * test.jsonl) is read once, and all blob rows come from one query: binding calls per invocation
 * are capped (50 on the Workers Free plan), whatever the number of tasks.
 */
async function loadTasks(env: Env, row: RunRow, config: RunConfig): Promise<LoadedTask[]> {
  const { results } = await env.DB.prepare(
    "SELECT task, num_fewshot, dataset_files FROM run_tasks WHERE run_id = ? ORDER BY rowid",
  )
    .bind(row.id)
    .all<ExportTaskRow>();
  const tasks = results.map((t) => {
    const found = findTask(t.task);
    const files = JSON.parse(t.dataset_files) as Record<string, string>;
    const docsFile =
      found.kind === "generate"
        ? taskDatasetFiles(found.task).docs
        : loglikelihoodDatasetFiles(found.task, t.num_fewshot).docs;
    return { t, found, files, docsFile, sha256: files[docsFile] as string | undefined };
  });
  const blobs = await findBlobs(
    env,
    tasks.flatMap(({ sha256 }) => (sha256 ? [sha256] : [])),
  );
  const reads = new Map<string, Promise<TaskDoc[] | null>>();
  const rowsOf = (sha256: string, label: string) => {
    let read = reads.get(sha256);
    if (!read) {
      read = readJsonlBlob(env, sha256, label, blobs.get(sha256) ?? null).catch(() => null);
      reads.set(sha256, read);
    }
    return read;
  };
  return Promise.all(
    tasks.map(async ({ t, found, files, docsFile, sha256 }) => {
      // The whole split, for n-samples.original and each logged sample's `doc`.
      const rows = sha256 ? await rowsOf(sha256, docsFile) : null;
      return {
        task: t.task,
        numFewshot: t.num_fewshot,
        datasetSize: rows?.length ?? null,
        maxGenToks: found.kind === "generate" ? maxNewTokens(found.task, config) : undefined,
        datasetFiles: files,
        rows,
      };
    }),
  );
}

/** Each task's documents and its records at `r`: one D1 batch for all of `tasks`. */
async function tasksLines(
  env: Env,
  row: RunRow,
  tasks: readonly LoadedTask[],
  r: number,
): Promise<Record<string, unknown>[][]> {
  if (tasks.length === 0) return [];
  const results = await env.DB.batch(
    tasks.flatMap((task) => [
      env.DB.prepare(
        "SELECT doc_index, prompt, gold FROM run_docs WHERE run_id = ? AND task = ? ORDER BY doc_index",
      ).bind(row.id, task.task),
      env.DB.prepare(
        "SELECT record FROM samples WHERE run_id = ? AND task = ? AND recurrences = ? ORDER BY doc_index",
      ).bind(row.id, task.task, r),
    ]),
  );
  return Promise.all(tasks.map((task, i) => taskLines(task, results[2 * i], results[2 * i + 1])));
}

function taskLines(
  task: LoadedTask,
  docs: D1Result,
  samples: D1Result,
): Promise<Record<string, unknown>[]> {
  const found = findTask(task.task);
  const logged = new Map<number, LoggedDoc>();
  for (const d of docs.results as { doc_index: number; prompt: string; gold: string }[]) {
    // A loglikelihood document's row is the split's row only at 0-shot (few-shot rows drawn from
    // the same split shift the rest); otherwise the stored gold and choices stand in for it.
    const row =
      found.kind === "generate" || task.numFewshot === 0 ? task.rows?.[d.doc_index] : undefined;
    const fallback =
      found.kind === "generate"
        ? { [found.task.goldField]: d.gold }
        : (JSON.parse(d.gold) as Record<string, unknown>);
    logged.set(d.doc_index, { ...d, doc: row ?? fallback });
  }
  const records = (samples.results as { record: string }[]).map(
    (s) => JSON.parse(s.record) as SampleRecord,
  );
  return lmEvalSampleLines(task.task, records, logged, task.maxGenToks);
}

/** The results file of run `row` at `r`, with lm-eval's task hashes over its logged samples. */
export async function lmEvalResultsOf(env: Env, row: RunRow, r: number) {
  const config = JSON.parse(row.config) as RunConfig;
  const [tasks, aggregates, checkpoint] = await Promise.all([
    loadTasks(env, row, config),
    runAggregates(env, row),
    loadCheckpoint(env, row.checkpoint_id),
  ]);
  const lines = await tasksLines(env, row, tasks, r);
  const hashes: Record<string, string> = {};
  for (const [i, task] of tasks.entries()) hashes[task.task] = await lmEvalTaskHash(lines[i]);
  return lmEvalResults(
    {
      id: row.id,
      modelName: row.checkpoint_name,
      checkpointId: row.checkpoint_id,
      config,
      createdAt: row.created_at,
      finishedAt: row.finished_at,
      gitHash: env.EVALS_GIT_HASH ?? null,
      maxLength: checkpoint.manifest.architecture.max_position_embeddings,
    },
    tasks,
    aggregates,
    r,
    hashes,
  );
}

/** lm-eval's `samples_<task>_<date>.jsonl` lines for one task of run `row` at `r`. */
export async function lmEvalSamplesOf(env: Env, row: RunRow, task: string, r: number) {
  const config = JSON.parse(row.config) as RunConfig;
  const loaded = (await loadTasks(env, row, config)).find((t) => t.task === task);
  if (!loaded) throw badRequest(`task: run ${row.id} has no task "${task}"`);
  const [lines] = await tasksLines(env, row, [loaded], r);
  return lines;
}
