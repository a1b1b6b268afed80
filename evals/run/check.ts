// The CI regression gate: per (task, r), an exact McNemar test on the documents both runs scored.
// A (task, r) fails only when the drop is both significant and larger than the allowed points.

import { EvalsError } from "../errors.ts";
import { mcnemarExact } from "../stats/mcnemar.ts";
import { getLoglikelihoodTask } from "../tasks/loglikelihood/registry.ts";
import { getTask, listTasks } from "../tasks/registry.ts";
import {
  type PrecisionCostRow,
  precisionCost,
  precisionCostLine,
  referenceOf,
} from "./precision-cost.ts";
import type { RunResults, SampleRecord } from "./records.ts";

/** Two runs at different precisions (fp32, fp16, q8, i8, q4), compared without being asked to. */
export class PrecisionMismatchError extends EvalsError {}

export interface CheckOptions {
  maxDropPoints: number;
  alpha: number;
  tasks?: string[];
  recurrences?: number[];
  /** Compare runs whose paired documents ran at different precisions (dtype). */
  allowPrecisionMismatch?: boolean;
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
  /**
   * When the two runs ran at different precisions (allowed with allowPrecisionMismatch): the
   * same paired documents read as the accuracy cost of the lossier one.
   */
  precisionCost?: PrecisionCostRow;
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
  if (!options.allowPrecisionMismatch) refuseMixedPrecision([...groups.values()].flat());
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
    const [candidateSample, baselineSample] = pairs[0];
    const precisions = referenceOf(baselineSample.dtype, candidateSample.dtype);
    const cost = precisions
      ? precisionCost(
          first.task,
          first.recurrences,
          precisions,
          pairs.map(([c, b]) => {
            const [ref, lossy] = precisions.reference === b.dtype ? [b, c] : [c, b];
            return [ref.metrics[metric] ?? 0, lossy.metrics[metric] ?? 0] as const;
          }),
        )
      : undefined;
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
      ...(cost ? { precisionCost: cost } : {}),
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
  const costs = rows.flatMap((r) => (r.precisionCost ? [precisionCostLine(r.precisionCost)] : []));
  if (costs.length) lines.push("", ...costs);
  return lines.join("\n");
}

/**
 * A drop between an fp32 run and a quantized one is partly quantization error, not the change
 * under test, so a gate must not mix them silently. The same holds for one fp16 export computed
 * in fp32 (the default graphs) and in fp16 (`webgpu_f16` graphs, on shader-f16 WebGPU runners).
 */
function refuseMixedPrecision(pairs: readonly [SampleRecord, SampleRecord][]): void {
  const mixed = pairs.find(([c, b]) => computedPrecision(c) !== computedPrecision(b));
  if (!mixed) return;
  const [candidate, baseline] = mixed;
  throw new PrecisionMismatchError(
    `the candidate ran at ${computedPrecision(candidate)} and the baseline at ${computedPrecision(baseline)} ` +
      `(${candidate.task} r=${candidate.recurrences}, ${candidate.doc_id}); compare runs of the same ` +
      "precision, or pass --allow-precision-mismatch to measure the precision's cost itself",
  );
}

/** A sample's weights and arithmetic: its dtype, and whether fp16-compute graphs computed it. */
function computedPrecision(sample: SampleRecord): string {
  return sample.graph_variant === "webgpu_f16" ? `${sample.dtype} with fp16 compute` : sample.dtype;
}
