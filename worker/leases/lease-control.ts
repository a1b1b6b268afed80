// Heartbeats (extend a live lease), failure reports (give a shard back with a reason) and
// releases (give it back unharmed, e.g. a runner stopping on SIGTERM).
import type { Principal } from "../auth/principal.ts";
import { type Env, leaseMillis, maxShardFailures } from "../env.ts";
import type { ShardState } from "../protocol.ts";
import { findLeasedShard, isHeld, notHeld } from "./held-lease.ts";
import { finishRuns } from "./lease-shard.ts";

export async function extendLease(
  env: Env,
  principal: Principal,
  leaseId: string,
): Promise<{ lease_id: string; deadline: string }> {
  const now = Date.now();
  const deadline = now + leaseMillis(env);
  const extended = await env.DB.prepare(
    "UPDATE shards SET deadline = ? WHERE lease_id = ? AND holder = ? AND state = 'leased' RETURNING id",
  )
    .bind(deadline, leaseId, principal.tokenId)
    .first();
  if (!extended) notHeld(await findLeasedShard(env, principal, leaseId), leaseId);
  return { lease_id: leaseId, deadline: new Date(deadline).toISOString() };
}

/** Records the reason; the shard is queued again, or failed after MAX_SHARD_FAILURES reports. */
export async function reportFailure(
  env: Env,
  principal: Principal,
  leaseId: string,
  reason: string,
): Promise<{ shard_state: ShardState; failures: number }> {
  const shard = await findLeasedShard(env, principal, leaseId);
  const now = Date.now();
  if (!isHeld(shard, leaseId, now)) notHeld(shard, leaseId);
  const held = "lease_id = ? AND holder = ? AND state = 'leased'";
  const results = await env.DB.batch<{ state: ShardState; failures: number }>([
    env.DB.prepare(
      `INSERT INTO shard_failures (shard_id, at, runner, reason, kind) SELECT id, ?, holder, ?, 'threw' FROM shards WHERE ${held}`,
    ).bind(new Date(now).toISOString(), reason, leaseId, principal.tokenId),
    env.DB.prepare(
      `UPDATE shards SET state = CASE WHEN failures + 1 >= ? THEN 'failed' ELSE 'queued' END, failures = failures + 1 WHERE ${held} RETURNING state, failures`,
    ).bind(maxShardFailures(env), leaseId, principal.tokenId),
    finishRuns(env, now, shard.run_id),
  ]);
  const updated = results[1].results[0];
  if (!updated) notHeld(await findLeasedShard(env, principal, leaseId), leaseId);
  return { shard_state: updated.state, failures: updated.failures };
}

/** Gives a held shard back to the queue without counting a failure: its runner is stopping. */
export async function releaseLease(
  env: Env,
  principal: Principal,
  leaseId: string,
): Promise<{ shard_state: ShardState; failures: number }> {
  const shard = await findLeasedShard(env, principal, leaseId);
  if (!isHeld(shard, leaseId, Date.now())) notHeld(shard, leaseId);
  const released = await env.DB.prepare(
    "UPDATE shards SET state = 'queued' WHERE lease_id = ? AND holder = ? AND state = 'leased' RETURNING state, failures",
  )
    .bind(leaseId, principal.tokenId)
    .first<{ state: ShardState; failures: number }>();
  if (!released) notHeld(await findLeasedShard(env, principal, leaseId), leaseId);
  return { shard_state: released.state, failures: released.failures };
}
