// What a stored run's reads say about each of its tasks, by name, for either kind: the token cap
// its generations ran under and the metric it is ranked by. A task no longer in the catalog (an
// old run) has neither.
import { findTask, primaryMetricOf } from "../../evals/tasks/catalog.ts";
import type { RunConfig } from "../protocol.ts";
import { maxNewTokens } from "./run-context.ts";

/** The run's max_new_tokens for a generation task; null for loglikelihood tasks. */
export function generationCap(task: string, config: RunConfig): number | null {
  try {
    const found = findTask(task);
    return found.kind === "generate" ? maxNewTokens(found.task, config) : null;
  } catch {
    return null;
  }
}

/** lm-eval's headline metric of the task (acc_norm for ARC, exact_match,… for GSM8K); "" if unknown. */
export function primaryMetric(task: string): string {
  try {
    return primaryMetricOf(task);
  } catch {
    return "";
  }
}
