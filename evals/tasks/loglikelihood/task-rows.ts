// Which rows of a loglikelihood task's dataset files it evaluates and samples few-shot examples
// from: one subset (an MMLU subject) in file order; the few-shot pool is the evaluated split itself
// when the task samples from it (lambada, asdiv). Pure, so `evals local` and the API agree.
import { TaskDataError } from "../render.ts";
import type { TaskDoc } from "../types.ts";
import type { LoglikelihoodTaskDefinition } from "./types.ts";

/** Files (in the dataset's folder) a task reads with `numFewshot` examples per document. */
export function loglikelihoodDatasetFiles(
  task: LoglikelihoodTaskDefinition,
  numFewshot: number,
): { docs: string; fewshot: string | null } {
  const docs = `${task.dataset.split}.jsonl`;
  const sameSplit = task.fewshot.split === task.dataset.split;
  return { docs, fewshot: numFewshot > 0 && !sameSplit ? `${task.fewshot.split}.jsonl` : null };
}

export interface TaskRows {
  docs: TaskDoc[];
  fewshotPool: TaskDoc[] | null;
  /** The few-shot rows are the evaluated split (lm-eval then draws one extra). */
  fewshotFromSameSplit: boolean;
}

/** `fileRows`: the docs file's rows; `poolRows`: the few-shot file's, when the task needs one. */
export function selectTaskRows(
  task: LoglikelihoodTaskDefinition,
  fileRows: TaskDoc[],
  poolRows: TaskDoc[] | null,
  numFewshot: number,
  source: string,
): TaskRows {
  const { subset } = task.dataset;
  const only = (rows: TaskDoc[]) =>
    subset ? rows.filter((row) => row[subset.field] === subset.value) : rows;
  const docs = only(fileRows);
  if (docs.length === 0)
    throw new TaskDataError(
      `${task.name}: no rows of ${subset?.value ?? task.dataset.name} in ${source}`,
    );
  const sameSplit = task.fewshot.split === task.dataset.split;
  const fewshotPool = numFewshot === 0 ? null : sameSplit ? docs : only(poolRows ?? []);
  return { docs, fewshotPool, fewshotFromSameSplit: sameSplit };
}
