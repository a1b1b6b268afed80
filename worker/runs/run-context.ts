// What leasing and scoring need to know about a run: its config, tasks and checkpoint. All of it
// is immutable once the run exists, so an isolate keeps what it read.

import { checkpointIdentity } from "../../evals/run/result-key.ts";
import { findTask } from "../../evals/tasks/catalog.ts";
import type { LoglikelihoodTaskDefinition } from "../../evals/tasks/loglikelihood/types.ts";
import type { TaskDefinition } from "../../evals/tasks/types.ts";
import type { Env } from "../env.ts";
import { notFound } from "../http-error.ts";
import type { Checkpoint, RunConfig } from "../protocol.ts";
import { loadCheckpoint } from "../storage/checkpoint-store.ts";

interface RunTaskCommon {
  taskHash: string;
  datasetFiles: Record<string, string>;
  numFewshot: number;
}

/** A generation task of a run: runners post completions, scored with the task's scorer. */
export interface GenerateRunTask extends RunTaskCommon {
  kind: "generate";
  task: TaskDefinition;
  maxNewTokens: number;
}

/** A loglikelihood task of a run: runners post log-probabilities, scored with lm-eval's rules. */
export interface LoglikelihoodRunTask extends RunTaskCommon {
  kind: "loglikelihood";
  task: LoglikelihoodTaskDefinition;
}

export type RunTask = GenerateRunTask | LoglikelihoodRunTask;

export interface RunContext {
  id: string;
  config: RunConfig;
  checkpoint: Checkpoint;
  /** `checkpointIdentity` of the run's checkpoint (the result key's checkpoint part). */
  identity: string;
  tasks: Map<string, RunTask>;
}

const cache = new Map<string, RunContext>();

export async function loadRunContext(env: Env, runId: string): Promise<RunContext> {
  const hit = cache.get(runId);
  if (hit) return hit;
  const [run, tasks] = await env.DB.batch([
    env.DB.prepare("SELECT id, checkpoint_id, config FROM runs WHERE id = ?").bind(runId),
    env.DB.prepare(
      "SELECT task, task_hash, dataset_files, num_fewshot FROM run_tasks WHERE run_id = ?",
    ).bind(runId),
  ]);
  const row = run.results[0] as { id: string; checkpoint_id: string; config: string } | undefined;
  if (!row) throw notFound("run", runId);
  const config: RunConfig = JSON.parse(row.config);
  const checkpoint = await loadCheckpoint(env, row.checkpoint_id);
  const context: RunContext = {
    id: row.id,
    config,
    checkpoint,
    identity: await checkpointIdentity(checkpoint.manifest),
    tasks: new Map(
      (
        tasks.results as {
          task: string;
          task_hash: string;
          dataset_files: string;
          num_fewshot: number;
        }[]
      ).map((t): [string, RunTask] => {
        const found = findTask(t.task);
        const common = {
          taskHash: t.task_hash,
          datasetFiles: JSON.parse(t.dataset_files),
          numFewshot: t.num_fewshot,
        };
        return [
          t.task,
          found.kind === "generate"
            ? {
                kind: "generate",
                ...common,
                task: found.task,
                maxNewTokens: maxNewTokens(found.task, config),
              }
            : { kind: "loglikelihood", ...common, task: found.task },
        ];
      }),
    ),
  };
  if (cache.size > 200) cache.clear();
  cache.set(runId, context);
  return context;
}

/** The task's max_gen_toks, capped by the run's `max_gen_toks` when given. */
export function maxNewTokens(task: TaskDefinition, config: RunConfig): number {
  return Math.min(task.maxGenToks, config.max_gen_toks ?? task.maxGenToks);
}
