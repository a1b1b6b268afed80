// Which dataset files a task reads, and loading them from R2 (prompts are built server-side).
import { TaskDataError } from "../../evals/tasks/render.ts";
import type { TaskDefinition, TaskDoc } from "../../evals/tasks/types.ts";
import type { Env } from "../env.ts";
import { badRequest } from "../http-error.ts";
import { findBlob } from "../storage/blob-store.ts";

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

export async function readJsonlBlob(env: Env, sha256: string, label: string): Promise<TaskDoc[]> {
  const blob = await findBlob(env, sha256);
  const object = blob ? await env.BLOBS.get(blob.r2_key) : null;
  if (!object) throw badRequest(`${label}: blob ${sha256} is not stored`);
  return parseJsonl(await object.text(), label);
}
