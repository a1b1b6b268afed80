// Prompt and generation lengths of a GSM8K task's real documents, in a given tokenizer: the
// prompts `evals` builds (few-shot included, BOS per the tokenizer), and as each generation's
// length a model that writes the document's reference solution in the exemplars' form and then
// the task's first stop string, capped at the task's max_gen_toks.
import { loadTaskData } from "../evals/data/datasets.ts";
import { getTask } from "../evals/tasks/registry.ts";
import { buildRequests } from "../evals/tasks/render.ts";
import type { PromptTokenizer } from "../runner/engine/tokenizer.ts";
import type { DocLengths } from "./scale-math.ts";

/**
 * The reference solution as the task's exemplars write it: the plain `gsm8k` task shows answers
 * as the data has them; the chain-of-thought tasks show the reasoning without the calculator
 * annotations (`<<48/2=24>>`), ending "The answer is N." instead of "#### N".
 */
export function writtenSolution(taskName: string, answer: string): string {
  if (taskName === "gsm8k") return answer;
  const [reasoning, final = ""] = answer.split("####");
  const steps = reasoning
    .replace(/<<[^>]*>>/g, "")
    .trim()
    .replace(/\n/g, " ");
  return `${steps} The answer is ${final.trim()}.`;
}

export async function taskLengths(
  taskName: string,
  tokenizer: Pick<PromptTokenizer, "encodePrompt" | "encodeText">,
  limit?: number,
): Promise<{
  docs: DocLengths[];
  maxGenToks: number;
  stop: string;
  numFewshot: number;
  /** Characters per prompt token over all prompts (how coarse the tokenizer is). */
  charsPerToken: number;
}> {
  const task = getTask(taskName);
  const data = await loadTaskData(task);
  const requests = await buildRequests(task, data.docs, data.fewshotPool, { limit });
  const stop = task.until[0] ?? "";
  const docs = requests.map((request) => {
    const solution = writtenSolution(taskName, request.gold);
    const written = `${task.targetDelimiter}${solution}${task.fewshotDelimiter}${stop}`;
    return {
      prompt: tokenizer.encodePrompt(request.prompt).length,
      generated: Math.min(task.maxGenToks, tokenizer.encodeText(written, false).length),
    };
  });
  const chars = requests.reduce((n, r) => n + r.prompt.length, 0);
  const tokens = docs.reduce((n, d) => n + d.prompt, 0);
  return {
    docs,
    maxGenToks: task.maxGenToks,
    stop,
    numFewshot: task.defaultNumFewshot,
    charsPerToken: chars / tokens,
  };
}
