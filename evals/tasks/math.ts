// MATH tasks as lm-evaluation-harness defines them: minerva_math (lm_eval/tasks/minerva_math/
// minerva_math_*.yaml + utils.py), hendrycks_math (hendrycks_math/hendrycks_math_*.yaml) and
// math500 (= lm-eval's minerva_math500: the Minerva prompt and scorer on HuggingFaceH4/MATH-500).
//
// lm-eval runs MATH as a group of seven subject subtasks (algebra, counting_and_prob, geometry,
// intermediate_algebra, num_theory, prealgebra, precalc) averaged with weight_by_size, which is the
// plain accuracy over all 5,000 problems. We run them as one task over the subjects concatenated
// in that group order; within a subject, problems come in file-name order (test/algebra/1004.json
// before 101.json), the order of ../shared/datasets/math/test.jsonl. No MATH task samples its
// exemplars at random, so this order changes no prompt; it only fixes the document ids.
import { goldAnswer, scoreHendrycksMath, scoreMinervaMath } from "../scoring/math/index.ts";
import type { TaskDefinition, TaskDoc } from "./types.ts";

const SCORER_VERSION = "math-2";

/**
 * The four Minerva exemplars (lm-eval's utils.list_fewshot_samples). The shared file names the
 * problem `question` and the full solution `answer`; lm-eval's samples call them problem/solution.
 */
const MINERVA_EXEMPLARS = {
  fields: { question: "problem", answer: "solution" },
  file: "fewshot_minerva_math_4shot.jsonl",
};

/** Fields every MATH task shares: lm-eval's TaskConfig defaults and the YAMLs' generation_kwargs. */
const MATH_DEFAULTS: Omit<
  TaskDefinition,
  "name" | "dataset" | "fewshot" | "docToText" | "defaultNumFewshot" | "docToTarget" | "score"
> = {
  version: 1,
  description: "",
  targetDelimiter: " ",
  fewshotDelimiter: "\n\n",
  until: ["Problem:"],
  // No max_gen_toks in the YAMLs, so lm-eval's default for generate_until applies.
  maxGenToks: 256,
  goldField: "solution",
  primaryMetric: "exact_match",
  scorerVersion: SCORER_VERSION,
};

/**
 * minerva's doc_to_target is `{{answer if few_shot is undefined else solution}}`: exemplars (which
 * carry `few_shot`) show the whole solution, ending in "Final Answer: The final answer is $X$. …".
 */
function minervaTarget(doc: TaskDoc): string {
  return String(doc.solution ?? "");
}

function minervaTask(name: string, dataset: TaskDefinition["dataset"]): TaskDefinition {
  return {
    ...MATH_DEFAULTS,
    name,
    dataset,
    fewshot: {
      kind: "first_n",
      file: MINERVA_EXEMPLARS.file,
      fields: MINERVA_EXEMPLARS.fields,
      // Locally the file sits beside the MATH test set; a worker dataset registers its own copy.
      ...(dataset.name === "math" ? {} : { dataset: "math" }),
    },
    // utils.doc_to_text: "Problem:" + "\n" + problem + "\n\n" + "Solution:"
    docToText: "Problem:\n{problem}\n\nSolution:",
    // The YAML's num_fewshot; the retrofit paper ran it 1-shot (--num-fewshot 1).
    defaultNumFewshot: 4,
    docToTarget: minervaTarget,
    score: scoreMinervaMath,
  };
}

export const MATH_TASKS: TaskDefinition[] = [
  minervaTask("minerva_math", { name: "math", split: "test" }),
  {
    ...MATH_DEFAULTS,
    name: "hendrycks_math",
    dataset: { name: "math", split: "test" },
    // Zero-shot: the YAML has no num_fewshot. lm-eval would draw --num-fewshot exemplars from the
    // MATH train split, which evals does not load, so a few-shot count above 0 is refused.
    fewshot: null,
    docToText: "Problem: {problem}\nAnswer:",
    defaultNumFewshot: 0,
    // doc_to_target "{{answer}}", which process_docs sets to the solution's last boxed answer.
    docToTarget: (doc: TaskDoc) => goldAnswer(String(doc.solution ?? "")),
    score: scoreHendrycksMath,
  },
  minervaTask("math500", { name: "math500", split: "test" }),
];
