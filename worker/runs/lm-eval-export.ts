// A run in lm-evaluation-harness's results JSON layout, so existing tooling reads our numbers.
// lm-eval has no recurrence axis: with several r, each (task, r) becomes `task@r=<r>`.
import { groupMembers, metricKey, taskInfo } from "../../evals/run/lm-eval-export.ts";
import type { Aggregate } from "../../evals/run/records.ts";
import { getLoglikelihoodTask, TASK_GROUPS } from "../../evals/tasks/loglikelihood/registry.ts";
import type { RunConfig } from "../protocol.ts";

export interface ExportTask {
  task: string;
  version: number;
  numFewshot: number;
  until: string[];
  maxGenToks: number;
  docCount: number;
  /** File name → sha256 of the dataset files the prompts were built from (the run pins them). */
  datasetFiles?: Record<string, string>;
}

export function lmEvalResults(
  run: { id: string; checkpointName: string; config: RunConfig; createdAt: string },
  tasks: readonly ExportTask[],
  aggregates: readonly Aggregate[],
  onlyRecurrences?: number,
) {
  const chosen = aggregates.filter(
    (a) => onlyRecurrences === undefined || a.recurrences === onlyRecurrences,
  );
  const single = new Set(chosen.map((a) => a.recurrences)).size <= 1;
  const name = (a: Aggregate) => (single ? a.task : `${a.task}@r=${a.recurrences}`);
  const info = new Map(tasks.map((t) => [t.task, t]));
  const results: Record<string, Record<string, string | number>> = {};
  const configs: Record<string, unknown> = {};
  const versions: Record<string, number> = {};
  const nShot: Record<string, number> = {};
  const nSamples: Record<string, { original: number; effective: number }> = {};
  const higherIsBetter: Record<string, Record<string, boolean>> = {};
  const groups: Record<string, Record<string, string | number>> = {};
  const groupSubtasks: Record<string, string[]> = {};
  for (const aggregate of chosen) {
    const key = name(aggregate);
    if (aggregate.task in TASK_GROUPS || getLoglikelihoodTask(aggregate.task)) {
      // lm-eval's loglikelihood metrics carry the filter "none": "acc,none", "acc_stderr,none".
      const task = info.get(aggregate.task);
      const lm = taskInfo(aggregate.task, run.config.num_fewshot);
      const entry: Record<string, string | number> = { alias: key };
      for (const [metric, value] of Object.entries(aggregate.metrics)) {
        const [valueKey, stderrKey] = metricKey(metric);
        entry[valueKey] = value.accuracy;
        entry[stderrKey] = value.stderr;
        higherIsBetter[key] = { ...higherIsBetter[key], [metric]: metric !== "perplexity" };
      }
      results[key] = entry;
      versions[key] = task?.version ?? lm.version;
      nShot[key] = task?.numFewshot ?? lm.numFewshot;
      if (aggregate.task in TASK_GROUPS) {
        groups[key] = entry;
        groupSubtasks[key] = groupMembers(aggregate, chosen).map((m) =>
          single ? m : `${m}@r=${aggregate.recurrences}`,
        );
        continue;
      }
      nSamples[key] = { original: task?.docCount ?? aggregate.n, effective: aggregate.n };
      configs[key] = {
        ...lm.config,
        metadata: {
          ...(lm.config?.metadata ?? {}),
          recurrences: aggregate.recurrences,
          ...(task?.datasetFiles ? { dataset_files: task.datasetFiles } : {}),
        },
      };
      continue;
    }
    const task = info.get(aggregate.task);
    const entry: Record<string, string | number> = { alias: key };
    for (const [metric, value] of Object.entries(aggregate.metrics)) {
      const [base, filter] = metric.split(",");
      entry[metric] = value.accuracy;
      entry[filter ? `${base}_stderr,${filter}` : `${base}_stderr`] = value.stderr;
      higherIsBetter[key] = { ...higherIsBetter[key], [base]: true };
    }
    results[key] = entry;
    versions[key] = task?.version ?? 0;
    nShot[key] = task?.numFewshot ?? 0;
    nSamples[key] = { original: task?.docCount ?? aggregate.n, effective: aggregate.n };
    configs[key] = {
      task: aggregate.task,
      num_fewshot: task?.numFewshot ?? 0,
      output_type: "generate_until",
      generation_kwargs: {
        until: task?.until ?? [],
        max_gen_toks: task?.maxGenToks,
        do_sample: false,
      },
      metadata: {
        version: task?.version ?? 0,
        recurrences: aggregate.recurrences,
        ...(task?.datasetFiles ? { dataset_files: task.datasetFiles } : {}),
      },
    };
  }
  const { config } = run;
  const inGroup = new Set(Object.values(groupSubtasks).flat());
  for (const key of Object.keys(results)) {
    if (!(key in groupSubtasks) && !inGroup.has(key)) groupSubtasks[key] = [];
  }
  return {
    results,
    ...(Object.keys(groups).length > 0 ? { groups } : {}),
    group_subtasks: groupSubtasks,
    configs,
    versions,
    "n-shot": nShot,
    higher_is_better: higherIsBetter,
    "n-samples": nSamples,
    config: {
      model: "evals-recurrent",
      model_args: `checkpoint=${run.checkpointName},kv=${config.kv},state_init=${config.state_init},seed=${config.seed},dtype=${config.dtype}`,
      batch_size: null,
      limit: config.limit,
      gen_kwargs: config.max_gen_toks ? `max_gen_toks=${config.max_gen_toks}` : null,
      random_seed: config.seed,
    },
    run_id: run.id,
    date: Date.parse(run.createdAt) / 1000,
  };
}
