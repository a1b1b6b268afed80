// Handing out shards. Race-free without locks: one D1 batch (a transaction) first returns expired
// leases to the queue, then claims one queued shard with a single conditional UPDATE … RETURNING,
// so two runners can never both hold a shard. For a runner that sweeps r, the same batch then
// claims the shard's queued siblings (same run, task and documents, other r) that fit its memory,
// under the same lease id: a bundle, run with one prefill at its largest r.
import type { Principal } from "../auth/principal.ts";
import { type Env, leaseMillis, maxLeaseExpiries } from "../env.ts";
import type { Capabilities, Lease } from "../protocol.ts";
import { loadRunContext } from "../runs/run-context.ts";
import { groupCommit } from "../storage/group-commit.ts";
import { rememberLease } from "./lease-cache.ts";
import type { RunDoc } from "./sample-record.ts";

export interface ClaimedShard {
  id: string;
  run_id: string;
  task: string;
  recurrences: number;
  doc_start: number;
  doc_end: number;
}

/**
 * Statements that re-queue shards whose lease ran out. The runner vanished (killed, lost its
 * network, the API restarted under it): that says nothing about the shard, so it is counted as an
 * expiry with its own, larger budget (MAX_LEASE_EXPIRIES), never as one of the shard's failures.
 */
export function expireLeases(env: Env, now: number): D1PreparedStatement[] {
  const at = new Date(now).toISOString();
  return [
    env.DB.prepare(
      "INSERT INTO shard_failures (shard_id, at, runner, reason, kind) SELECT id, ?, holder, 'runner vanished: lease ' || coalesce(bundle, lease_id) || ' expired without results', 'vanished' FROM shards WHERE state = 'leased' AND deadline < ?",
    ).bind(at, now),
    env.DB.prepare(
      "UPDATE shards SET state = CASE WHEN expiries + 1 >= ? THEN 'failed' ELSE 'queued' END, expiries = expiries + 1 WHERE state = 'leased' AND deadline < ?",
    ).bind(maxLeaseExpiries(env), now),
    finishRuns(env, now),
  ];
}

/**
 * Ends active runs once none of their shards is queued or leased: `finished` when every shard is
 * done, `incomplete` when one failed for good (DESIGN §7: never `finished` with results missing).
 */
export function finishRuns(env: Env, now: number, runId?: string): D1PreparedStatement {
  const scope = runId ? "id = ?" : "id IN (SELECT run_id FROM shards WHERE state = 'failed')";
  const statement = env.DB.prepare(
    `UPDATE runs SET state = CASE WHEN EXISTS (SELECT 1 FROM shards s WHERE s.run_id = runs.id AND s.state = 'failed') THEN 'incomplete' ELSE 'finished' END, finished_at = ?
     WHERE state = 'active' AND ${scope} AND NOT EXISTS (SELECT 1 FROM shards s WHERE s.run_id = runs.id AND s.state IN ('queued', 'leased'))`,
  );
  return runId
    ? statement.bind(new Date(now).toISOString(), runId)
    : statement.bind(new Date(now).toISOString());
}

/**
 * Siblings ride along only when they fit beside the first shard: its `memory_bytes` (weights and
 * one r's working memory) plus each sibling's `cache_bytes` (its r's KV caches), added smallest r
 * first, so a bundle holds as many shards as the runner's memory allows; the rest stay queued for
 * another lease. A shard that failed before is leased alone (both as first shard and as sibling):
 * an r that keeps failing (out of memory at r = 32) must not fail its siblings with it.
 */
const CLAIM_SIBLINGS = `UPDATE shards SET state = 'leased', lease_id = ?1 || '/r' || recurrences, bundle = ?1,
    holder = ?2, holder_trusted = ?3, deadline = ?4, attempts = attempts + 1
  WHERE id IN (
    SELECT id FROM (
      SELECT s.id, a.memory_bytes + sum(s.cache_bytes) OVER (ORDER BY s.recurrences) AS need
      FROM shards a JOIN shards s ON s.run_id = a.run_id AND s.task = a.task
        AND s.doc_start = a.doc_start AND s.doc_end = a.doc_end
      WHERE a.lease_id = ?1 AND a.failures = 0 AND a.memory_bytes IS NOT NULL
        AND s.state = 'queued' AND s.failures = 0 AND s.cache_bytes IS NOT NULL
        AND s.max_tensor_bytes <= ?5)
    WHERE need <= ?6)
  RETURNING id, run_id, task, recurrences, doc_start, doc_end`;

/** Shards that failed before first (a retry should not wait behind new work), then the oldest. */
const QUEUE_ORDER = "failures DESC, rowid";
/**
 * A WebGPU runner takes shards whose graphs it lacks kernels for (`webgpu_cpu_ops`: i8, whose int8
 * GEMMs run on onnxruntime-web's CPU kernels there) only when nothing else it can run is queued: a
 * preference, never a refusal, so such a run still finishes where only WebGPU runners exist.
 */
const WEBGPU_QUEUE_ORDER = `webgpu_cpu_ops, ${QUEUE_ORDER}`;

/** The next shard this runner can run (with its siblings, for a sweeping runner), or null. */
export async function leaseShard(
  env: Env,
  principal: Principal,
  capabilities: Capabilities,
): Promise<Lease | null> {
  const now = Date.now();
  const leaseId = `lease_${crypto.randomUUID()}`;
  const deadline = now + leaseMillis(env);
  const trusted = principal.trusted ? 1 : 0;
  // Bundles are sized by bytes, so only a runner that declares them gets one.
  const bundles = capabilities.sweep === true && capabilities.max_memory_bytes !== undefined;
  const order = capabilities.backends.includes("webgpu") ? WEBGPU_QUEUE_ORDER : QUEUE_ORDER;
  const expiry = expireLeases(env, now);
  const results = await groupCommit(env.DB).batch([
    ...expiry,
    env.DB.prepare(
      `UPDATE shards SET state = 'leased', lease_id = ?, bundle = ?, holder = ?, holder_trusted = ?, deadline = ?, attempts = attempts + 1
       WHERE id = (SELECT id FROM shards WHERE state = 'queued' AND max_tensor_bytes <= ?
                     AND CASE WHEN ? IS NULL OR memory_bytes IS NULL THEN total_parameters <= ? ELSE memory_bytes <= ? END
                   ORDER BY ${order} LIMIT 1)
       RETURNING id, run_id, task, recurrences, doc_start, doc_end`,
    ).bind(
      leaseId,
      leaseId,
      principal.tokenId,
      trusted,
      deadline,
      capabilities.max_buffer_bytes,
      // A runner that declares bytes is leased by memory; older ones (and shards created before
      // memory_bytes existed) by parameter count.
      capabilities.max_memory_bytes ?? null,
      capabilities.max_parameters,
      capabilities.max_memory_bytes ?? null,
    ),
    ...(bundles
      ? [
          env.DB.prepare(CLAIM_SIBLINGS).bind(
            leaseId,
            principal.tokenId,
            trusted,
            deadline,
            capabilities.max_buffer_bytes,
            capabilities.max_memory_bytes,
          ),
        ]
      : []),
    env.DB.prepare(
      "INSERT INTO leases (id, shard_id, holder, created_at) SELECT ?, id, ?, ? FROM shards WHERE lease_id = ?",
    ).bind(leaseId, principal.tokenId, new Date(now).toISOString(), leaseId),
    // The documents that still lack a result at some r of the lease (none when nothing was claimed).
    env.DB.prepare(
      `SELECT d.doc_index, d.doc_id, d.prompt, d.doc_hash, d.prompt_hash, d.gold,
         length(CAST(d.prompt AS BLOB)) AS prompt_bytes
       FROM shards s JOIN run_docs d ON d.run_id = s.run_id AND d.task = s.task
         AND d.doc_index >= s.doc_start AND d.doc_index < s.doc_end
       WHERE s.lease_id = ?1 AND EXISTS (
         SELECT 1 FROM shards b WHERE b.bundle = ?1 AND NOT EXISTS (
           SELECT 1 FROM samples x WHERE x.run_id = d.run_id AND x.task = d.task
             AND x.recurrences = b.recurrences AND x.doc_index = d.doc_index))
       ORDER BY d.doc_index`,
    ).bind(leaseId),
  ]);
  const shard = results[expiry.length].results[0] as ClaimedShard | undefined;
  if (!shard) return null;
  const siblings = bundles ? (results[expiry.length + 1].results as ClaimedShard[]) : [];
  const shards = [shard, ...siblings].sort((a, b) => a.recurrences - b.recurrences);
  const docs = results.at(-1)!.results as RunDoc[];
  rememberLease(leaseId, { shard, shards, holder: principal.tokenId, docs });
  const run = await loadRunContext(env, shard.run_id);
  const task = run.tasks.get(shard.task)!;
  const loglikelihood = task.kind === "loglikelihood";
  return {
    lease_id: leaseId,
    deadline: new Date(deadline).toISOString(),
    shard,
    ...(capabilities.sweep
      ? { bundle: shards.map(({ id, recurrences }) => ({ id, recurrences })) }
      : {}),
    kind: task.kind,
    prompts: docs.map(({ doc_index, doc_id, prompt }) => ({
      doc_index,
      doc_id,
      prompt,
      ...(loglikelihood ? { requests: JSON.parse(prompt) } : {}),
    })),
    generation: {
      recurrences: shard.recurrences,
      until: task.kind === "generate" ? task.task.until : [],
      max_new_tokens: task.kind === "generate" ? task.maxNewTokens : 0,
      kv: run.config.kv,
      state_init: run.config.state_init,
      seed: run.config.seed,
      dtype: run.config.dtype ?? run.checkpoint.manifest.dtype,
      add_bos: task.kind === "loglikelihood" && task.task.addBos,
    },
    checkpoint: {
      id: run.checkpoint.id,
      manifest: run.checkpoint.manifest,
      files: run.checkpoint.files.map((file) => ({ ...file, url: `/api/blobs/${file.sha256}` })),
    },
  };
}
