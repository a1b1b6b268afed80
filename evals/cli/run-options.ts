// The evaluation options `evals submit` and `evals local` share, declared and parsed in one place
// so the two verbs cannot drift apart. lm-eval's underscore spellings are accepted as aliases.
import { type Command, Option } from "commander";
import { EvalsError } from "../errors.ts";
import {
  expandTaskGroups,
  getLoglikelihoodTask,
  listLoglikelihoodTasks,
} from "../tasks/loglikelihood/registry.ts";
import { getTask } from "../tasks/registry.ts";
import { parseInteger, parseNameList, parseRecurrenceList } from "./parse.ts";

export interface RunOptions {
  tasks: string[];
  recurrences: number[];
  limit: number | null;
  numFewshot: number | null;
  kv: "full" | "shared";
  stateInit: "zeros" | "normal";
  seed: number;
  maxGenToks: number | null;
}

/** The default task of both verbs: a real benchmark (the retrofit paper's GSM8K prompt). */
export const DEFAULT_TASK = "gsm8k_cot_sean";

/**
 * Adds --tasks, --recurrences, --limit, --num-fewshot, --kv, --state-init, --seed and
 * --max-gen-toks. `recurrences` is the only default that differs: submit requires the list,
 * local runs r = 1 unless told.
 */
export function runOptions(command: Command, recurrences: { default?: string }): Command {
  const r = new Option("--recurrences <list>", "recurrence counts, e.g. 1,4,16,32");
  if (recurrences.default === undefined) r.makeOptionMandatory();
  else r.default(recurrences.default);
  return command
    .addOption(r)
    .option(
      "--tasks <list>",
      "tasks, e.g. gsm8k_cot_sean,minerva_math (see `evals tasks`)",
      DEFAULT_TASK,
    )
    .option("--limit <n>", "first n documents of each task")
    .option("--num-fewshot <k>", "override the tasks' few-shot count")
    .addOption(new Option("--num_fewshot <k>").hideHelp())
    .addOption(
      new Option("--kv <strategy>", "KV cache strategy")
        .choices(["full", "shared"])
        .default("full"),
    )
    .addOption(
      new Option("--state-init <init>", "initial state")
        .choices(["zeros", "normal"])
        .default("zeros"),
    )
    .option("--seed <n>", "seed of the initial state", "0")
    .option(
      "--max-gen-toks <n>",
      "cap on generated tokens (below the task's own; lm-eval's max_gen_toks)",
    )
    .addOption(new Option("--max_gen_toks <n>").hideHelp());
}

/**
 * Parses and checks what `runOptions` declared; every error names its flag. `loglikelihood`
 * also accepts the loglikelihood tasks and their groups (e.g. `mmlu`), which `evals local` and
 * `evals submit` run; a verb that only generates leaves it off.
 */
export function parseRunOptions(
  options: Record<string, string | undefined>,
  allow: { loglikelihood?: boolean } = {},
): RunOptions {
  const tasks = parseNameList(options.tasks ?? DEFAULT_TASK, "--tasks");
  for (const task of allow.loglikelihood ? expandTaskGroups(tasks) : tasks) {
    if (allow.loglikelihood && getLoglikelihoodTask(task)) continue;
    try {
      getTask(task);
    } catch (error) {
      if (!allow.loglikelihood) throw error;
      throw new EvalsError(
        `${(error as Error).message}, and the loglikelihood tasks ${listLoglikelihoodTasks().join(", ")}`,
      );
    }
  }
  const optional = (flag: string, text: string | undefined, min: number, max?: number) =>
    text === undefined ? null : parseInteger(text, flag, min, max);
  return {
    tasks,
    recurrences: parseRecurrenceList(options.recurrences ?? "1"),
    limit: optional("--limit", options.limit, 1),
    numFewshot: optional("--num-fewshot", options.numFewshot ?? options.num_fewshot, 0, 64),
    kv: options.kv as RunOptions["kv"],
    stateInit: options.stateInit as RunOptions["stateInit"],
    seed: parseInteger(options.seed ?? "0", "--seed", 0, 2 ** 31),
    maxGenToks: optional("--max-gen-toks", options.maxGenToks ?? options.max_gen_toks, 1, 8192),
  };
}

/**
 * A non-recurrent checkpoint (no block) computes the same thing at every r: evaluating it at
 * several r repeats one evaluation and plots a flat "curve". Such checkpoints run r = 1 once; the
 * returned note says so (null when nothing changed).
 */
export function recurrencesForCheckpoint(
  manifest: { name: string; layers: { block: readonly number[] } },
  recurrences: number[],
): { recurrences: number[]; note: string | null } {
  if (manifest.layers.block.length > 0 || (recurrences.length === 1 && recurrences[0] === 1)) {
    return { recurrences, note: null };
  }
  return {
    recurrences: [1],
    note:
      `${manifest.name} is non-recurrent (no block): r does not change its output, so it is ` +
      `evaluated once at r = 1 instead of r = ${recurrences.join(",")}`,
  };
}
