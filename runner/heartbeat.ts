// Keeps a lease alive while its shard runs: a heartbeat every third of the time left, so one
// lost request does not cost the lease. A 409/404 means the lease is gone (expired and re-leased,
// or the run was cancelled): the shard's work should stop.
import { ApiError, type EvalsClient } from "../worker/client.ts";

export interface Heartbeat {
  /** Set once the API said the lease is no longer ours. */
  readonly lost: string | null;
  stop(): void;
}

export function startHeartbeat(client: EvalsClient, leaseId: string, deadline: string): Heartbeat {
  let lost: string | null = null;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = (until: string) => {
    if (stopped) return;
    const delay = Math.max(500, (Date.parse(until) - Date.now()) / 3);
    timer = setTimeout(beat, delay);
    timer.unref();
  };
  const beat = async () => {
    try {
      const extended = await client.heartbeat(leaseId);
      schedule(extended.deadline);
    } catch (error) {
      if (error instanceof ApiError && (error.status === 409 || error.status === 404)) {
        lost = `${error.status} ${error.message}`;
        return;
      }
      // A network hiccup: try again soon, the deadline is still ahead.
      schedule(new Date(Date.now() + 3000).toISOString());
    }
  };
  schedule(deadline);
  return {
    get lost() {
      return lost;
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
