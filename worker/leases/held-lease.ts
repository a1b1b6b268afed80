// Looking up a lease for a runner call: 404 when it never existed, 409 when it is someone else's.
// A lease holds one shard, or a bundle of sibling shards (same run, task and documents, other r)
// that all carry the lease id in `bundle`.
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
  /** The shard's current lease (its own id within a bundle), which changes once leased again. */
  lease_id: string;
  /** The lease id its runner holds; differs from the asked one once the shard was leased again. */
  bundle: string | null;
  deadline: number;
}

export interface FoundLease {
  /** The shard the lease was granted for (the lease's `shard`). */
  first: LeasedShard;
  /** Its shards as they are now, ascending in r: `first` and every sibling still in the bundle. */
  shards: LeasedShard[];
}

/** One query: the lease's first shard and every shard that still carries its id. */
export async function findLease(
  env: Env,
  principal: Principal,
  leaseId: string,
): Promise<FoundLease> {
  const { results } = await env.DB.prepare(
    `SELECT l.holder AS lease_holder, l.shard_id AS first_id, s.id, s.run_id, s.task, s.recurrences,
       s.doc_start, s.doc_end, s.state, s.lease_id, s.bundle, s.deadline
     FROM leases l JOIN shards s ON s.id = l.shard_id OR s.bundle = l.id
     WHERE l.id = ? ORDER BY s.recurrences`,
  )
    .bind(leaseId)
    .all<LeasedShard & { lease_holder: string; first_id: string }>();
  if (results.length === 0) throw notFound("lease", leaseId);
  if (results[0].lease_holder !== principal.tokenId) {
    throw conflict("lease_not_held", `lease ${leaseId} belongs to another runner`);
  }
  const shards = results.map(({ lease_holder: _, first_id: __, ...shard }) => shard);
  const first = shards.find((shard) => shard.id === results[0].first_id)!;
  return { first, shards };
}

/**
 * True while the shard is leased under `leaseId`. A lease past its deadline stays its runner's
 * until the shard is handed to another (expiry is applied when leasing), so a runner that was cut
 * off from the API for a while (an outage, a restart) picks up where it was instead of losing it.
 */
export function isHeld(shard: Pick<LeasedShard, "bundle" | "state">, leaseId: string): boolean {
  return shard.bundle === leaseId && shard.state === "leased";
}

/** The shard was finished under this lease: results posted again are duplicates, not an error. */
export function isDoneBy(shard: Pick<LeasedShard, "bundle" | "state">, leaseId: string): boolean {
  return shard.bundle === leaseId && shard.state === "done";
}

export function notHeld(shard: Pick<LeasedShard, "bundle" | "state">, leaseId: string): never {
  const why =
    shard.bundle !== leaseId
      ? "it expired and the shard was leased again"
      : `the shard is ${shard.state}`;
  throw conflict("lease_not_held", `lease ${leaseId} is no longer held: ${why}`);
}
