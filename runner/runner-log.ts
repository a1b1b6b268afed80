// What a runner says while it works: one human line per event on stderr, or one JSON object per
// line (`--json`) for log collectors. Events carry the same fields either way.
export type RunnerEvent =
  | {
      event: "start";
      backend: string;
      reason: string;
      pages: number;
      api: string;
      /** Whether the runner asks for bundled leases (every r of a document range at once). */
      sweep?: boolean;
    }
  | { event: "idle"; retry_in_ms: number }
  | { event: "api_unreachable"; detail: string; retry_in_ms: number }
  | { event: "fetch"; checkpoint: string; file: string; bytes: number; reason: string }
  | {
      event: "load";
      page: number;
      checkpoint: string;
      backend: string;
      /** Why this checkpoint runs on another backend than the runner's (auto: i8 on wasm). */
      backend_reason?: string;
      device: string;
      /** Which graph set runs and why (fp16-compute variant or default graphs). */
      graphs: string;
      ms: number;
    }
  | {
      event: "progress";
      page: number;
      shard: string;
      task: string;
      r: number;
      /** A bundled lease's r's, ascending (one progress event per r after each batch). */
      bundle?: number[];
      done: number;
      total: number;
      tokens_per_s: number;
      backend: string;
    }
  | { event: "shard_done"; page: number; shard: string; samples: number; seconds: number }
  | { event: "shard_failed"; page: number; shard: string; reason: string }
  | { event: "shard_released"; page: number; shard: string; done: number }
  | { event: "lease_lost"; page: number; shard: string; detail: string }
  | { event: "page_replaced"; page: number; reason: string }
  | { event: "browser_restarted"; reason: string }
  | { event: "stopping"; reason: string }
  | { event: "stopped"; shards: number; samples: number; seconds: number };

export type RunnerLog = (event: RunnerEvent) => void;

export function createRunnerLog(options: {
  json: boolean;
  write?: (line: string) => void;
}): RunnerLog {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (options.json)
    return (event) => write(JSON.stringify({ time: new Date().toISOString(), ...event }));
  return (event) => write(describe(event));
}

function describe(e: RunnerEvent): string {
  switch (e.event) {
    case "start":
      return `runner: ${e.pages} page(s) on ${e.backend} (${e.reason}), API ${e.api}${e.sweep === false ? "; one r per lease (--no-sweep)" : ""}`;
    case "idle":
      return `no work; waiting (asking again at least every ${(e.retry_in_ms / 1000).toFixed(0)} s)`;
    case "api_unreachable":
      return `API unreachable (${e.detail}); retrying in ${(e.retry_in_ms / 1000).toFixed(1)} s`;
    case "fetch":
      return `fetching ${e.checkpoint}/${e.file} (${mib(e.bytes)}): ${e.reason}`;
    case "load":
      return `page ${e.page}: loaded ${e.checkpoint} on ${e.backend}${e.backend_reason ? ` (${e.backend_reason})` : ""} [${e.device}] in ${(e.ms / 1000).toFixed(1)} s; ${e.graphs}`;
    case "progress":
      return `page ${e.page}: ${e.task} r=${e.r}${e.bundle ? ` (of r=${e.bundle.join(",")})` : ""} ${e.done}/${e.total} samples, ${e.tokens_per_s.toFixed(1)} tok/s, ${e.backend}`;
    case "shard_done":
      return `page ${e.page}: shard ${e.shard} done (${e.samples} samples in ${e.seconds.toFixed(1)} s)`;
    case "shard_failed":
      return `page ${e.page}: shard ${e.shard} failed: ${e.reason}`;
    case "shard_released":
      return `page ${e.page}: shard ${e.shard} released after ${e.done} samples`;
    case "lease_lost":
      return `page ${e.page}: lease on ${e.shard} lost (${e.detail}); dropping it`;
    case "page_replaced":
      return `page ${e.page}: replaced (${e.reason})`;
    case "browser_restarted":
      return `browser restarted (${e.reason})`;
    case "stopping":
      return `stopping: ${e.reason}`;
    case "stopped":
      return `stopped: ${e.shards} shard(s), ${e.samples} sample(s) in ${e.seconds.toFixed(1)} s`;
  }
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
