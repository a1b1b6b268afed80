// Which dataset files a task reads, and loading them from R2 (prompts are built server-side).
import { TaskDataError } from "../../evals/tasks/render.ts";
import type { TaskDefinition, TaskDoc } from "../../evals/tasks/types.ts";
import type { Env } from "../env.ts";
import { badRequest } from "../http-error.ts";
import { findBlob, type StoredBlob } from "../storage/blob-store.ts";

/** The documents' file and, when the task samples exemplars, the few-shot pool's file. */
export function taskDatasetFiles(task: TaskDefinition): { docs: string; fewshot: string | null } {
  const fewshot = !task.fewshot
    ? null
    : task.fewshot.kind === "first_n"
      ? task.fewshot.file
      : `${task.fewshot.split}.jsonl`;
  return { docs: `${task.dataset.split}.jsonl`, fewshot };
}

/** Rows of a JSONL file; `label` names the file in errors. */
export function parseJsonl(text: string, label: string): TaskDoc[] {
  const docs: TaskDoc[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(lines[i]);
    } catch {
      value = undefined;
    }
    if (!value || typeof value !== "object" || Array.isArray(value)) {
      throw new TaskDataError(`${label}:${i + 1}: not a JSON object`);
    }
    docs.push(value as TaskDoc);
  }
  return docs;
}

/** `blob`: its row when the caller already looked it up (null: not stored), else read here. */
export async function readJsonlBlob(
  env: Env,
  sha256: string,
  label: string,
  blob?: StoredBlob | null,
): Promise<TaskDoc[]> {
  if (blob === undefined) blob = await findBlob(env, sha256);
  const object = blob ? await env.BLOBS.get(blob.r2_key) : null;
  if (!object) throw badRequest(`${label}: blob ${sha256} is not stored`);
  return parseJsonl(await object.text(), label);
}

/** A registered dataset version: its id and its files' JSON (file name → sha256). */
export interface DatasetVersion {
  id: string;
  name: string;
  files: string;
}

/**
 * The version of each named dataset a run uses: the one `pins` names (null when no version of
 * that name has that id), else the canonical one (DESIGN §8; null when there is none). One D1
 * round trip for all names, so creating a run of many tasks stays within the per-invocation
 * query limit (D1: 50 on the Workers Free plan, 1,000 on Paid).
 */
export async function runDatasetVersions(
  env: Env,
  names: readonly string[],
  pins: Readonly<Record<string, string | undefined>>,
): Promise<Map<string, DatasetVersion | null>> {
  const distinct = [...new Set(names)];
  const pinned = distinct.filter((name) => pins[name]);
  const canonical = distinct.filter((name) => !pins[name]);
  const found = new Map<string, DatasetVersion | null>(distinct.map((name) => [name, null]));
  const statements: D1PreparedStatement[] = [];
  if (pinned.length) {
    statements.push(
      env.DB.prepare(
        "SELECT id, name, files FROM datasets WHERE id IN (SELECT value FROM json_each(?))",
      ).bind(JSON.stringify(pinned.map((name) => pins[name]))),
    );
  }
  if (canonical.length) {
    statements.push(
      env.DB.prepare(
        "SELECT d.id, c.name, d.files FROM canonical_datasets c JOIN datasets d ON d.id = c.dataset_id WHERE c.name IN (SELECT value FROM json_each(?))",
      ).bind(JSON.stringify(canonical)),
    );
  }
  if (statements.length === 0) return found;
  const results = await env.DB.batch<DatasetVersion>(statements);
  const rows = results.flatMap((result) => result.results);
  for (const name of pinned) {
    // A pinned id counts only under its own name.
    found.set(name, rows.find((row) => row.id === pins[name] && row.name === name) ?? null);
  }
  if (canonical.length) {
    for (const row of results.at(-1)!.results) found.set(row.name, row);
  }
  return found;
}
