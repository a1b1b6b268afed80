// Per (task, r) aggregates of sample records: accuracy, lm-eval's stderr and a 95% Wilson interval
// for every metric, mean FLOPs and tokens.
import { CI95_METHOD, summarizeAccuracy } from "../stats/accuracy.ts";
import { getTask } from "../tasks/registry.ts";
import type { Aggregate, SampleRecord } from "./records.ts";

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
      const summary = summarizeAccuracy(group.map((s) => s.metrics[name] ?? 0));
      metrics[name] = { accuracy: summary.accuracy, stderr: summary.stderr, ci95: summary.ci95 };
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
      backends: [...new Set(group.map((s) => s.backend))].sort(),
    });
  }
  return out.sort((a, b) =>
    a.task === b.task ? a.recurrences - b.recurrences : a.task < b.task ? -1 : 1,
  );
}

function primaryMetricOf(task: string, metrics: string[]): string {
  try {
    return getTask(task).primaryMetric;
  } catch {
    return metrics[0] ?? "";
  }
}
