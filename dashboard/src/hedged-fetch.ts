// A read that waits too long for its answer sends the same request again beside it and takes
// whichever answer comes first (a hedged request, "The Tail at Scale", Dean & Barroso 2013). The
// first try is never abandoned, so a slow endpoint is never made slower or failed by a deadline;
// a request that a proxy or a socket lost is answered by its twin. Only for idempotent reads.

/** After how many ms without response headers each further copy is sent (the default: two). */
export const HEDGE_AFTER_MS = [4000, 8000];

/**
 * `fetch(input, init)`, sent again after each delay in `hedgeAfterMs` while no copy has answered;
 * resolves with the first response (any status), aborts the other copies, and rejects only when
 * every copy failed (with the last failure). `init.signal` aborts every copy.
 *
 *   const res = await hedgedFetch("/api/runs", { cache: "no-store" });
 */
export function hedgedFetch(
  input: string,
  init: RequestInit = {},
  hedgeAfterMs: readonly number[] = HEDGE_AFTER_MS,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const copies: AbortController[] = [];
    const timers: ReturnType<typeof setTimeout>[] = [];
    let settled = false;
    let failed = 0;
    const finish = () => {
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      init.signal?.removeEventListener("abort", abortAll);
    };
    const abortAll = () => {
      if (settled) return;
      finish();
      for (const copy of copies) copy.abort(init.signal?.reason);
      reject(init.signal?.reason ?? new DOMException("aborted", "AbortError"));
    };
    const send = () => {
      if (settled) return;
      const copy = new AbortController();
      copies.push(copy);
      fetch(input, { ...init, signal: copy.signal }).then(
        (response) => {
          if (settled) return;
          finish();
          for (const other of copies) if (other !== copy) other.abort();
          resolve(response);
        },
        (error: unknown) => {
          failed += 1;
          // A copy that failed outright (not one we aborted) waits for the others, if any.
          if (settled || failed < copies.length) return;
          finish();
          reject(error);
        },
      );
    };
    if (init.signal?.aborted) return reject(init.signal.reason);
    init.signal?.addEventListener("abort", abortAll);
    send();
    let at = 0;
    for (const delay of hedgeAfterMs) {
      at += delay;
      timers.push(setTimeout(send, at));
    }
  });
}
