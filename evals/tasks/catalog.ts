// Every task by lm-eval name, of either kind: generation tasks (scored from completions) and
// loglikelihood tasks (scored from per-request log-probabilities). The API and the CLI look names
// up here, so a name means one task everywhere.
import { getLoglikelihoodTask, TASK_GROUPS } from "./loglikelihood/registry.ts";
import { GENERAL_TASKS } from "./loglikelihood/tasks.ts";
import type { LoglikelihoodTaskDefinition } from "./loglikelihood/types.ts";
import { getTask, listTasks, UnknownTaskError } from "./registry.ts";
import type { TaskDefinition } from "./types.ts";

export type CatalogTask =
  | { kind: "generate"; task: TaskDefinition }
  | { kind: "loglikelihood"; task: LoglikelihoodTaskDefinition };

/** Generation tasks, then every loglikelihood task (MMLU's 57 subjects each by name). */
export function catalogTaskNames(): string[] {
  return [...listTasks(), ...GENERAL_TASKS.map((task) => task.name)];
}

/** The task named `name`; UnknownTaskError lists the tasks and groups there are. */
export function findTask(name: string): CatalogTask {
  const general = getLoglikelihoodTask(name);
  if (general) return { kind: "loglikelihood", task: general };
  if (listTasks().includes(name)) return { kind: "generate", task: getTask(name) };
  const headline = GENERAL_TASKS.filter((task) => !task.group).map((task) => task.name);
  throw new UnknownTaskError(
    `unknown task "${name}"; known tasks: ${[...listTasks(), ...headline].join(", ")}, and the groups ${Object.keys(TASK_GROUPS).join(", ")}`,
  );
}

/** The metric a task is ranked and checked by (lm-eval's headline number for it). */
export function primaryMetricOf(name: string): string {
  if (name in TASK_GROUPS) return "acc";
  return findTask(name).task.primaryMetric;
}
