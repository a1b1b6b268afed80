// What the pages show, computed from API answers with no DOM: leaderboard rows (sorted, filtered),
// the non-recurrent baseline of a run, documents whose correctness changes with r, and paired
// comparisons of two runs. Pure, so the node tests check it directly.
import { computedInFp16 } from "../../evals/run/records.ts";
import { type McNemarResult, mcnemarExact } from "../../evals/stats/mcnemar.ts";
import type { Leaderboard, LeaderboardEntry, RunDetail } from "../../worker/protocol.ts";
import type { PublicCheckpoint, RunOutcomes } from "../../worker/routes/public-reads.ts";
import { checkpointFacts, percent, shortHash } from "./format.ts";

export interface RowPoint {
  recurrences: number;
  n: number;
  accuracy: number;
  ci95: [number, number];
  meanFlops: number;
  /** lambada's perplexity (exp of minus the mean loglikelihood) and its interval, when reported. */
  perplexity?: { value: number; ci95: [number, number] };
}

/**
 * What a run's number depends on besides the checkpoint and r: runs that differ in any of these
 * (or in n) are not ranked together.
 */
export interface RunSettings {
  numFewshot: number | null;
  /** The generation cap: the run's max_gen_toks, else the task's; null when nothing is generated. */
  maxGenToks: number | null;
  /** The dataset version (id) the prompts were built from. */
  datasetId: string | null;
  canonicalData: boolean;
}

/** The facts of a task the leaderboard needs (GET /api/tasks). */
export interface TaskFacts {
  name: string;
  max_gen_toks: number;
}

export interface LeaderboardRow {
  runId: string;
  model: string;
  /** Unique among the rows: the name, plus the checkpoint hash when names repeat (plot legends). */
  label: string;
  /** flavour · P·B·C · adapter · checkpoint hash. */
  facts: string;
  checkpointId: string;
  family: string;
  source: string;
  trainRecurrence: number | null;
  recurrent: boolean;
  verified: boolean;
  /** Weight precision (fp32, fp16, q8, q4; `unknown` without the checkpoint's card). */
  dtype: string;
  /** A lossy export's agreement with fp32 per measured r; null for fp32 or when not measured. */
  fidelity: Fidelity | null;
  /** Its fp16-compute graphs' agreement (fp16 exports with `webgpu_f16` graphs), else null. */
  f16Fidelity: Fidelity | null;
  metric: string;
  points: RowPoint[];
  best: RowPoint;
  settings: RunSettings;
}

type Fidelity = NonNullable<PublicCheckpoint["fidelity"]>["per_recurrence"];

/** The fidelity measurement at r, else at the nearest measured r (the larger on a tie). */
export function agreementAt(fidelity: Fidelity | null, r: number): Fidelity[number] | null {
  if (!fidelity?.length) return null;
  const distance = (m: Fidelity[number]) => Math.abs(m.recurrences - r);
  return fidelity.reduce((best, m) =>
    distance(m) < distance(best) ||
    (distance(m) === distance(best) && m.recurrences > best.recurrences)
      ? m
      : best,
  );
}

/**
 * A run's precision in one line, so a q4 number is never read as an fp32 one: `fp32`, or for a
 * lossy export `q4 · 97.1% top-1 agree @r=4` (its agreement with fp32 nearest the given r); an fp16
 * export with fp16-compute graphs adds theirs (`· fp16 compute 91.4% @r=4`), which WebGPU runners
 * with shader-f16 compute with.
 */
export function precisionLabel(
  dtype: string,
  fidelity: Fidelity | null,
  r: number,
  f16: Fidelity | null = null,
): string {
  if (dtype === "fp32") return dtype;
  const at = agreementAt(fidelity, r);
  const label = at
    ? `${dtype} · ${percent(at.top1_agreement)} top-1 agree @r=${at.recurrences}`
    : `${dtype} · agreement with fp32 not measured`;
  const f16At = agreementAt(f16, r);
  return f16At
    ? `${label} · fp16 compute ${percent(f16At.top1_agreement)} @r=${f16At.recurrences}`
    : label;
}

/**
 * Every measured r of a lossy export: `q4 · top-1 agree with fp32 99.0% @r=1, 97.1% @r=4 …`; for an
 * fp16 export with fp16-compute graphs, theirs too, and on what they were measured (onnxruntime-node
 * flatters them: model/graphs.md), since WebGPU runners with shader-f16 compute with them.
 */
export function precisionSummary(
  dtype: string,
  fidelity: Fidelity | null,
  f16?: PublicCheckpoint["f16_fidelity"],
): string {
  if (dtype === "fp32") return dtype;
  const agreement = (measured: Fidelity | null) =>
    measured?.length
      ? `top-1 agree with fp32 ${measured
          .map(
            (m) =>
              `${percent(m.top1_agreement)} @r=${m.recurrences} (KL mean ${m.mean_kl.toPrecision(2)}, max ${m.max_kl.toPrecision(2)})`,
          )
          .join(", ")}`
      : "agreement with fp32 not measured";
  const summary = `${dtype} · ${agreement(fidelity)}`;
  if (!f16) return summary;
  const where = f16.computed_on ?? "onnxruntime-node";
  return `${summary}; fp16-compute graphs (WebGPU with shader-f16), measured on ${where}: ${agreement(f16.per_recurrence)}`;
}

/**
 * The r at which a task's documents were computed partly by fp16-compute graphs and partly in
 * fp32 (`backends` names `(webgpu_f16 graphs)` beside another): those accuracies mix precisions.
 */
export function mixedComputeRecurrences(
  aggregates: readonly { recurrences: number; backends: readonly string[] }[],
): number[] {
  return aggregates
    .filter((a) => a.backends.some(computedInFp16) && a.backends.some((b) => !computedInFp16(b)))
    .map((a) => a.recurrences);
}

/** The source model and its revision (`repo@revision`, preset or folder name); commit ids shortened. */
export function sourceLabel(checkpoint: PublicCheckpoint | undefined): string {
  if (!checkpoint) return "";
  return checkpoint.provenance.source.replace(/@([0-9a-f]{40})$/, (_, commit: string) => {
    return `@${shortHash(commit)}`;
  });
}

/**
 * The run page's facts about its checkpoint, as [name, value]: flavour, source model and revision,
 * split, adapter, training r and, apart from it, the raven config's default r (retrofits inherit
 * Huginn's 32, so it is no evidence of how the checkpoint was trained).
 */
export function checkpointDetails(checkpoint: PublicCheckpoint | undefined): [string, string][] {
  if (!checkpoint) return [["train r", "—"]];
  const { provenance, layers } = checkpoint;
  const details: [string, string][] = [
    ["flavour", provenance.flavour],
    ["source", provenance.source],
    ["layers P·B·C", `${layers.prelude}·${layers.block}·${layers.coda}`],
    ["adapter", provenance.adapter],
    ["train r", provenance.train_recurrence ? String(provenance.train_recurrence) : "—"],
  ];
  if (provenance.config_default_recurrence) {
    details.push(["config default r", String(provenance.config_default_recurrence)]);
  }
  return details;
}

/**
 * One row per published run of `task`. `details` (the runs' GET /api/runs/{id}) and `taskFacts`
 * (GET /api/tasks) give each row its settings: few-shot, token cap, dataset version.
 */
export function leaderboardRows(
  board: Leaderboard,
  checkpoints: readonly PublicCheckpoint[],
  task: string,
  details: ReadonlyMap<string, RunDetail> = new Map(),
  taskFacts: readonly TaskFacts[] = [],
): LeaderboardRow[] {
  const byId = new Map(checkpoints.map((c) => [c.id, c]));
  const entries = board.tasks.find((t) => t.task === task)?.entries ?? [];
  const rows = entries.map((entry) =>
    toRow(entry, byId.get(entry.checkpoint_id), details.get(entry.run_id), task, taskFacts),
  );
  return uniqueLabels(rows);
}

/** Loglikelihood tasks report lm-eval's acc / acc_norm; generative ones exact_match and kin. */
const LOGLIKELIHOOD_METRICS = new Set(["acc", "acc_norm", "perplexity"]);

/** A general (loglikelihood, multiple-choice) task, told by its primary metric. */
export function isGeneralMetric(metric: string): boolean {
  return LOGLIKELIHOOD_METRICS.has(metric);
}

/** A run's settings on `task` from its detail; unknown fields stay null. */
export function runSettings(
  detail: RunDetail | undefined,
  task: string,
  metric: string,
  taskFacts: readonly TaskFacts[],
): RunSettings {
  const own = detail?.tasks.find((t) => t.task === task);
  const taskCap = taskFacts.find((t) => t.name === task)?.max_gen_toks ?? null;
  const runCap = detail?.config.max_gen_toks ?? null;
  const cap = runCap !== null && taskCap !== null ? Math.min(runCap, taskCap) : (runCap ?? taskCap);
  return {
    numFewshot: own?.num_fewshot ?? detail?.config.num_fewshot ?? null,
    maxGenToks: isGeneralMetric(metric) ? null : cap,
    datasetId: own?.dataset_id ?? null,
    canonicalData: own?.canonical_data ?? true,
  };
}

/**
 * Legends key series by label: two checkpoints with one name get their hashes appended, and two
 * runs of one checkpoint their run ids, so no two rows ever share a line.
 */
export function uniqueLabels<T extends { model: string; checkpointId: string; runId: string }>(
  rows: T[],
): (T & { label: string })[] {
  const countBy = (key: (row: T) => string) => {
    const counts = new Map<string, number>();
    for (const row of rows) counts.set(key(row), (counts.get(key(row)) ?? 0) + 1);
    return (row: T) => counts.get(key(row)) ?? 0;
  };
  const byName = countBy((row) => row.model);
  const byCheckpoint = countBy((row) => row.checkpointId);
  return rows.map((row) => {
    let label = row.model;
    if (byName(row) > 1) label += ` (${shortHash(row.checkpointId)})`;
    if (byCheckpoint(row) > 1) label += ` [${row.runId.slice(-6)}]`;
    return { ...row, label };
  });
}

function toRow(
  entry: LeaderboardEntry,
  checkpoint: PublicCheckpoint | undefined,
  detail: RunDetail | undefined,
  task: string,
  taskFacts: readonly TaskFacts[],
): LeaderboardRow {
  const points = entry.by_recurrence.map((p): RowPoint => {
    const ppl = detail?.aggregates.find((a) => a.task === task && a.recurrences === p.recurrences)
      ?.metrics.perplexity;
    return {
      recurrences: p.recurrences,
      n: p.n,
      accuracy: p.accuracy,
      ci95: p.ci95,
      meanFlops: p.mean_flops,
      ...(ppl ? { perplexity: { value: ppl.accuracy, ci95: ppl.ci95 } } : {}),
    };
  });
  const best = points.find((p) => p.recurrences === entry.best.recurrences) ?? points[0];
  return {
    runId: entry.run_id,
    model: entry.checkpoint_name,
    label: entry.checkpoint_name,
    facts: checkpointFacts(entry.checkpoint_id, checkpoint),
    checkpointId: entry.checkpoint_id,
    family: checkpoint?.provenance.flavour ?? "unknown",
    source: sourceLabel(checkpoint),
    trainRecurrence: checkpoint?.train_recurrence ?? null,
    recurrent: checkpoint?.recurrent ?? true,
    verified: entry.verified,
    dtype: checkpoint?.dtype ?? "unknown",
    fidelity: checkpoint?.fidelity?.per_recurrence ?? null,
    f16Fidelity: checkpoint?.f16_fidelity?.per_recurrence ?? null,
    metric: entry.primary_metric,
    points,
    best,
    settings: runSettings(detail, task, entry.primary_metric, taskFacts),
  };
}

/** Every r any row has, ascending: the leaderboard's accuracy columns. */
export function recurrenceColumns(rows: readonly LeaderboardRow[]): number[] {
  return [...new Set(rows.flatMap((r) => r.points.map((p) => p.recurrences)))].sort(
    (a, b) => a - b,
  );
}

/**
 * A row's result at r. A checkpoint with no recurrent block computes the same thing at every r, so
 * its r = 1 result stands for any r.
 */
export function pointAt(row: LeaderboardRow, r: number): RowPoint | undefined {
  return row.points.find((p) => p.recurrences === r) ?? (row.recurrent ? undefined : row.points[0]);
}

/**
 * The leaderboard's headline r when the address names none: the largest r every shown recurrent run
 * has (non-recurrent runs fit any r); with no such r, the one most runs have (the larger on a tie).
 */
export function defaultRecurrence(rows: readonly LeaderboardRow[]): number | undefined {
  const recurrent = rows.filter((row) => row.recurrent);
  const sets = (recurrent.length ? recurrent : rows).map(
    (row) => new Set(row.points.map((p) => p.recurrences)),
  );
  if (!sets.length) return undefined;
  const all = [...new Set(sets.flatMap((set) => [...set]))].sort((a, b) => b - a);
  const shared = all.find((r) => sets.every((set) => set.has(r)));
  if (shared !== undefined) return shared;
  const runsWith = (r: number) => sets.filter((set) => set.has(r)).length;
  return all.reduce((best, r) => (runsWith(r) > runsWith(best) ? r : best));
}

/** Sort keys: `model`, `checkpoint`, `train`, `status`, `acc` (at the headline r), `flops`, `r<n>`. */
export type SortKey = string;

function sortValue(
  row: LeaderboardRow,
  key: SortKey,
  r: number | undefined,
): number | string | null {
  const headline = r === undefined ? row.best : pointAt(row, r);
  switch (key) {
    case "model":
      return row.model.toLowerCase();
    case "checkpoint":
      return row.checkpointId;
    case "family":
      return row.family;
    case "train":
      return row.trainRecurrence;
    case "status":
      return row.verified ? 0 : 1;
    case "acc":
    case "best":
      return headline?.accuracy ?? null;
    case "flops":
      return headline?.meanFlops ?? null;
    default: {
      const match = /^r(\d+)$/.exec(key);
      if (!match) return null;
      return row.points.find((p) => p.recurrences === Number(match[1]))?.accuracy ?? null;
    }
  }
}

/** Stable sort; rows without a value for the key go last in either direction. */
export function sortRows(
  rows: readonly LeaderboardRow[],
  key: SortKey,
  direction: "asc" | "desc",
  r?: number,
): LeaderboardRow[] {
  const sign = direction === "asc" ? 1 : -1;
  return rows
    .map((row, index) => ({ row, index, value: sortValue(row, key, r) }))
    .sort((a, b) => {
      if (a.value === null || b.value === null) {
        if (a.value === b.value) return a.index - b.index;
        return a.value === null ? 1 : -1;
      }
      if (a.value < b.value) return -sign;
      if (a.value > b.value) return sign;
      return a.index - b.index;
    })
    .map((x) => x.row);
}

/**
 * Runs whose numbers at r may be ranked against each other: equal n, few-shot, cap, dataset and
 * weight precision (a q4 export's accuracy is not the model's fp32 accuracy).
 */
export interface ComparableGroup {
  key: string;
  n: number | null;
  dtype: string;
  settings: RunSettings;
  rows: LeaderboardRow[];
}

/**
 * Splits rows (order kept within each group) by n at `r`, their settings and precision. The
 * largest group comes first (on a tie, the one that had the first row); rows with no result at r
 * form their own.
 */
export function comparableGroups(rows: readonly LeaderboardRow[], r: number): ComparableGroup[] {
  const groups = new Map<string, ComparableGroup>();
  for (const row of rows) {
    const n = pointAt(row, r)?.n ?? null;
    const { numFewshot, maxGenToks, datasetId } = row.settings;
    const key = JSON.stringify([n, numFewshot, maxGenToks, datasetId, row.dtype]);
    const group = groups.get(key) ?? { key, n, dtype: row.dtype, settings: row.settings, rows: [] };
    group.rows.push(row);
    groups.set(key, group);
  }
  return [...groups.values()]
    .map((group, order) => ({ group, order }))
    .sort(
      (a, b) =>
        Number(a.group.n === null) - Number(b.group.n === null) ||
        b.group.rows.length - a.group.rows.length ||
        a.order - b.order,
    )
    .map((x) => x.group);
}

export interface Baseline {
  runId: string;
  model: string;
  accuracy: number;
  meanFlops: number;
  ci95: [number, number];
}

/**
 * The non-recurrent baseline of a run on `task`: a published run, on that task, of a checkpoint
 * with no recurrent block cut from the same source (equal `source_id`). `preferRunId` (a link in
 * the address) wins when it is such a run or any published run of the task.
 */
export function findBaseline(
  checkpointId: string,
  task: string,
  board: Leaderboard,
  checkpoints: readonly PublicCheckpoint[],
  preferRunId?: string | null,
): Baseline | null {
  const entries = board.tasks.find((t) => t.task === task)?.entries ?? [];
  const asBaseline = (entry: LeaderboardEntry): Baseline => {
    const best =
      entry.by_recurrence.find((p) => p.recurrences === entry.best.recurrences) ??
      entry.by_recurrence[0];
    return {
      runId: entry.run_id,
      model: entry.checkpoint_name,
      accuracy: best.accuracy,
      meanFlops: best.mean_flops,
      ci95: best.ci95,
    };
  };
  if (preferRunId) {
    const linked = entries.find((e) => e.run_id === preferRunId);
    if (linked) return asBaseline(linked);
  }
  const own = checkpoints.find((c) => c.id === checkpointId);
  if (!own) return null;
  const flat = new Set(
    checkpoints
      .filter((c) => !c.recurrent && c.id !== checkpointId && c.source_id === own.source_id)
      .map((c) => c.id),
  );
  const candidates = entries.filter((e) => flat.has(e.checkpoint_id));
  if (!candidates.length) return null;
  return asBaseline(candidates.reduce((a, b) => (b.best.accuracy > a.best.accuracy ? b : a)));
}

type TaskOutcomes = RunOutcomes["tasks"][number];

/** Documents whose correctness differs between two of the r values that have results. */
export function changesWithR(doc: TaskOutcomes["docs"][number]): boolean {
  const seen = new Set(doc.correct.filter((c) => c !== null));
  return seen.size > 1;
}

export interface PairedDelta extends McNemarResult {
  task: string;
  recurrences: number;
  accuracyA: number;
  accuracyB: number;
}

/**
 * Paired comparison of two runs per (task, r) they share: documents paired by content hash
 * (both runs must have a result), exact McNemar on the primary metric. `delta` = B − A.
 */
export function pairedDeltas(a: RunOutcomes, b: RunOutcomes): PairedDelta[] {
  const out: PairedDelta[] = [];
  for (const taskA of a.tasks) {
    const taskB = b.tasks.find((t) => t.task === taskA.task);
    if (!taskB) continue;
    const docsB = new Map(taskB.docs.map((d) => [d.doc_hash, d]));
    for (const [ia, r] of taskA.recurrences.entries()) {
      const ib = taskB.recurrences.indexOf(r);
      if (ib < 0) continue;
      const xs: number[] = [];
      const ys: number[] = [];
      for (const docA of taskA.docs) {
        const docB = docsB.get(docA.doc_hash);
        const x = docA.correct[ia];
        const y = docB?.correct[ib];
        if (x === null || y === null || y === undefined) continue;
        xs.push(x);
        ys.push(y);
      }
      if (!xs.length) continue;
      const mean = (v: number[]) => v.reduce((s, c) => s + c, 0) / v.length;
      out.push({
        task: taskA.task,
        recurrences: r,
        accuracyA: mean(xs),
        accuracyB: mean(ys),
        ...mcnemarExact(xs, ys),
      });
    }
  }
  return out;
}

/** Tasks that check the pipeline rather than measure anything: never the leaderboard's default. */
const PIPELINE_CHECKS = new Set(["arithmetic_word_problems"]);

/** The retrofit paper's math benchmarks, in the order the leaderboard prefers them. */
const PREFERRED_TASKS = ["gsm8k_cot_sean", "gsm8k", "minerva_math", "math500"];

/**
 * The leaderboard's task when the address names none: a real benchmark, GSM8K (the paper's
 * `gsm8k_cot_sean` first) when it has runs, else the first benchmark listed, else whatever there is.
 */
export function defaultTask(tasks: readonly string[]): string | undefined {
  return (
    PREFERRED_TASKS.find((t) => tasks.includes(t)) ??
    tasks.find((t) => !PIPELINE_CHECKS.has(t)) ??
    tasks[0]
  );
}

/** One point of an accuracy-vs-FLOPs curve. */
export interface FlopsPoint {
  flops: number;
  accuracy: number;
  ci95: [number, number];
}

/**
 * A curve's accuracy at `flops`, read off by linear interpolation in log FLOPs between the two
 * measured points around it; the interval's ends are interpolated the same way (an approximation:
 * no interval is measured there). Null outside the measured range: nothing is extrapolated.
 */
export function accuracyAtFlops(curve: readonly FlopsPoint[], flops: number): FlopsPoint | null {
  if (!(flops > 0)) return null;
  const points = curve.filter((p) => p.flops > 0).sort((a, b) => a.flops - b.flops);
  const exact = points.find((p) => p.flops === flops);
  if (exact) return { ...exact, ci95: [...exact.ci95] };
  for (let i = 1; i < points.length; i++) {
    const lo = points[i - 1];
    const hi = points[i];
    if (lo.flops < flops && flops < hi.flops) {
      const t = (Math.log(flops) - Math.log(lo.flops)) / (Math.log(hi.flops) - Math.log(lo.flops));
      const mix = (a: number, b: number) => a + t * (b - a);
      return {
        flops,
        accuracy: mix(lo.accuracy, hi.accuracy),
        ci95: [mix(lo.ci95[0], hi.ci95[0]), mix(lo.ci95[1], hi.ci95[1])],
      };
    }
  }
  return null;
}

export interface FlopsMatchedRow {
  flops: number;
  /** Aligned with the curves given: each one's accuracy at these FLOPs, null outside its range. */
  values: (FlopsPoint | null)[];
}

/**
 * Curves compared at equal compute: at every FLOPs value where some curve was measured and at
 * least two curves can be read (measured or interpolated), each curve's accuracy there.
 */
export function compareAtEqualFlops(curves: readonly (readonly FlopsPoint[])[]): FlopsMatchedRow[] {
  const budgets = [...new Set(curves.flatMap((c) => c.map((p) => p.flops)))]
    .filter((f) => f > 0)
    .sort((a, b) => a - b);
  return budgets
    .map((flops) => ({ flops, values: curves.map((c) => accuracyAtFlops(c, flops)) }))
    .filter((row) => row.values.filter((v) => v !== null).length >= 2);
}

/** A run's points on the FLOPs axis. */
export function flopsCurve(points: readonly RowPoint[]): FlopsPoint[] {
  return points.map((p) => ({ flops: p.meanFlops, accuracy: p.accuracy, ci95: p.ci95 }));
}

/** One run of a checkpoint on one task, for the checkpoint's view across tasks. */
export interface TaskCurve {
  task: string;
  metric: string;
  /** A loglikelihood task of the general suite (acc / acc_norm) rather than a math one. */
  general: boolean;
  runId: string;
  /** The task, plus the run's id when the checkpoint has several published runs of it. */
  label: string;
  points: RowPoint[];
}

/** Every published run of `checkpointId`, per task, math and general apart by their metric. */
export function checkpointCurves(board: Leaderboard, checkpointId: string): TaskCurve[] {
  const curves = board.tasks.flatMap(({ task, entries }) => {
    const own = entries.filter((e) => e.checkpoint_id === checkpointId);
    return own.map((entry) => ({
      task,
      metric: entry.primary_metric,
      general: isGeneralMetric(entry.primary_metric),
      runId: entry.run_id,
      label: own.length > 1 ? `${task} [${entry.run_id.slice(-6)}]` : task,
      points: entry.by_recurrence.map((p) => ({
        recurrences: p.recurrences,
        n: p.n,
        accuracy: p.accuracy,
        ci95: p.ci95,
        meanFlops: p.mean_flops,
      })),
    }));
  });
  return curves.sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
}
