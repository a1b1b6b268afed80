// GSM8K tasks as lm-evaluation-harness defines them (lm_eval/tasks/gsm8k/*.yaml), plus the
// retrofit paper's gsm8k_cot_sean. Exemplar texts come from data files, not from code.
import { type Gsm8kStyle, gsm8kTarget, scoreGsm8k } from "../scoring/gsm8k.ts";
import type { TaskDefinition, TaskDoc } from "./types.ts";

const SCORER_VERSION = "gsm8k-1";
const COT_UNTIL = ["Q:", "</s>", "<|im_end|>"];

function gsm8kTask(
  name: string,
  style: Gsm8kStyle,
  fields: Pick<TaskDefinition, "docToText" | "fewshot" | "defaultNumFewshot" | "until"> &
    Partial<Pick<TaskDefinition, "targetDelimiter">>,
): TaskDefinition {
  return {
    name,
    version: 1,
    dataset: { name: "gsm8k", split: "test" },
    description: "",
    targetDelimiter: " ",
    fewshotDelimiter: "\n\n",
    maxGenToks: 256,
    goldField: "answer",
    primaryMetric: "exact_match,flexible-extract",
    scorerVersion: SCORER_VERSION,
    docToTarget: (doc: TaskDoc) => gsm8kTarget(style, String(doc.answer ?? "")),
    score: (completion, gold) => scoreGsm8k(style, completion, gold),
    ...fields,
  };
}

export const GSM8K_TASKS: TaskDefinition[] = [
  gsm8kTask("gsm8k", "gsm8k", {
    docToText: "Question: {question}\nAnswer:",
    fewshot: { kind: "random", split: "train", seed: 1234 },
    defaultNumFewshot: 5,
    until: ["Question:", "</s>", "<|im_end|>"],
  }),
  gsm8kTask("gsm8k_cot", "gsm8k_cot", {
    docToText: "Q: {question}\nA:",
    fewshot: { kind: "first_n", file: "fewshot_gsm8k_cot_8shot.jsonl" },
    defaultNumFewshot: 8,
    until: COT_UNTIL,
  }),
  // The retrofit paper's task: gsm8k_cot with " Let's think step by step." after "A:", 1-shot.
  gsm8kTask("gsm8k_cot_sean", "gsm8k_cot", {
    docToText: "Q: {question}\nA: Let's think step by step.",
    fewshot: { kind: "first_n", file: "fewshot_gsm8k_cot_8shot.jsonl" },
    defaultNumFewshot: 1,
    until: COT_UNTIL,
  }),
  // A chat-style task in lm-eval; rendered here without a chat template, as lm-eval does when
  // --apply_chat_template is not given.
  gsm8kTask("gsm8k_cot_llama", "gsm8k_cot_llama", {
    docToText:
      'Given the following problem, reason and give a final answer to the problem.\nProblem: {question}\nYour response should end with "The final answer is [answer]" where [answer] is the response to the problem.\n',
    fewshot: { kind: "first_n", file: "fewshot_gsm8k_cot_llama_8shot.jsonl" },
    defaultNumFewshot: 8,
    targetDelimiter: "",
    until: ["<|eot_id|>", "<|start_header_id|>user<|end_header_id|>", "Q:", "</s>", "<|im_end|>"],
  }),
];
