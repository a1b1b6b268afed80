// A task as lm-evaluation-harness defines one: dataset, prompt templates, few-shot sampling,
// generation settings and scoring. Everything here is data plus pure functions (workerd-safe).
import type { ScoreResult } from "../scoring/types.ts";

/** A raw dataset row. */
export type TaskDoc = Record<string, unknown>;

export type FewshotSampler =
  /** lm-eval's default sampler: Python random.Random(seed).sample per document, in document order. */
  | { kind: "random"; split: "train"; seed: number }
  /** The first n rows of a fixed exemplar file (lm-eval's `first_n` with `fewshot_config.samples`). */
  | {
      kind: "first_n";
      file: string;
      /** Exemplar-file field → template field, where the file names them differently. */
      fields?: Record<string, string>;
      /** Local data folder holding the file when it is not the task's own (math500 → math). */
      dataset?: TaskDefinition["dataset"]["name"];
    };

export interface TaskDefinition {
  name: string;
  /** Bumped whenever anything that affects prompts or scores changes. */
  version: number;
  dataset: { name: "gsm8k" | "math" | "math500" | "arithmetic"; split: "test" };
  fewshot: FewshotSampler | null;
  /** `{field}` placeholders filled from the document (lm-eval's doc_to_text). */
  docToText: string;
  description: string;
  targetDelimiter: string;
  fewshotDelimiter: string;
  defaultNumFewshot: number;
  until: string[];
  maxGenToks: number;
  /** The dataset field holding the raw reference (GSM8K `answer`, MATH `solution`). */
  goldField: string;
  /** The metric reported as the task's headline number. */
  primaryMetric: string;
  /** Renders a few-shot exemplar's target (lm-eval's doc_to_target). */
  docToTarget(doc: TaskDoc): string;
  score(completion: string, gold: string): ScoreResult;
  /** Version of the scoring code, folded into the task hash. */
  scorerVersion: string;
}

/** One prompt to generate from, built server-side or locally with the same code. */
export interface TaskRequest {
  docIndex: number;
  docId: string;
  docHash: string;
  prompt: string;
  gold: string;
}
