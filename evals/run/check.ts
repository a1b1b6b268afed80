// The CI regression gate: per (task, r), an exact McNemar test on the documents both runs scored.
// A (task, r) fails only when the drop is both significant and larger than the allowed points.
import { mcnemarExact } from "../stats/mcnemar.ts";
import { getLoglikelihoodTask } from "../tasks/loglikelihood/registry.ts";
import { getTask, listTasks } from "../tasks/registry.ts";
import type { RunResults, SampleRecord } from "./records.ts";

export interface CheckOptions {
  maxDropPoints: number;
  alpha: number;
  tasks?: string[];
  recurrences?: number[];
}

export interface CheckRow {
  task: string;
  recurrences: number;
  metric: string;
  paired: number;
  baseline: number;
  candidate: number;
  deltaPoints: number;
  pValue: number;
  regression: boolean;
}

export function compareRuns(
  candidate: Pick<RunResults, "samples">,
  baseline: Pick<RunResults, "samples">,
  options: CheckOptions,
): CheckRow[] {
  const index = (samples: SampleRecord[]) => {
    const map = new Map<string, SampleRecord>();
    for (const s of samples) map.set(`${s.task}\u0000${s.recurrences}\u0000${s.doc_hash}`, s);
    return map;
  };
  const base = index(baseline.samples);
  const groups = new Map<string, [SampleRecord, SampleRecord][]>();
  for (const sample of candidate.samples) {
    if (options.tasks && !options.tasks.includes(sample.task)) continue;
    if (options.recurrences && !options.recurrences.includes(sample.recurrences)) continue;
    const other = base.get(`${sample.task}\u0000${sample.recurrences}\u0000${sample.doc_hash}`);
    if (!other) continue;
    const key = `${sample.task}\u0000${sample.recurrences}`;
    groups.set(key, [...(groups.get(key) ?? []), [sample, other]]);
  }
  const rows: CheckRow[] = [];
  for (const pairs of groups.values()) {
    const [first] = pairs[0];
    // The task's headline metric, as the runs' aggregates report it.
    const metric =
      getLoglikelihoodTask(first.task)?.primaryMetric ??
      (listTasks().includes(first.task)
        ? getTask(first.task).primaryMetric
        : Object.keys(first.metrics)[0]);
    const runScores = pairs.map(([c]) => c.metrics[metric] ?? 0);
    const baseScores = pairs.map(([, b]) => b.metrics[metric] ?? 0);
    const test = mcnemarExact(baseScores, runScores);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const deltaPoints = 100 * test.delta;
    rows.push({
      task: first.task,
      recurrences: first.recurrences,
      metric,
      paired: pairs.length,
      baseline: mean(baseScores),
      candidate: mean(runScores),
      deltaPoints,
      pValue: test.pValue,
      regression: deltaPoints < -options.maxDropPoints && test.pValue < options.alpha,
    });
  }
  return rows.sort((a, b) =>
    a.task === b.task ? a.recurrences - b.recurrences : a.task < b.task ? -1 : 1,
  );
}

export function formatCheckMarkdown(rows: readonly CheckRow[], options: CheckOptions): string {
  const lines = [
    `| task | r | metric | paired docs | baseline | candidate | Δ points | McNemar p | verdict |`,
    `|---|---|---|---|---|---|---|---|---|`,
    ...rows.map(
      (r) =>
        `| ${r.task} | ${r.recurrences} | ${r.metric} | ${r.paired} | ${(100 * r.baseline).toFixed(1)}% | ${(100 * r.candidate).toFixed(1)}% | ${r.deltaPoints >= 0 ? "+" : ""}${r.deltaPoints.toFixed(1)} | ${r.pValue.toPrecision(3)} | ${r.regression ? "**regression**" : "ok"} |`,
    ),
    "",
    `A (task, r) fails when the drop exceeds ${options.maxDropPoints} points and p < ${options.alpha}.`,
  ];
  return lines.join("\n");
}
