// Task datasets from the Hugging Face hub (parquet, read with hyparquet), cached in the standard
// hub cache. Returns null when the hub is unreachable and nothing is cached.
import { readFileSync } from "node:fs";
import { downloadFileToCacheDir } from "@huggingface/hub";
import { parquetReadObjects } from "hyparquet";
import { hubCacheDir } from "../../model/hub.ts";
import type { TaskDefinition, TaskDoc } from "../tasks/types.ts";

const HUB_FILES: Record<string, { repo: string; test: string; train?: string }> = {
  gsm8k: {
    repo: "openai/gsm8k",
    test: "main/test-00000-of-00001.parquet",
    train: "main/train-00000-of-00001.parquet",
  },
  math500: { repo: "HuggingFaceH4/MATH-500", test: "test.jsonl" },
};

export async function hubDatasetFile(
  task: TaskDefinition,
  looked: string[],
): Promise<{ test: TaskDoc[]; train: TaskDoc[] | null; source: string } | null> {
  const spec = HUB_FILES[task.dataset.name];
  if (!spec) return null;
  looked.push(`hf:${spec.repo} (cache ${hubCacheDir()})`);
  try {
    const read = async (path: string) => {
      const local = await downloadFileToCacheDir({
        repo: { type: "dataset", name: spec.repo },
        path,
        cacheDir: hubCacheDir(),
      });
      return path.endsWith(".parquet") ? readParquet(local) : readJsonLines(local);
    };
    const test = await read(spec.test);
    const train = spec.train ? await read(spec.train) : null;
    return { test, train, source: `hf:${spec.repo}` };
  } catch {
    return null;
  }
}

/** One file of a hub dataset (parquet or jsonl) via the cache; null when neither has it. */
export async function readHubDataset(
  repo: string,
  path: string | undefined,
): Promise<TaskDoc[] | null> {
  if (!path) return null;
  try {
    const local = await downloadFileToCacheDir({
      repo: { type: "dataset", name: repo },
      path,
      cacheDir: hubCacheDir(),
    });
    return path.endsWith(".parquet") ? await readParquet(local) : readJsonLines(local);
  } catch {
    return null;
  }
}

async function readParquet(path: string): Promise<TaskDoc[]> {
  const bytes = readFileSync(path);
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return (await parquetReadObjects({ file })) as TaskDoc[];
}

function readJsonLines(path: string): TaskDoc[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line));
}
