// The task datasets a run needs on the server: the canonical dataset of each name must hold every
// file the run's tasks read (GET /api/tasks says which). Files it lacks are found locally (--data,
// $EVALS_DATA_DIR, ../shared/datasets, the Hugging Face cache), uploaded, and registered together
// with the files the server already had, as a new version the run pins (only an admin makes a
// version canonical).
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { z } from "zod";
import type { EvalsClient } from "../../worker/client.ts";
import type { Dataset, TaskListSchema } from "../../worker/protocol.ts";
import { DatasetNotFoundError, dataRoots } from "../data/datasets.ts";
import { hubSplitRows } from "../data/general-datasets.ts";
import { hubDatasetFile } from "../data/hub-datasets.ts";
import { EvalsError } from "../errors.ts";
import { arithmeticDatasetFile } from "../tasks/arithmetic.ts";
import { getTask } from "../tasks/registry.ts";

type TaskInfo = z.infer<typeof TaskListSchema>["tasks"][number];
type DatasetName = Dataset["name"];

export class UnknownApiTaskError extends EvalsError {}

/** The file's bytes from the local data roots, or the hub cache for a test/train split. */
async function localDatasetFile(
  info: TaskInfo,
  file: string,
  dataDir: string | undefined,
): Promise<Uint8Array<ArrayBuffer>> {
  if (info.kind === "loglikelihood") return localGeneralFile(info, file, dataDir);
  const task = getTask(info.name);
  const generated = task.dataset.name === "arithmetic" ? arithmeticDatasetFile(file) : null;
  if (generated !== null) return new Uint8Array(Buffer.from(generated));
  const folders = [info.dataset];
  if (task.fewshot?.kind === "first_n" && task.fewshot.dataset) folders.push(task.fewshot.dataset);
  const looked: string[] = [];
  for (const root of dataRoots(dataDir)) {
    for (const folder of folders) {
      const path = join(root, folder, file);
      looked.push(path);
      if (existsSync(path)) return new Uint8Array(readFileSync(path));
    }
  }
  if (file === "test.jsonl" || file === "train.jsonl") {
    const hub = await hubDatasetFile(task, looked);
    const docs = file === "test.jsonl" ? hub?.test : hub?.train;
    if (docs) {
      const text = docs.map((doc) => JSON.stringify(doc)).join("\n");
      return new Uint8Array(Buffer.from(`${text}\n`));
    }
  }
  throw new DatasetNotFoundError(
    `${info.name} needs ${info.dataset}/${file}, which the API lacks and which is not here ` +
      `(looked in ${looked.join(", ")}); give --data <dir> or set EVALS_DATA_DIR`,
  );
}

/** A loglikelihood task's file: `<root>/<dataset>/<file>`, else (HellaSwag) the hub's split. */
async function localGeneralFile(
  info: TaskInfo,
  file: string,
  dataDir: string | undefined,
): Promise<Uint8Array<ArrayBuffer>> {
  const looked: string[] = [];
  for (const root of dataRoots(dataDir)) {
    const path = join(root, info.dataset, file);
    looked.push(path);
    if (existsSync(path)) return new Uint8Array(readFileSync(path));
  }
  const rows = await hubSplitRows(info.dataset, file.replace(/\.jsonl$/, ""));
  if (rows) {
    const text = rows.map((row) => JSON.stringify(row)).join("\n");
    return new Uint8Array(Buffer.from(`${text}\n`));
  }
  throw new DatasetNotFoundError(
    `${info.name} needs ${info.dataset}/${file}, which the API lacks and which is not here ` +
      `(looked in ${looked.join(", ")}); give --data <dir> or set EVALS_DATA_DIR`,
  );
}

/**
 * The API's description of each task (GET /api/tasks), lm-eval groups (mmlu) expanded to their
 * subtasks as the API lists them; a task it lacks is refused by name.
 */
export async function apiTasks(
  client: EvalsClient,
  api: string,
  taskNames: readonly string[],
): Promise<TaskInfo[]> {
  const { tasks: known, groups } = await client.listTasks();
  const expanded = [...new Set(taskNames.flatMap((name) => groups[name] ?? [name]))];
  return expanded.map((name) => {
    const info = known.find((t) => t.name === name);
    if (!info) {
      throw new UnknownApiTaskError(
        `the API at ${api} does not run task "${name}"; it runs: ${known.map((t) => t.name).join(", ")}`,
      );
    }
    return info;
  });
}

/** A dataset registered now, with the files the server lacked. */
export interface RegisteredDataset {
  name: DatasetName;
  /** The version's id: the run pins it unless it became canonical. */
  id: string;
  canonical: boolean;
  added: string[];
}

/**
 * Makes sure the API can build the prompts of `tasks`; uploads and registers what it lacks.
 * `held` is `client.listDatasets()`'s answer. Example: `await ensureDatasets(client,
 * await apiTasks(client, url, names), (await client.listDatasets()).datasets)`.
 */
export async function ensureDatasets(
  client: EvalsClient,
  tasks: readonly TaskInfo[],
  held: readonly Dataset[],
  dataDir?: string,
  numFewshot: number | null = null,
): Promise<RegisteredDataset[]> {
  const canonical = new Map<DatasetName, Dataset>();
  for (const dataset of held) {
    if (dataset.canonical) canonical.set(dataset.name, dataset);
  }
  const registered: RegisteredDataset[] = [];
  for (const name of new Set(tasks.map((t) => t.dataset))) {
    const files: Record<string, string> = { ...canonical.get(name)?.files };
    const added: string[] = [];
    for (const info of tasks.filter((t) => t.dataset === name)) {
      const shots = numFewshot ?? info.default_num_fewshot;
      for (const file of [...info.dataset_files, ...(shots > 0 ? info.fewshot_files : [])]) {
        if (files[file]) continue;
        const bytes = await localDatasetFile(info, file, dataDir);
        files[file] = createHash("sha256").update(bytes).digest("hex");
        await client.uploadBlob(files[file], bytes);
        added.push(file);
      }
    }
    if (added.length === 0) continue;
    const version = await client.registerDataset({ name, files });
    registered.push({ name, id: version.id, canonical: version.canonical, added });
  }
  return registered;
}
