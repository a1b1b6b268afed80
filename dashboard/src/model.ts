// What the pages show, computed from API answers with no DOM: leaderboard rows (sorted, filtered),
// the non-recurrent baseline of a run, documents whose correctness changes with r, and paired
// comparisons of two runs. Pure, so the node tests check it directly.
import { type McNemarResult, mcnemarExact } from "../../evals/stats/mcnemar.ts";
import type { Leaderboard, LeaderboardEntry } from "../../worker/protocol.ts";
import type { PublicCheckpoint, RunOutcomes } from "../../worker/routes/public-reads.ts";
import { checkpointFacts, shortHash } from "./format.ts";

export interface RowPoint {
  recurrences: number;
  n: number;
  accuracy: number;
  ci95: [number, number];
  meanFlops: number;
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
  metric: string;
  points: RowPoint[];
  best: RowPoint;
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

/** One row per published run of `task`. */
export function leaderboardRows(
  board: Leaderboard,
  checkpoints: readonly PublicCheckpoint[],
  task: string,
): LeaderboardRow[] {
  const byId = new Map(checkpoints.map((c) => [c.id, c]));
  const entries = board.tasks.find((t) => t.task === task)?.entries ?? [];
  const rows = entries.map((entry) => toRow(entry, byId.get(entry.checkpoint_id)));
  return uniqueLabels(rows);
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

function toRow(entry: LeaderboardEntry, checkpoint: PublicCheckpoint | undefined): LeaderboardRow {
  const points = entry.by_recurrence.map((p) => ({
    recurrences: p.recurrences,
    n: p.n,
    accuracy: p.accuracy,
    ci95: p.ci95,
    meanFlops: p.mean_flops,
  }));
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
    metric: entry.primary_metric,
    points,
    best,
  };
}

/** Every r any row has, ascending: the leaderboard's accuracy columns. */
export function recurrenceColumns(rows: readonly LeaderboardRow[]): number[] {
  return [...new Set(rows.flatMap((r) => r.points.map((p) => p.recurrences)))].sort(
    (a, b) => a - b,
  );
}

/** Sort keys: `model`, `checkpoint`, `train`, `status`, `best`, `best_r`, `flops`, `r<n>`. */
export type SortKey = string;

function sortValue(row: LeaderboardRow, key: SortKey): number | string | null {
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
    case "best":
      return row.best.accuracy;
    case "best_r":
      return row.best.recurrences;
    case "flops":
      return row.best.meanFlops;
    default: {
      const r = /^r(\d+)$/.exec(key);
      if (!r) return null;
      return row.points.find((p) => p.recurrences === Number(r[1]))?.accuracy ?? null;
    }
  }
}

/** Stable sort; rows without a value for the key go last in either direction. */
export function sortRows(
  rows: readonly LeaderboardRow[],
  key: SortKey,
  direction: "asc" | "desc",
): LeaderboardRow[] {
  const sign = direction === "asc" ? 1 : -1;
  return rows
    .map((row, index) => ({ row, index, value: sortValue(row, key) }))
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

export interface Baseline {
  runId: string;
  model: string;
  accuracy: number;
  meanFlops: number;
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

/**
 * The leaderboard's task when the address names none: a real benchmark, the retrofit paper's
 * `gsm8k_cot_sean` when it has runs, else the first benchmark listed, else whatever there is.
 */
export function defaultTask(tasks: readonly string[]): string | undefined {
  if (tasks.includes("gsm8k_cot_sean")) return "gsm8k_cot_sean";
  return tasks.find((t) => !PIPELINE_CHECKS.has(t)) ?? tasks[0];
}
