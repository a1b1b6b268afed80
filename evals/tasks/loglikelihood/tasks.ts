// The retrofit paper's general suite as lm-eval v0.4.11 defines it (task YAMLs under
// lm_eval/tasks/{lambada,hellaswag,arc,openbookqa,piqa,mmlu,siqa,winogrande,asdiv}); each
// template is written here as the string it renders to.
import { TaskDataError } from "../render.ts";
import type { TaskDoc } from "../types.ts";
import { processHellaswagDoc } from "./hellaswag.ts";
import { MMLU_SUBJECTS } from "./mmlu-subjects.ts";
import type { LoglikelihoodTaskDefinition } from "./types.ts";

function text(doc: TaskDoc, field: string): string {
  const value = doc[field];
  if (typeof value !== "string")
    throw new TaskDataError(
      `document has no text field "${field}" (fields: ${Object.keys(doc).join(", ")})`,
    );
  return value;
}

function labelledChoices(doc: TaskDoc): { text: string[]; label: string[] } {
  const choices = doc.choices as { text?: unknown; label?: unknown } | undefined;
  if (!choices || !Array.isArray(choices.text) || !Array.isArray(choices.label))
    throw new TaskDataError(`document has no choices.text / choices.label lists`);
  return { text: choices.text.map(String), label: choices.label.map(String) };
}

/** Python's list.index: the position, or an error naming the missing value. */
function indexOf(list: string[], value: string, what: string): number {
  const at = list.indexOf(value);
  if (at < 0) throw new TaskDataError(`${what} "${value}" is not among ${JSON.stringify(list)}`);
  return at;
}

/** lm-eval's TaskConfig defaults, the paper's BOS, and the training split as the few-shot pool. */
const DEFAULTS = {
  version: 1,
  description: "",
  targetDelimiter: " ",
  fewshotDelimiter: "\n\n",
  defaultNumFewshot: 0,
  addBos: true,
  fewshot: { kind: "random", split: "train", seed: 1234 },
} as const;

/** arc_easy.yaml (arc_challenge.yaml includes it, changing only task and dataset_name). */
function arcTask(name: "arc_easy" | "arc_challenge"): LoglikelihoodTaskDefinition {
  return {
    ...DEFAULTS,
    name,
    outputType: "multiple_choice",
    dataset: { name, split: "test" },
    // "Question: {{question}}\nAnswer:"
    docToText: (doc) => `Question: ${text(doc, "question")}\nAnswer:`,
    // "{{choices.text}}"
    docToChoice: (doc) => labelledChoices(doc).text,
    // "{{choices.label.index(answerKey)}}"
    docToTarget: (doc) => indexOf(labelledChoices(doc).label, text(doc, "answerKey"), "answerKey"),
    metrics: ["acc", "acc_norm"],
    primaryMetric: "acc_norm",
  };
}

function mmluTask(subject: string): LoglikelihoodTaskDefinition {
  return {
    ...DEFAULTS,
    name: `mmlu_${subject}`,
    outputType: "multiple_choice",
    dataset: { name: "mmlu", split: "test", subset: { field: "subject", value: subject } },
    fewshot: { kind: "first_n", split: "dev" },
    description: `The following are multiple choice questions (with answers) about ${subject.replaceAll("_", " ")}.\n\n`,
    // "{{question.strip()}}\nA. {{choices[0]}}\nB. {{choices[1]}}\nC. {{choices[2]}}\nD. {{choices[3]}}\nAnswer:"
    docToText: (doc) => {
      const choices = doc.choices;
      if (!Array.isArray(choices) || choices.length !== 4)
        throw new TaskDataError(`mmlu_${subject} document has no list of 4 choices`);
      const [a, b, c, d] = choices.map(String);
      return `${text(doc, "question").trim()}\nA. ${a}\nB. ${b}\nC. ${c}\nD. ${d}\nAnswer:`;
    },
    docToChoice: () => ["A", "B", "C", "D"],
    docToTarget: (doc) => Number(doc.answer),
    metrics: ["acc"],
    primaryMetric: "acc",
    group: `mmlu_${MMLU_SUBJECTS[subject]}`,
  };
}

export const MMLU_TASKS: LoglikelihoodTaskDefinition[] = Object.keys(MMLU_SUBJECTS).map(mmluTask);

export const GENERAL_TASKS: LoglikelihoodTaskDefinition[] = [
  {
    ...DEFAULTS,
    name: "lambada_openai",
    outputType: "loglikelihood",
    dataset: { name: "lambada_openai", split: "test" },
    // No training split: lm-eval takes few-shot rows from the evaluated split.
    fewshot: { kind: "random", split: "test", seed: 1234 },
    // "{{text.split(' ')[:-1]|join(' ')}}"
    docToText: (doc) => text(doc, "text").split(" ").slice(0, -1).join(" "),
    // "{{' '+text.split(' ')[-1]}}"
    docToTarget: (doc) => ` ${text(doc, "text").split(" ").at(-1)}`,
    metrics: ["perplexity", "acc"],
    primaryMetric: "acc",
  },
  {
    ...DEFAULTS,
    name: "hellaswag",
    outputType: "multiple_choice",
    dataset: { name: "hellaswag", split: "validation" },
    processDoc: processHellaswagDoc,
    // doc_to_text "{{query}}", doc_to_choice "choices", doc_to_target "{{label}}" (→ int).
    docToText: (doc) => text(doc, "query"),
    docToChoice: (doc) => doc.choices as string[],
    docToTarget: (doc) => doc.gold as number,
    metrics: ["acc", "acc_norm"],
    primaryMetric: "acc_norm",
  },
  arcTask("arc_easy"),
  arcTask("arc_challenge"),
  {
    ...DEFAULTS,
    name: "openbookqa",
    outputType: "multiple_choice",
    dataset: { name: "openbookqa", split: "test" },
    // doc_to_text: question_stem (a column name: the raw value)
    docToText: (doc) => text(doc, "question_stem"),
    docToChoice: (doc) => labelledChoices(doc).text,
    // "{{choices.label.index(answerKey.lstrip())}}"
    docToTarget: (doc) =>
      indexOf(labelledChoices(doc).label, text(doc, "answerKey").trimStart(), "answerKey"),
    metrics: ["acc", "acc_norm"],
    primaryMetric: "acc_norm",
  },
  {
    ...DEFAULTS,
    name: "piqa",
    outputType: "multiple_choice",
    dataset: { name: "piqa", split: "validation" },
    // "Question: {{goal}}\nAnswer:"
    docToText: (doc) => `Question: ${text(doc, "goal")}\nAnswer:`,
    // "{{[sol1, sol2]}}"
    docToChoice: (doc) => [text(doc, "sol1"), text(doc, "sol2")],
    // doc_to_target: label (a column: the int)
    docToTarget: (doc) => Number(doc.label),
    metrics: ["acc", "acc_norm"],
    primaryMetric: "acc_norm",
  },
  ...MMLU_TASKS,
  {
    ...DEFAULTS,
    name: "social_iqa",
    version: 0,
    outputType: "multiple_choice",
    dataset: { name: "social_iqa", split: "validation" },
    // "Q: {{context}} {{question}}\nA:"
    docToText: (doc) => `Q: ${text(doc, "context")} ${text(doc, "question")}\nA:`,
    // "{{[answerA, answerB, answerC]}}"
    docToChoice: (doc) => [text(doc, "answerA"), text(doc, "answerB"), text(doc, "answerC")],
    // "{{ (label|int) - 1 }}"
    docToTarget: (doc) => Number.parseInt(String(doc.label), 10) - 1,
    metrics: ["acc"],
    primaryMetric: "acc",
  },
  {
    ...DEFAULTS,
    name: "winogrande",
    outputType: "multiple_choice",
    dataset: { name: "winogrande", split: "validation" },
    // preprocess_winogrande.doc_to_text: {"1": 0, "2": 1}[answer] — an int, so multiple inputs.
    docToText: (doc) => indexOf(["1", "2"], text(doc, "answer"), "answer"),
    // doc_to_choice: sentence up to the "_", followed by each option.
    docToChoice: (doc) => {
      const sentence = text(doc, "sentence");
      const at = blankOf(sentence);
      return [
        sentence.slice(0, at) + text(doc, "option1"),
        sentence.slice(0, at) + text(doc, "option2"),
      ];
    },
    // doc_to_target: the text after the "_", stripped.
    docToTarget: (doc) => {
      const sentence = text(doc, "sentence");
      return sentence.slice(blankOf(sentence) + 1).trim();
    },
    metrics: ["acc"],
    primaryMetric: "acc",
  },
  {
    ...DEFAULTS,
    name: "asdiv",
    outputType: "loglikelihood",
    dataset: { name: "asdiv", split: "validation" },
    fewshot: { kind: "random", split: "validation", seed: 1234 },
    // "{{body}}\nQuestion:{{question}}\nAnswer:"
    docToText: (doc) => `${text(doc, "body")}\nQuestion:${text(doc, "question")}\nAnswer:`,
    // "{{answer.split(' (')[0]}}"
    docToTarget: (doc) => text(doc, "answer").split(" (")[0],
    metrics: ["acc"],
    primaryMetric: "acc",
  },
];

function blankOf(sentence: string): number {
  const at = sentence.indexOf("_");
  if (at < 0)
    throw new TaskDataError(`winogrande sentence has no "_": ${JSON.stringify(sentence)}`);
  return at;
}
