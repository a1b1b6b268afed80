// Every task evals knows, by lm-eval name.
import { EvalsError } from "../errors.ts";
import { ARITHMETIC_TASK } from "./arithmetic.ts";
import { GSM8K_TASKS } from "./gsm8k.ts";
import { MATH_TASKS } from "./math.ts";
import type { TaskDefinition } from "./types.ts";

export class UnknownTaskError extends EvalsError {}

const TASKS = new Map<string, TaskDefinition>(
  [...GSM8K_TASKS, ...MATH_TASKS, ARITHMETIC_TASK].map((task) => [task.name, task]),
);

export function listTasks(): string[] {
  return [...TASKS.keys()];
}

export function getTask(name: string): TaskDefinition {
  const task = TASKS.get(name);
  if (!task)
    throw new UnknownTaskError(`unknown task "${name}"; known tasks: ${listTasks().join(", ")}`);
  return task;
}
