// Heartbeats (extend a live lease), failure reports (give its shards back with a reason) and
// releases (give them back unharmed, e.g. a runner stopping on SIGTERM). Each applies to every
// shard of the lease still leased: shards of a bundle already done stay done.
import type { Principal } from "../auth/principal.ts";
import { type Env, leaseMillis, maxShardFailures } from "../env.ts";
import type { ShardState } from "../protocol.ts";
import { type FoundLease, findLease, isHeld, notHeld } from "./held-lease.ts";
import { finishRuns } from "./lease-shard.ts";

/** The shards of a lease its runner still holds (bound: lease id, holder). */
const HELD = "bundle = ? AND holder = ? AND state = 'leased'";

interface GivenBack {
  id: string;
  recurrences: number;
  state: ShardState;
  failures: number;
}

export interface LeaseGivenBack {
  shard_state: ShardState;
  failures: number;
  shards: GivenBack[];
}

export async function extendLease(
  env: Env,
  principal: Principal,
  leaseId: string,
): Promise<{ lease_id: string; deadline: string }> {
  const now = Date.now();
  const deadline = now + leaseMillis(env);
  const extended = await env.DB.prepare(`UPDATE shards SET deadline = ? WHERE ${HELD} RETURNING id`)
    .bind(deadline, leaseId, principal.tokenId)
    .first();
  if (!extended) notHeldAny(await findLease(env, principal, leaseId), leaseId);
  return { lease_id: leaseId, deadline: new Date(deadline).toISOString() };
}

/** Records the reason; each shard is queued again, or failed after MAX_SHARD_FAILURES reports. */
export async function reportFailure(
  env: Env,
  principal: Principal,
  leaseId: string,
  reason: string,
): Promise<LeaseGivenBack> {
  const lease = await findLease(env, principal, leaseId);
  if (!lease.shards.some((shard) => isHeld(shard, leaseId))) notHeldAny(lease, leaseId);
  const now = Date.now();
  const results = await env.DB.batch<GivenBack>([
    env.DB.prepare(
      `INSERT INTO shard_failures (shard_id, at, runner, reason, kind) SELECT id, ?, holder, ?, 'threw' FROM shards WHERE ${HELD}`,
    ).bind(new Date(now).toISOString(), reason, leaseId, principal.tokenId),
    env.DB.prepare(
      `UPDATE shards SET state = CASE WHEN failures + 1 >= ? THEN 'failed' ELSE 'queued' END, failures = failures + 1 WHERE ${HELD} RETURNING id, recurrences, state, failures`,
    ).bind(maxShardFailures(env), leaseId, principal.tokenId),
    finishRuns(env, now, lease.first.run_id),
  ]);
  const rows = results[1].results;
  if (rows.length === 0) notHeldAny(await findLease(env, principal, leaseId), leaseId);
  return givenBack(rows, lease);
}

/** Gives the held shards back to the queue without counting a failure: the runner is stopping. */
export async function releaseLease(
  env: Env,
  principal: Principal,
  leaseId: string,
): Promise<LeaseGivenBack> {
  const lease = await findLease(env, principal, leaseId);
  if (!lease.shards.some((shard) => isHeld(shard, leaseId))) notHeldAny(lease, leaseId);
  const { results } = await env.DB.prepare(
    `UPDATE shards SET state = 'queued' WHERE ${HELD} RETURNING id, recurrences, state, failures`,
  )
    .bind(leaseId, principal.tokenId)
    .all<GivenBack>();
  // Another call gave them back between the check and the update.
  if (results.length === 0) notHeldAny(await findLease(env, principal, leaseId), leaseId);
  return givenBack(results, lease);
}

/** The answer: the lease's first shard if it was given back, else the first one that was. */
function givenBack(rows: GivenBack[], lease: FoundLease): LeaseGivenBack {
  const shards = [...rows].sort((a, b) => a.recurrences - b.recurrences);
  const main = shards.find((shard) => shard.id === lease.first.id) ?? shards[0];
  return { shard_state: main.state, failures: main.failures, shards };
}

/** 409 for a lease none of whose shards is held: says why for its first shard. */
function notHeldAny(lease: FoundLease, leaseId: string): never {
  const shard = lease.shards.find((s) => s.bundle === leaseId) ?? lease.first;
  notHeld(shard, leaseId);
}
