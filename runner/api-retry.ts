// Runner calls that must outlive an API outage (a restart, a dropped connection). Results, failure
// reports and releases are idempotent on the server, so they are sent again with backoff until the
// API answers; one network error is never a shard failure. Only an answer ends the retries early.
import { EvalsError } from "../evals/errors.ts";
import { ApiError } from "../worker/client.ts";

export class ApiOutageError extends EvalsError {}

/** No answer (fetch threw) or the API answered that it is unwell (5xx, 429). */
export function isTransient(error: unknown): boolean {
  if (error instanceof ApiError) return error.status >= 500 || error.status === 429;
  return error instanceof TypeError;
}

export interface RetryOptions {
  /** What the call does, for the error once the API stays away too long. */
  what: string;
  /** Give up after this long without an answer (default 10 minutes). */
  giveUpAfterMs?: number;
  onRetry?: (detail: string, retryInMs: number) => void;
}

export async function retryApi<T>(call: () => Promise<T>, options: RetryOptions): Promise<T> {
  const started = Date.now();
  const giveUpAfterMs = options.giveUpAfterMs ?? 600_000;
  let delay = 0;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!isTransient(error)) throw error;
      const detail = error instanceof Error ? error.message : String(error);
      if (Date.now() - started >= giveUpAfterMs) {
        throw new ApiOutageError(
          `${options.what}: no answer from the API for ${Math.round(giveUpAfterMs / 1000)} s (${detail})`,
        );
      }
      delay = delay === 0 ? 250 : Math.min(delay * 2, 5_000);
      options.onRetry?.(detail, delay);
      await new Promise((done) => setTimeout(done, delay));
    }
  }
}
