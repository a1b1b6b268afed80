// A loglikelihood-scored task as lm-evaluation-harness defines one (output_type multiple_choice or
// loglikelihood): dataset split, doc_to_text / doc_to_choice / doc_to_target, delimiters, few-shot
// sampler, metrics. Data plus pure functions, so the worker can build and score the same requests.
import type { TaskDoc } from "../types.ts";

export type GeneralDatasetName =
  | "lambada_openai"
  | "hellaswag"
  | "arc_easy"
  | "arc_challenge"
  | "openbookqa"
  | "piqa"
  | "mmlu"
  | "social_iqa"
  | "winogrande"
  | "asdiv";

export type LoglikelihoodMetric = "acc" | "acc_norm" | "perplexity";

export type GeneralFewshot =
  /** lm-eval's default sampler: random.Random(seed).sample per document, in document order. */
  | { kind: "random"; split: string; seed: number }
  /** The first n rows of the split (MMLU's `first_n` over `dev`). */
  | { kind: "first_n"; split: string };

export interface LoglikelihoodTaskDefinition {
  /** lm-eval's task name. */
  name: string;
  /** lm-eval's metadata.version. */
  version: number;
  outputType: "multiple_choice" | "loglikelihood";
  dataset: {
    name: GeneralDatasetName;
    split: string;
    /** Only the rows of one subset (an MMLU subject), in file order. */
    subset?: { field: string; value: string };
  };
  fewshot: GeneralFewshot;
  description: string;
  targetDelimiter: string;
  fewshotDelimiter: string;
  defaultNumFewshot: number;
  /** Prepend BOS to every request (the retrofit paper ran lm-eval with add_bos_token=True). */
  addBos: boolean;
  /** lm-eval's process_docs, applied to the evaluated and the few-shot rows. */
  processDoc?: (doc: TaskDoc) => TaskDoc;
  /** doc_to_text: the context; an int means "multiple inputs" (the gold index, winogrande). */
  docToText: (doc: TaskDoc) => string | number;
  /** doc_to_choice: continuations, or contexts in multiple-input mode. */
  docToChoice?: (doc: TaskDoc) => string[];
  /** doc_to_target: the gold index (multiple choice) or the target text. */
  docToTarget: (doc: TaskDoc) => number | string;
  metrics: LoglikelihoodMetric[];
  primaryMetric: LoglikelihoodMetric;
  /** lm-eval group this task is aggregated into (MMLU's four categories). */
  group?: string;
}

/** The loglikelihood requests of one document and what scoring them needs. */
export interface DocumentRequests {
  docIndex: number;
  docId: string;
  docHash: string;
  requests: { context: string; continuation: string }[];
  /** Index of the gold request (multiple choice); 0 for loglikelihood tasks. */
  gold: number;
  /** The choice texts without the delimiter (acc_norm divides by their length); [] otherwise. */
  choices: string[];
}
