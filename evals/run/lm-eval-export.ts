// A local run (evals local) in lm-evaluation-harness's results JSON layout: metric keys
// "<metric>,none" and "<metric>_stderr,none", versions, n-shot, groups with their subtasks.
// lm-eval has no recurrence axis: with several r, each (task, r) becomes `task@r=<r>`.
import { getLoglikelihoodTask, TASK_GROUPS } from "../tasks/loglikelihood/registry.ts";
import { getTask } from "../tasks/registry.ts";
import type { Aggregate, RunResults } from "./records.ts";

/** lm-eval's metric key: generation metrics already carry their filter ("exact_match,strict-match"). */
export function metricKey(metric: string): [string, string] {
  const [base, filter = "none"] = metric.split(",");
  return [`${base},${filter}`, `${base}_stderr,${filter}`];
}

export function taskInfo(name: string, numFewshot: number | null) {
  const general = getLoglikelihoodTask(name);
  if (general) {
    return {
      version: general.version,
      numFewshot: numFewshot ?? general.defaultNumFewshot,
      config: {
        task: name,
        output_type: general.outputType,
        target_delimiter: general.targetDelimiter,
        fewshot_delimiter: general.fewshotDelimiter,
        num_fewshot: numFewshot ?? general.defaultNumFewshot,
        metric_list: general.metrics.map((metric) => ({
          metric,
          aggregation: metric === "perplexity" ? "perplexity" : "mean",
          higher_is_better: metric !== "perplexity",
        })),
        metadata: { version: general.version },
      },
    };
  }
  if (name in TASK_GROUPS) return { version: 2, numFewshot: numFewshot ?? 0, config: null };
  const task = getTask(name);
  return {
    version: task.version,
    numFewshot: numFewshot ?? task.defaultNumFewshot,
    config: {
      task: name,
      output_type: "generate_until",
      num_fewshot: numFewshot ?? task.defaultNumFewshot,
      generation_kwargs: { until: task.until, max_gen_toks: task.maxGenToks, do_sample: false },
      metadata: { version: task.version },
    },
  };
}

export function lmEvalExport(
  run: Pick<RunResults, "config" | "aggregates" | "created_at">,
  onlyR?: number,
) {
  const chosen = run.aggregates.filter((a) => onlyR === undefined || a.recurrences === onlyR);
  const single = new Set(chosen.map((a) => a.recurrences)).size <= 1;
  const nameOf = (task: string, r: number) => (single ? task : `${task}@r=${r}`);
  const results: Record<string, Record<string, string | number>> = {};
  const groups: Record<string, Record<string, string | number>> = {};
  const groupSubtasks: Record<string, string[]> = {};
  const configs: Record<string, unknown> = {};
  const versions: Record<string, number> = {};
  const nShot: Record<string, number> = {};
  const higherIsBetter: Record<string, Record<string, boolean>> = {};
  const nSamples: Record<string, { original: number; effective: number }> = {};
  for (const a of chosen) {
    const key = nameOf(a.task, a.recurrences);
    const info = taskInfo(a.task, run.config.num_fewshot);
    const entry: Record<string, string | number> = { alias: key };
    for (const [metric, value] of Object.entries(a.metrics)) {
      const [valueKey, stderrKey] = metricKey(metric);
      entry[valueKey] = value.accuracy;
      entry[stderrKey] = value.stderr;
      higherIsBetter[key] = {
        ...higherIsBetter[key],
        [metric.split(",")[0]]: metric !== "perplexity",
      };
    }
    versions[key] = info.version;
    nShot[key] = info.numFewshot;
    if (a.task in TASK_GROUPS) {
      groups[key] = entry;
      results[key] = entry;
      groupSubtasks[key] = groupMembers(a, chosen).map((m) => nameOf(m, a.recurrences));
      continue;
    }
    results[key] = entry;
    configs[key] = {
      ...info.config,
      metadata: { ...(info.config?.metadata ?? {}), recurrences: a.recurrences },
    };
    nSamples[key] = { original: a.n, effective: a.n };
    if (!Object.values(TASK_GROUPS).some((members) => members.includes(a.task)))
      groupSubtasks[key] = [];
  }
  const { config } = run;
  return {
    results,
    groups,
    group_subtasks: groupSubtasks,
    configs,
    versions,
    "n-shot": nShot,
    higher_is_better: higherIsBetter,
    "n-samples": nSamples,
    config: {
      model: "evals-recurrent",
      model_args: `checkpoint=${config.checkpoint_name},kv=${config.kv},state_init=${config.state_init},seed=${config.seed},dtype=${config.dtype}`,
      batch_size: null,
      limit: config.limit,
      random_seed: config.seed,
      fewshot_seed: 1234,
    },
    date: Date.parse(run.created_at) / 1000,
  };
}

/** A group's direct members at this r: mmlu lists its four categories, a category its subjects. */
export function groupMembers(group: Aggregate, all: readonly Aggregate[]): string[] {
  const present = new Set(
    all.filter((a) => a.recurrences === group.recurrences).map((a) => a.task),
  );
  const own = TASK_GROUPS[group.task];
  const categories = Object.keys(TASK_GROUPS).filter(
    (name) => name !== group.task && TASK_GROUPS[name].every((t) => own.includes(t)),
  );
  const direct = categories.filter((name) => present.has(name));
  if (direct.length > 0) return direct;
  return own.filter((t) => present.has(t));
}
