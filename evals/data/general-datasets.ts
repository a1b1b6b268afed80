// Documents and few-shot rows of the loglikelihood tasks, from `<root>/<dataset>/<split>.jsonl`
// in the Hugging Face layout (same search order as the generation tasks), else — for HellaSwag,
// which ../shared lacks in full — the Hugging Face dataset Rowan/hellaswag from the cache or hub.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { selectTaskRows, type TaskRows } from "../tasks/loglikelihood/task-rows.ts";
import type { LoglikelihoodTaskDefinition } from "../tasks/loglikelihood/types.ts";
import { sha256Hex, TaskDataError } from "../tasks/render.ts";
import type { TaskDoc } from "../tasks/types.ts";
import { DatasetNotFoundError, dataRoots, readJsonl } from "./datasets.ts";
import { readHubDataset } from "./hub-datasets.ts";

export interface GeneralTaskData {
  docs: TaskDoc[];
  fewshotPool: TaskDoc[] | null;
  /** The few-shot rows are the evaluated split (lm-eval then draws one extra). */
  fewshotFromSameSplit: boolean;
  source: string;
  datasetHash: string;
}

/** Parquet files of Rowan/hellaswag (the hub's parquet conversion). */
const HUB_SPLITS: Partial<Record<string, { repo: string; files: Record<string, string> }>> = {
  hellaswag: {
    repo: "Rowan/hellaswag",
    files: {
      validation: "data/validation-00000-of-00001.parquet",
      train: "data/train-00000-of-00001.parquet",
    },
  },
};

/** Rows of one split of a dataset the hub serves (HellaSwag), from the cache or hub; else null. */
export async function hubSplitRows(dataset: string, split: string): Promise<TaskDoc[] | null> {
  const hub = HUB_SPLITS[dataset];
  return hub ? readHubDataset(hub.repo, hub.files[split]) : null;
}

/** Parsed files by path: MMLU's 57 subjects read the same test file. */
const parsed = new Map<string, TaskDoc[]>();
function readCached(path: string): TaskDoc[] {
  let rows = parsed.get(path);
  if (!rows) {
    rows = readJsonl(path);
    parsed.set(path, rows);
  }
  return rows;
}

export async function loadGeneralTaskData(
  task: LoglikelihoodTaskDefinition,
  options: { dataDir?: string; numFewshot?: number } = {},
): Promise<GeneralTaskData> {
  const k = options.numFewshot ?? task.defaultNumFewshot;
  const { name, split } = task.dataset;
  const sameSplit = task.fewshot.split === split;
  const looked: string[] = [];
  let docs: TaskDoc[] | null = null;
  let pool: TaskDoc[] | null = null;
  let source = "";
  for (const root of dataRoots(options.dataDir)) {
    const file = join(root, name, `${split}.jsonl`);
    looked.push(file);
    if (!existsSync(file)) continue;
    docs = readCached(file);
    source = join(root, name);
    if (k > 0 && !sameSplit) {
      const shots = join(root, name, `${task.fewshot.split}.jsonl`);
      if (!existsSync(shots)) {
        throw new DatasetNotFoundError(
          `${task.name} --num-fewshot ${k} draws from the ${task.fewshot.split} split, but ${shots} is missing; ` +
            "add it or run zero-shot",
        );
      }
      pool = readCached(shots);
    }
    break;
  }
  if (!docs) {
    const hub = HUB_SPLITS[name];
    if (hub) {
      looked.push(`hf:${hub.repo}`);
      docs = await readHubDataset(hub.repo, hub.files[split]);
      if (docs && k > 0 && !sameSplit)
        pool = await readHubDataset(hub.repo, hub.files[task.fewshot.split]);
      source = `hf:${hub.repo}`;
    }
  }
  if (!docs) {
    throw new DatasetNotFoundError(
      `no ${name} data found for ${task.name}; looked in ${looked.join(", ")}. ` +
        `Give --data <dir> (or set EVALS_DATA_DIR) with ${name}/${split}.jsonl`,
    );
  }
  if (k > 0 && !sameSplit && !pool) {
    throw new DatasetNotFoundError(
      `${task.name}: no ${task.fewshot.split} rows for few-shot examples`,
    );
  }
  let rows: TaskRows;
  try {
    rows = selectTaskRows(task, docs, pool, k, source);
  } catch (error) {
    if (error instanceof TaskDataError) throw new DatasetNotFoundError(error.message);
    throw error;
  }
  return {
    ...rows,
    source,
    datasetHash: await sha256Hex(JSON.stringify([rows.docs, rows.fewshotPool])),
  };
}
