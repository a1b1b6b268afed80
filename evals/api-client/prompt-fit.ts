// Before a run is created: do the task's prompts fit the model's window? A prompt longer than
// (max_position_embeddings − max_new_tokens) is cut from the left by every runner (lm-eval's rule,
// runner/engine/prompt-window.ts), which changes what is measured, so `evals submit` says so up
// front. Counted exactly: the checkpoint's own tokenizer over the prompts the run will build.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Manifest } from "../../model/manifest.ts";
import { PromptTokenizer } from "../../runner/engine/tokenizer.ts";
import { loadTaskData } from "../data/datasets.ts";
import { getLoglikelihoodTask } from "../tasks/loglikelihood/registry.ts";
import { getTask } from "../tasks/registry.ts";
import { buildRequests } from "../tasks/render.ts";

export interface PromptFit {
  task: string;
  prompts: number;
  /** Prompts with more tokens than `room`: the runner keeps only their last `room` tokens. */
  over: number;
  longest: number;
  /** Prompt tokens that fit: the window less the tokens generation may add. */
  room: number;
  window: number;
  maxNewTokens: number;
}

/** How many of `prompts` exceed the room the window leaves for them. */
export function promptFit(
  task: string,
  prompts: readonly string[],
  encode: (prompt: string) => number[],
  window: number,
  maxNewTokens: number,
): PromptFit {
  const room = window - maxNewTokens;
  let over = 0;
  let longest = 0;
  for (const prompt of prompts) {
    const tokens = encode(prompt).length;
    longest = Math.max(longest, tokens);
    if (tokens > room) over++;
  }
  return { task, prompts: prompts.length, over, longest, room, window, maxNewTokens };
}

export function describeFit(fit: PromptFit): string {
  return (
    `warning: ${fit.task}: ${fit.over} of ${fit.prompts} prompts exceed the model's context ` +
    `(longest ${fit.longest} tokens; window ${fit.window} − max_gen_toks ${fit.maxNewTokens} = ` +
    `${fit.room} prompt tokens, counted with the checkpoint's tokenizer); runners keep only the ` +
    `last ${fit.room} tokens of each, so few-shot exemplars or the question itself are cut. ` +
    `Use --num-fewshot 0, a lower --max-gen-toks, or a model with a longer context.`
  );
}

export interface FitOptions {
  tasks: readonly string[];
  limit?: number | null;
  numFewshot?: number | null;
  maxGenToks?: number | null;
  dataDir?: string;
}

/**
 * One line per generation task whose prompts do not all fit; a note instead of a count where the
 * prompts cannot be built here (no local data). Loglikelihood tasks have their own windowing.
 */
export async function checkPromptFit(
  checkpointDir: string,
  manifest: Manifest,
  options: FitOptions,
): Promise<string[]> {
  const read = (name: string) => JSON.parse(readFileSync(join(checkpointDir, name), "utf8"));
  const tokenizer = new PromptTokenizer(
    read("tokenizer.json"),
    read("tokenizer_config.json"),
    manifest.tokens,
  );
  const lines: string[] = [];
  for (const name of options.tasks) {
    if (getLoglikelihoodTask(name)) continue;
    let task: ReturnType<typeof getTask>;
    try {
      task = getTask(name);
    } catch {
      continue;
    }
    const maxNewTokens = Math.min(task.maxGenToks, options.maxGenToks ?? task.maxGenToks);
    let prompts: string[];
    try {
      const data = await loadTaskData(task, { dataDir: options.dataDir });
      const requests = await buildRequests(task, data.docs, data.fewshotPool, {
        numFewshot: options.numFewshot ?? undefined,
        limit: options.limit ?? undefined,
      });
      prompts = requests.map((r) => r.prompt);
    } catch (error) {
      lines.push(
        `note: ${name}: prompt lengths not checked (${error instanceof Error ? error.message : String(error)})`,
      );
      continue;
    }
    const fit = promptFit(
      name,
      prompts,
      (p) => tokenizer.encodePrompt(p),
      manifest.architecture.max_position_embeddings,
      maxNewTokens,
    );
    if (fit.over > 0) lines.push(describeFit(fit));
  }
  return lines;
}
