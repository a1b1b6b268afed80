// Reading runs: summaries, the full detail (progress, aggregates, failures) and who may see them.
import { aggregateSamples } from "../../evals/run/aggregate.ts";
import { EVALS_VERSION } from "../../evals/run/lm-eval-export.ts";
import type { Aggregate, SampleRecord } from "../../evals/run/records.ts";
import { findTask } from "../../evals/tasks/catalog.ts";
import type { Principal } from "../auth/principal.ts";
import type { Env } from "../env.ts";
import { forbidden, notFound } from "../http-error.ts";
import type { RunDetail, RunSummary, ShardState } from "../protocol.ts";

export interface RunRow {
  id: string;
  checkpoint_id: string;
  checkpoint_name: string;
  config: string;
  state: RunSummary["state"];
  published: number;
  verified: number;
  published_aggregates: string | null;
  created_by: string;
  created_at: string;
  finished_at: string | null;
}

export const RUN_COLUMNS =
  "r.id, r.checkpoint_id, c.name AS checkpoint_name, r.config, r.state, r.published, r.verified, r.published_aggregates, r.created_by, r.created_at, r.finished_at";

export function toSummary(row: RunRow): RunSummary {
  return {
    id: row.id,
    checkpoint_id: row.checkpoint_id,
    checkpoint_name: row.checkpoint_name,
    state: row.state,
    published: row.published === 1,
    verified: row.verified === 1,
    config: JSON.parse(row.config),
    created_at: row.created_at,
    finished_at: row.finished_at,
  };
}

/** Admins, and the submit token that created the run (DESIGN §8: runs belong to their token). */
export function ownsRun(principal: Principal | null, row: Pick<RunRow, "created_by">): boolean {
  if (!principal) return false;
  if (principal.role === "admin") return true;
  return principal.role === "submit" && principal.tokenId === row.created_by;
}

/** A run the caller may change: its owner's or an admin's (published runs are read-only to others). */
export async function ownedRun(env: Env, principal: Principal, runId: string): Promise<RunRow> {
  const row = await readableRun(env, principal, runId);
  if (!ownsRun(principal, row)) {
    throw forbidden(`run ${runId} belongs to another submitter; only it or an admin may change it`);
  }
  return row;
}

/** A run the caller may read: published runs are public, others only to their owner and admins. */
export async function readableRun(
  env: Env,
  principal: Principal | null,
  runId: string,
): Promise<RunRow> {
  const row = await env.DB.prepare(
    `SELECT ${RUN_COLUMNS} FROM runs r JOIN checkpoints c ON c.id = r.checkpoint_id WHERE r.id = ?`,
  )
    .bind(runId)
    .first<RunRow>();
  const mayRead = row && (row.published === 1 || ownsRun(principal, row));
  if (!mayRead) throw notFound("run", runId);
  return row;
}

export async function runRecords(env: Env, runId: string): Promise<SampleRecord[]> {
  const { results } = await env.DB.prepare("SELECT record FROM samples WHERE run_id = ?")
    .bind(runId)
    .all<{ record: string }>();
  return results.map((row) => JSON.parse(row.record));
}

export async function runAggregates(env: Env, row: RunRow): Promise<Aggregate[]> {
  if (row.published_aggregates) return JSON.parse(row.published_aggregates);
  return aggregateSamples(await runRecords(env, row.id));
}

/** A run_tasks row as read: the pinned files still JSON, the canonical check as 0/1. */
type RunTaskRow = Omit<
  RunDetail["tasks"][number],
  "dataset_files" | "canonical_data" | "kind" | "metrics" | "primary_metric"
> & {
  dataset_files: string;
  canonical_data: number;
};

/** A task's kind and lm-eval metric names (headline first), for pages that show a run. */
export function taskMetrics(
  name: string,
): Pick<RunDetail["tasks"][number], "kind" | "metrics" | "primary_metric"> {
  const found = findTask(name);
  const primary = found.task.primaryMetric;
  const others = found.kind === "loglikelihood" ? found.task.metrics : [];
  return {
    kind: found.kind,
    metrics: [primary, ...others.filter((m) => m !== primary)],
    primary_metric: primary,
  };
}

export async function runDetail(env: Env, row: RunRow): Promise<RunDetail> {
  const [tasks, shards, samples, failures, sources, missing, made] = await env.DB.batch([
    env.DB.prepare(
      `SELECT t.task, t.task_hash, t.dataset_id, t.dataset_files, t.num_fewshot, t.doc_count,
         EXISTS (SELECT 1 FROM canonical_datasets c WHERE c.dataset_id = t.dataset_id) AS canonical_data
       FROM run_tasks t WHERE t.run_id = ? ORDER BY t.rowid`,
    ).bind(row.id),
    env.DB.prepare(
      "SELECT task, recurrences, state, count(*) AS shards, sum(doc_end - doc_start) AS docs FROM shards WHERE run_id = ? GROUP BY task, recurrences, state",
    ).bind(row.id),
    env.DB.prepare(
      "SELECT task, recurrences, count(*) AS done, sum(reused) AS reused FROM samples WHERE run_id = ? GROUP BY task, recurrences",
    ).bind(row.id),
    env.DB.prepare(
      `SELECT s.id AS shard_id, s.task, s.recurrences, s.doc_start, s.doc_end, s.state, f.at, f.runner, f.reason, f.kind
       FROM shard_failures f JOIN shards s ON s.id = f.shard_id WHERE s.run_id = ? ORDER BY s.rowid, f.rowid`,
    ).bind(row.id),
    env.DB.prepare(
      `SELECT s.reused_from_run AS run_id, s.runner, t.name AS runner_name, count(*) AS samples
       FROM samples s LEFT JOIN tokens t ON t.id = s.runner
       WHERE s.run_id = ? AND s.reused = 1 GROUP BY s.reused_from_run, s.runner ORDER BY samples DESC`,
    ).bind(row.id),
    // Documents of failed shards that have no result: what an incomplete run lacks.
    env.DB.prepare(
      `SELECT s.id AS shard_id, s.task, s.recurrences, s.failures, s.expiries, d.doc_index,
         (SELECT f.reason FROM shard_failures f WHERE f.shard_id = s.id ORDER BY f.rowid DESC LIMIT 1) AS last_reason
       FROM shards s JOIN run_docs d ON d.run_id = s.run_id AND d.task = s.task
         AND d.doc_index >= s.doc_start AND d.doc_index < s.doc_end
       WHERE s.run_id = ? AND s.state = 'failed' AND NOT EXISTS (
         SELECT 1 FROM samples x WHERE x.run_id = s.run_id AND x.task = s.task
           AND x.recurrences = s.recurrences AND x.doc_index = d.doc_index)
       ORDER BY s.rowid, d.doc_index`,
    ).bind(row.id),
    env.DB.prepare(
      `SELECT DISTINCT json_extract(record, '$.backend')
           || coalesce(' (' || json_extract(record, '$.graph_variant') || ' graphs)', '') AS backend,
         json_extract(record, '$.device') AS device,
         json_extract(record, '$.runner_version') AS runner_version
       FROM samples WHERE run_id = ?`,
    ).bind(row.id),
  ]);
  type Count = {
    task: string;
    recurrences: number;
    state: ShardState;
    shards: number;
    docs: number;
  };
  type Done = { task: string; recurrences: number; done: number; reused: number };
  const progress = new Map<string, RunDetail["progress"][number]>();
  for (const c of shards.results as Count[]) {
    const key = `${c.task}\u0000${c.recurrences}`;
    const entry = progress.get(key) ?? {
      task: c.task,
      recurrences: c.recurrences,
      samples_done: 0,
      samples_total: 0,
      shards: { queued: 0, leased: 0, done: 0, failed: 0, cancelled: 0 },
    };
    entry.shards[c.state] = c.shards;
    entry.samples_total += c.docs;
    progress.set(key, entry);
  }
  let reused = 0;
  for (const d of samples.results as Done[]) {
    const entry = progress.get(`${d.task}\u0000${d.recurrences}`);
    if (entry) entry.samples_done = d.done;
    reused += d.reused;
  }
  return {
    ...toSummary(row),
    tasks: (tasks.results as RunTaskRow[]).map((t) => ({
      ...t,
      ...taskMetrics(t.task),
      dataset_files: JSON.parse(t.dataset_files),
      canonical_data: t.canonical_data === 1,
    })),
    progress: [...progress.values()],
    aggregates: await runAggregates(env, row),
    reused_samples: reused,
    reused_from: (sources.results as RunDetail["reused_from"]).map((source) => ({
      ...source,
      run_id: source.run_id ?? "unknown",
    })),
    failures: groupFailures(failures.results as FailureRow[]),
    missing: groupMissing(missing.results as MissingRow[]),
    provenance: provenanceOf(made.results as MadeRow[], env),
  };
}

interface MadeRow {
  backend: string | null;
  device: string | null;
  runner_version: string | null;
}

function provenanceOf(rows: MadeRow[], env: Env): RunDetail["provenance"] {
  const distinct = (pick: (row: MadeRow) => string | null) =>
    [...new Set(rows.map(pick).filter((v): v is string => Boolean(v)))].sort();
  return {
    backends: distinct((r) => r.backend),
    devices: distinct((r) => r.device),
    runner_versions: distinct((r) => r.runner_version),
    harness_version: `evals ${EVALS_VERSION}`,
    git_hash: env.EVALS_GIT_HASH ?? null,
  };
}

interface MissingRow {
  shard_id: string;
  task: string;
  recurrences: number;
  failures: number;
  expiries: number;
  doc_index: number;
  last_reason: string | null;
}

function groupMissing(rows: MissingRow[]): RunDetail["missing"] {
  const byShard = new Map<string, RunDetail["missing"][number]>();
  for (const row of rows) {
    const entry = byShard.get(row.shard_id) ?? {
      task: row.task,
      recurrences: row.recurrences,
      doc_indices: [],
      why: `given up after ${row.failures} failure(s) and ${row.expiries} expired lease(s); last: ${row.last_reason ?? "none recorded"}`,
    };
    entry.doc_indices.push(row.doc_index);
    byShard.set(row.shard_id, entry);
  }
  return [...byShard.values()];
}

interface FailureRow {
  shard_id: string;
  task: string;
  recurrences: number;
  doc_start: number;
  doc_end: number;
  state: ShardState;
  at: string;
  runner: string | null;
  reason: string;
  kind: "vanished" | "threw";
}

function groupFailures(rows: FailureRow[]): RunDetail["failures"] {
  const byShard = new Map<string, RunDetail["failures"][number]>();
  for (const { at, runner, reason, kind, ...shard } of rows) {
    const entry = byShard.get(shard.shard_id) ?? { ...shard, reasons: [] };
    entry.reasons.push({ at, runner, reason, kind });
    byShard.set(shard.shard_id, entry);
  }
  return [...byShard.values()];
}
