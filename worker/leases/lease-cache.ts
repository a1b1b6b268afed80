// What an isolate handed out with a lease (shards and documents), so the results post that follows
// needs no extra reads. Only an optimisation: the results post re-checks the lease inside its own
// transaction, and an isolate without the entry reads the same data from D1.
import type { ClaimedShard } from "./lease-shard.ts";
import type { RunDoc } from "./sample-record.ts";

export interface RememberedLease {
  /** The lease's first shard. */
  shard: ClaimedShard;
  /** Every shard of the lease, ascending in r (`shard` alone unless bundled). */
  shards: ClaimedShard[];
  holder: string;
  /** Documents without a result when the lease was granted. */
  docs: RunDoc[];
}

const MAX_ENTRIES = 5_000;
const leases = new Map<string, RememberedLease>();

export function rememberLease(leaseId: string, lease: RememberedLease): void {
  if (leases.size >= MAX_ENTRIES) leases.delete(leases.keys().next().value!);
  leases.set(leaseId, lease);
}

export function recallLease(leaseId: string): RememberedLease | undefined {
  return leases.get(leaseId);
}
