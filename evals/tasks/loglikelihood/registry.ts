// The loglikelihood tasks by lm-eval name, and lm-eval's groups over them (mmlu and its four
// categories), which expand to their subtasks on the command line.
import { MMLU_GROUPS } from "./mmlu-subjects.ts";
import { GENERAL_TASKS, MMLU_TASKS } from "./tasks.ts";
import type { LoglikelihoodTaskDefinition } from "./types.ts";

const TASKS = new Map(GENERAL_TASKS.map((task) => [task.name, task]));

export const TASK_GROUPS: Record<string, string[]> = {
  mmlu: MMLU_TASKS.map((task) => task.name),
  ...Object.fromEntries(
    MMLU_GROUPS.map((group) => [
      `mmlu_${group}`,
      MMLU_TASKS.filter((task) => task.group === `mmlu_${group}`).map((task) => task.name),
    ]),
  ),
};

export function isLoglikelihoodTask(name: string): boolean {
  return TASKS.has(name) || name in TASK_GROUPS;
}

export function getLoglikelihoodTask(name: string): LoglikelihoodTaskDefinition | undefined {
  return TASKS.get(name);
}

/** Task names with groups replaced by their subtasks, each once, in order. */
export function expandTaskGroups(names: readonly string[]): string[] {
  return [...new Set(names.flatMap((name) => TASK_GROUPS[name] ?? [name]))];
}

/** The loglikelihood tasks listed for --help and errors (groups, not the 57 subjects). */
export function listLoglikelihoodTasks(): string[] {
  return [...GENERAL_TASKS.filter((t) => !t.group).map((t) => t.name), ...Object.keys(TASK_GROUPS)];
}
