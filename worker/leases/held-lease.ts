// Looking up a lease for a runner call: 404 when it never existed, 409 when it is someone else's.
import type { Principal } from "../auth/principal.ts";
import type { Env } from "../env.ts";
import { conflict, notFound } from "../http-error.ts";
import type { ShardState } from "../protocol.ts";

export interface LeasedShard {
  id: string;
  run_id: string;
  task: string;
  recurrences: number;
  doc_start: number;
  doc_end: number;
  state: ShardState;
  /** The shard's current lease, which differs from the asked one once it was leased again. */
  lease_id: string;
  deadline: number;
}

export async function findLeasedShard(
  env: Env,
  principal: Principal,
  leaseId: string,
): Promise<LeasedShard> {
  const row = await env.DB.prepare(
    `SELECT l.holder AS lease_holder, s.id, s.run_id, s.task, s.recurrences, s.doc_start, s.doc_end, s.state, s.lease_id, s.deadline
     FROM leases l JOIN shards s ON s.id = l.shard_id WHERE l.id = ?`,
  )
    .bind(leaseId)
    .first<LeasedShard & { lease_holder: string }>();
  if (!row) throw notFound("lease", leaseId);
  if (row.lease_holder !== principal.tokenId) {
    throw conflict("lease_not_held", `lease ${leaseId} belongs to another runner`);
  }
  return row;
}

/**
 * True while `leaseId` is the shard's lease. A lease past its deadline stays its runner's until the
 * shard is handed to another (expiry is applied when leasing), so a runner that was cut off from
 * the API for a while (an outage, a restart) picks up where it was instead of losing the shard.
 */
export function isHeld(shard: LeasedShard, leaseId: string, _now: number): boolean {
  return shard.lease_id === leaseId && shard.state === "leased";
}

export function notHeld(shard: LeasedShard, leaseId: string): never {
  const why =
    shard.lease_id !== leaseId
      ? "it expired and the shard was leased again"
      : `the shard is ${shard.state}`;
  throw conflict("lease_not_held", `lease ${leaseId} is no longer held: ${why}`);
}
