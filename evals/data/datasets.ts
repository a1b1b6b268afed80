// Loads a task's documents and few-shot pool from local jsonl/parquet files. Search order:
// an explicit --data directory, $EVALS_DATA_DIR, ../shared/datasets beside the repository, then
// the Hugging Face cache (downloading there when the hub is reachable).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { EvalsError } from "../errors.ts";
import { sha256Hex } from "../tasks/render.ts";
import type { TaskDefinition, TaskDoc } from "../tasks/types.ts";
import { hubDatasetFile } from "./hub-datasets.ts";

export class DatasetNotFoundError extends EvalsError {}
export class DatasetFormatError extends EvalsError {}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export interface TaskData {
  docs: TaskDoc[];
  fewshotPool: TaskDoc[] | null;
  /** Where the documents came from (a directory or a hub repo). */
  source: string;
  /** sha256 over the documents and the few-shot pool, in order. */
  datasetHash: string;
}

/** Candidate local roots, in search order. */
export function dataRoots(explicit?: string): string[] {
  const roots = [explicit, process.env.EVALS_DATA_DIR, resolve(repoRoot, "../shared/datasets")];
  return roots.filter((root): root is string => Boolean(root));
}

export async function loadTaskData(
  task: TaskDefinition,
  options: { dataDir?: string } = {},
): Promise<TaskData> {
  const looked: string[] = [];
  const split = `${task.dataset.split}.jsonl`;
  for (const root of dataRoots(options.dataDir)) {
    const dir = join(root, task.dataset.name);
    const docsFile = join(dir, split);
    looked.push(docsFile);
    if (!existsSync(docsFile)) continue;
    const docs = readJsonl(docsFile);
    const fewshotPool = task.fewshot ? readJsonl(join(dir, fewshotFile(task))) : null;
    return { docs, fewshotPool, source: dir, datasetHash: await hashDocs(docs, fewshotPool) };
  }
  const fromHub = await hubDatasetFile(task, looked);
  if (fromHub) {
    const fewshotPool = task.fewshot?.kind === "random" ? fromHub.train : null;
    if (task.fewshot?.kind === "first_n") {
      throw new DatasetNotFoundError(
        `${task.name} needs its exemplar file ${task.fewshot.file}, which is not on the hub; put it in ` +
          `<data dir>/${task.dataset.name}/ (looked in ${looked.join(", ")})`,
      );
    }
    return {
      docs: fromHub.test,
      fewshotPool,
      source: fromHub.source,
      datasetHash: await hashDocs(fromHub.test, fewshotPool),
    };
  }
  throw new DatasetNotFoundError(
    `no ${task.dataset.name} data found for ${task.name}; looked in ${looked.join(", ")} and the Hugging Face cache. ` +
      `Give --data <dir> (or set EVALS_DATA_DIR) with ${task.dataset.name}/${split}, or connect to the hub`,
  );
}

/** The few-shot file, relative to the task's dataset folder. */
function fewshotFile(task: TaskDefinition): string {
  if (task.fewshot?.kind !== "first_n") return `${task.fewshot?.split}.jsonl`;
  const { dataset, file } = task.fewshot;
  return dataset ? join("..", dataset, file) : file;
}

export function readJsonl(path: string): TaskDoc[] {
  if (!existsSync(path)) throw new DatasetNotFoundError(`missing dataset file ${path}`);
  const docs: TaskDoc[] = [];
  readFileSync(path, "utf8")
    .split("\n")
    .forEach((line, i) => {
      if (line.trim() === "") return;
      try {
        const value = JSON.parse(line);
        if (!value || typeof value !== "object" || Array.isArray(value))
          throw new Error("not an object");
        docs.push(value);
      } catch (error) {
        throw new DatasetFormatError(
          `${path}:${i + 1}: not a JSON object (${(error as Error).message})`,
        );
      }
    });
  return docs;
}

async function hashDocs(docs: TaskDoc[], pool: TaskDoc[] | null): Promise<string> {
  return sha256Hex(JSON.stringify([docs, pool]));
}
