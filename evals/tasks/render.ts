// Prompt assembly as lm-eval does it: description + exemplars joined by the few-shot delimiter
// (each `doc_to_text + target_delimiter + doc_to_target`) + delimiter + doc_to_text of the document.
import { EvalsError } from "../errors.ts";
import { PythonRandom } from "./python-random.ts";
import type { TaskDefinition, TaskDoc, TaskRequest } from "./types.ts";

export class TaskDataError extends EvalsError {}

/** Fills `{field}` placeholders from a document. */
export function fillTemplate(template: string, doc: TaskDoc): string {
  return template.replace(/\{(\w+)\}/g, (_, field: string) => {
    const value = doc[field];
    if (typeof value !== "string") {
      throw new TaskDataError(
        `document has no text field "${field}" (fields: ${Object.keys(doc).join(", ")})`,
      );
    }
    return value;
  });
}

export function renderPrompt(
  task: TaskDefinition,
  doc: TaskDoc,
  exemplars: readonly TaskDoc[],
): string {
  const shots = exemplars.map(
    (ex) => fillTemplate(task.docToText, ex) + task.targetDelimiter + task.docToTarget(ex),
  );
  const context = shots.length ? shots.join(task.fewshotDelimiter) + task.fewshotDelimiter : "";
  return task.description + context + fillTemplate(task.docToText, doc);
}

export interface BuildOptions {
  numFewshot?: number;
  /** Only the first `limit` documents (lm-eval's --limit). */
  limit?: number;
  /** Prefix of stable document ids, e.g. "gsm8k/test". */
  idPrefix?: string;
}

/** Prompts for the task's documents, in dataset order (the few-shot RNG depends on that order). */
export async function buildRequests(
  task: TaskDefinition,
  docs: readonly TaskDoc[],
  fewshotPool: readonly TaskDoc[] | null,
  options: BuildOptions = {},
): Promise<TaskRequest[]> {
  const k = options.numFewshot ?? task.defaultNumFewshot;
  if (!Number.isInteger(k) || k < 0)
    throw new TaskDataError(`num_fewshot ${k} must be a non-negative integer`);
  if (k > 0 && !task.fewshot)
    throw new TaskDataError(`${task.name} has no few-shot exemplars here; use --num-fewshot 0`);
  if (k > 0 && !fewshotPool)
    throw new TaskDataError(`${task.name} needs few-shot exemplars but none were loaded`);
  if (task.fewshot?.kind === "first_n" && fewshotPool && k > fewshotPool.length) {
    throw new TaskDataError(
      `${task.name} has ${fewshotPool.length} fixed exemplars; --num-fewshot ${k} is too many`,
    );
  }
  const pool = fewshotPool && exemplarDocs(task, fewshotPool);
  const count = Math.min(docs.length, options.limit ?? docs.length);
  const random = task.fewshot?.kind === "random" ? new PythonRandom(task.fewshot.seed) : null;
  const requests: TaskRequest[] = [];
  for (let i = 0; i < count; i++) {
    const doc = docs[i];
    const exemplars = k === 0 || !pool ? [] : random ? random.sample(pool, k) : pool.slice(0, k);
    const gold = doc[task.goldField];
    if (typeof gold !== "string")
      throw new TaskDataError(`document ${i} has no "${task.goldField}" field`);
    requests.push({
      docIndex: i,
      docId: `${options.idPrefix ?? task.dataset.name}/${i}`,
      docHash: await sha256Hex(canonicalJson(doc)),
      prompt: renderPrompt(task, doc, exemplars),
      gold,
    });
  }
  return requests;
}

/** Exemplar rows with their fields renamed to the ones the task's templates read. */
function exemplarDocs(task: TaskDefinition, pool: readonly TaskDoc[]): readonly TaskDoc[] {
  const fields = task.fewshot?.kind === "first_n" ? task.fewshot.fields : undefined;
  if (!fields) return pool;
  return pool.map((row) =>
    Object.fromEntries(Object.entries(row).map(([key, value]) => [fields[key] ?? key, value])),
  );
}

/** JSON with sorted keys, so equal objects hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Hash of everything about a task that affects scores (with the few-shot count actually used). */
export function taskHash(task: TaskDefinition, numFewshot?: number): Promise<string> {
  const { docToTarget: _t, score: _s, ...data } = task;
  return sha256Hex(canonicalJson({ ...data, numFewshot: numFewshot ?? task.defaultNumFewshot }));
}
