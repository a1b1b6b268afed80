// Requests of a loglikelihood task as lm-eval's ConfigurableTask builds them. Context =
// description + few-shot examples (each doc_to_text + target_delimiter + target text +
// fewshot_delimiter) + doc_to_text. multiple_choice: one request per choice, (context,
// target_delimiter + choice); multiple inputs (doc_to_text is an int): one request per choice
// context, (prefix + choice, target_delimiter + doc_to_target); loglikelihood: one request
// (context, doc_to_target) with no delimiter.
import { PythonRandom } from "../python-random.ts";
import { canonicalJson, sha256Hex, TaskDataError } from "../render.ts";
import type { TaskDoc } from "../types.ts";
import type { DocumentRequests, LoglikelihoodTaskDefinition } from "./types.ts";

export interface GeneralBuildOptions {
  numFewshot?: number;
  limit?: number;
  /** The few-shot rows come from the evaluated split itself (lambada, asdiv). */
  fewshotFromSameSplit?: boolean;
}

/** Requests for the first `limit` documents, in dataset order (the sampler depends on it). */
export async function buildDocumentRequests(
  task: LoglikelihoodTaskDefinition,
  docs: readonly TaskDoc[],
  fewshotPool: readonly TaskDoc[] | null,
  options: GeneralBuildOptions = {},
): Promise<DocumentRequests[]> {
  const k = options.numFewshot ?? task.defaultNumFewshot;
  if (!Number.isInteger(k) || k < 0)
    throw new TaskDataError(`num_fewshot ${k} must be a non-negative integer`);
  if (k > 0 && !fewshotPool)
    throw new TaskDataError(
      `${task.name} needs few-shot rows (${task.fewshot.split}) but none were loaded`,
    );
  const pool = fewshotPool?.map((doc) => processed(task, doc)) ?? [];
  if (k > pool.length)
    throw new TaskDataError(
      `${task.name}: --num-fewshot ${k} is more than the ${pool.length} few-shot rows`,
    );
  const random = task.fewshot.kind === "random" ? new PythonRandom(task.fewshot.seed) : null;
  const count = Math.min(docs.length, options.limit ?? docs.length);
  const out: DocumentRequests[] = [];
  for (let i = 0; i < count; i++) {
    const doc = processed(task, docs[i]);
    let shots: TaskDoc[] = [];
    if (k > 0 && random) {
      // lm-eval draws one extra when sampling from the evaluated split, then drops the doc itself.
      const drawn = random.sample(pool, options.fewshotFromSameSplit ? k + 1 : k);
      const self = canonicalJson(doc);
      shots = drawn.filter((shot) => canonicalJson(shot) !== self).slice(0, k);
    } else if (k > 0) {
      shots = pool.slice(0, k);
    }
    const prefix =
      task.description +
      shots.map((shot) => exampleText(task, shot) + task.fewshotDelimiter).join("");
    out.push({
      docIndex: i,
      docId: `${task.name}/${i}`,
      docHash: await sha256Hex(canonicalJson(docs[i])),
      ...requestsOf(task, doc, prefix, i),
    });
  }
  return out;
}

function processed(task: LoglikelihoodTaskDefinition, doc: TaskDoc): TaskDoc {
  return task.processDoc ? task.processDoc(doc) : doc;
}

/** A few-shot example: its text (the gold context in multiple-input mode) + delimiter + target. */
function exampleText(task: LoglikelihoodTaskDefinition, doc: TaskDoc): string {
  const text = task.docToText(doc);
  const target = task.docToTarget(doc);
  const choices = task.docToChoice?.(doc) ?? [];
  const context = typeof text === "number" ? choices[text] : text;
  const answer = typeof target === "number" ? choices[target] : target;
  return context + task.targetDelimiter + answer;
}

function requestsOf(
  task: LoglikelihoodTaskDefinition,
  doc: TaskDoc,
  prefix: string,
  index: number,
): Pick<DocumentRequests, "requests" | "gold" | "choices"> {
  const text = task.docToText(doc);
  const target = task.docToTarget(doc);
  if (task.outputType === "loglikelihood") {
    if (typeof text !== "string" || typeof target !== "string")
      throw new TaskDataError(`${task.name} document ${index}: text and target must be strings`);
    return { requests: [{ context: prefix + text, continuation: target }], gold: 0, choices: [] };
  }
  const choices = task.docToChoice?.(doc);
  if (!choices || choices.length < 2)
    throw new TaskDataError(`${task.name} document ${index}: fewer than two choices`);
  if (typeof text === "number") {
    checkGold(task, text, choices, index);
    const continuation = task.targetDelimiter + String(target);
    return {
      requests: choices.map((choice) => ({ context: prefix + choice, continuation })),
      gold: text,
      choices,
    };
  }
  if (typeof target !== "number")
    throw new TaskDataError(`${task.name} document ${index}: the target is not a choice index`);
  checkGold(task, target, choices, index);
  return {
    requests: choices.map((choice) => ({
      context: prefix + text,
      continuation: task.targetDelimiter + choice,
    })),
    gold: target,
    choices,
  };
}

function checkGold(task: LoglikelihoodTaskDefinition, gold: number, choices: string[], i: number) {
  if (!Number.isInteger(gold) || gold < 0 || gold >= choices.length) {
    throw new TaskDataError(
      `${task.name} document ${i}: gold index ${gold} is outside its ${choices.length} choices`,
    );
  }
}

/** Bumped when request building or scoring of these tasks changes. */
const LOGLIKELIHOOD_CODE_VERSION = "loglikelihood-1";

/** Hash of a task's data fields, the code version and the few-shot count actually used. */
export function loglikelihoodTaskHash(
  task: LoglikelihoodTaskDefinition,
  numFewshot?: number,
): Promise<string> {
  const data = Object.fromEntries(
    Object.entries(task).filter(([, value]) => typeof value !== "function"),
  );
  return sha256Hex(
    canonicalJson({
      ...data,
      code: LOGLIKELIHOOD_CODE_VERSION,
      numFewshot: numFewshot ?? task.defaultNumFewshot,
    }),
  );
}
