// Per (task, r) aggregates of sample records: accuracy, lm-eval's stderr and a 95% Wilson interval
// for every metric, mean FLOPs and tokens; lambada's perplexity as exp(−mean loglikelihood); and
// lm-eval's groups (mmlu and its four categories) as size-weighted means of their subtasks.
import { CI95_METHOD, summarizeAccuracy } from "../stats/accuracy.ts";
import { getLoglikelihoodTask, TASK_GROUPS } from "../tasks/loglikelihood/registry.ts";
import { getTask } from "../tasks/registry.ts";
import { type Aggregate, computedBy, type SampleRecord } from "./records.ts";

export function aggregateSamples(samples: readonly SampleRecord[]): Aggregate[] {
  const groups = new Map<string, SampleRecord[]>();
  for (const sample of samples) {
    const key = `${sample.task}\u0000${sample.recurrences}`;
    groups.set(key, [...(groups.get(key) ?? []), sample]);
  }
  const out: Aggregate[] = [];
  for (const group of groups.values()) {
    const { task, recurrences } = group[0];
    const metricNames = [...new Set(group.flatMap((s) => Object.keys(s.metrics)))].sort();
    const metrics: Aggregate["metrics"] = {};
    for (const name of metricNames) {
      const values = group.map((s) => s.metrics[name] ?? 0);
      metrics[name] = name === "perplexity" ? perplexitySummary(values) : accuracyOf(values);
    }
    const mean = (f: (s: SampleRecord) => number) =>
      group.reduce((a, s) => a + f(s), 0) / group.length;
    out.push({
      task,
      recurrences,
      n: group.length,
      primary_metric: primaryMetricOf(task, metricNames),
      metrics,
      interval: CI95_METHOD,
      mean_flops: mean((s) => s.flops),
      mean_generated_tokens: mean((s) => s.generated_tokens),
      mean_prompt_tokens: mean((s) => s.prompt_tokens),
      truncated: group.filter((s) => s.prompt_truncated).length,
      backends: [...new Set(group.map(computedBy))].sort(),
    });
  }
  out.push(...groupAggregates(out));
  return out.sort((a, b) =>
    a.task === b.task ? a.recurrences - b.recurrences : a.task < b.task ? -1 : 1,
  );
}

function accuracyOf(values: number[]): Aggregate["metrics"][string] {
  const summary = summarizeAccuracy(values);
  return { accuracy: summary.accuracy, stderr: summary.stderr, ci95: summary.ci95 };
}

/**
 * exp(−mean ll). lm-eval bootstraps its stderr; here the delta method (perplexity × the stderr
 * of the mean loglikelihood), with the interval exp(−(mean ± 1.96·se)).
 */
function perplexitySummary(loglikelihoods: number[]): Aggregate["metrics"][string] {
  const { accuracy: mean, stderr } = summarizeAccuracy(loglikelihoods);
  const value = Math.exp(-mean);
  return {
    accuracy: value,
    stderr: value * stderr,
    ci95: [Math.exp(-(mean + 1.96 * stderr)), Math.exp(-(mean - 1.96 * stderr))],
  };
}

/**
 * lm-eval's groups with `weight_by_size: True`: the size-weighted mean of the subtasks and the
 * pooled stderr sqrt(Σ (n_i − 1)·se_i²·n_i / (Σ n_i − k) / Σ n_i). A group is reported at an r
 * where at least one of its subtasks ran; nested groups (mmlu over its categories) pool the
 * subjects directly, which gives the same mean and stderr.
 */
export function groupAggregates(aggregates: readonly Aggregate[]): Aggregate[] {
  const out: Aggregate[] = [];
  for (const [group, members] of Object.entries(TASK_GROUPS)) {
    const byR = new Map<number, Aggregate[]>();
    for (const a of aggregates) {
      if (members.includes(a.task)) byR.set(a.recurrences, [...(byR.get(a.recurrences) ?? []), a]);
    }
    for (const [recurrences, parts] of byR) {
      const n = parts.reduce((sum, a) => sum + a.n, 0);
      const weighted = (f: (a: Aggregate) => number) =>
        parts.reduce((sum, a) => sum + f(a) * a.n, 0) / n;
      const metrics: Aggregate["metrics"] = {};
      for (const metric of ["acc"]) {
        if (!parts.every((a) => a.metrics[metric])) continue;
        const accuracy = weighted((a) => a.metrics[metric].accuracy);
        const pooled =
          parts.reduce((sum, a) => sum + (a.n - 1) * a.metrics[metric].stderr ** 2 * a.n, 0) /
          (n - parts.length);
        const stderr = n > parts.length ? Math.sqrt(pooled / n) : 0;
        metrics[metric] = {
          accuracy,
          stderr,
          ci95: [accuracy - 1.96 * stderr, accuracy + 1.96 * stderr],
        };
      }
      out.push({
        task: group,
        recurrences,
        n,
        primary_metric: "acc",
        metrics,
        mean_flops: weighted((a) => a.mean_flops),
        mean_generated_tokens: weighted((a) => a.mean_generated_tokens),
        mean_prompt_tokens: weighted((a) => a.mean_prompt_tokens),
        truncated: parts.reduce((sum, a) => sum + (a.truncated ?? 0), 0),
        backends: [...new Set(parts.flatMap((a) => a.backends))].sort(),
      });
    }
  }
  return out;
}

function primaryMetricOf(task: string, metrics: string[]): string {
  const general = getLoglikelihoodTask(task);
  if (general) return general.primaryMetric;
  try {
    return getTask(task).primaryMetric;
  } catch {
    return metrics[0] ?? "";
  }
}
