// The runner `evals runner` and `evals dev` start: its checkpoint cache and its Runner, built from
// the command's options in one place so both commands parse and default them the same way.
import { CheckpointCache } from "../../runner/cache/checkpoint-cache.ts";
import { Runner, type RunnerOptions } from "../../runner/runner.ts";
import { createRunnerLog } from "../../runner/runner-log.ts";
import { EvalsClient } from "../../worker/client.ts";
import { EvalsError } from "../errors.ts";
import { parseInteger } from "./parse.ts";

/** The command-line options a runner reads; those a command lacks take the runner's defaults. */
export interface RunnerCliOptions {
  pages?: string;
  backend: RunnerOptions["backend"];
  chromium?: string;
  cacheDir: string;
  cacheMaxGb?: string;
  batchSize?: string;
  threads?: string;
  shardTimeout?: string;
  json?: boolean;
  /** false with `--no-sweep`: one shard (one r) per lease instead of bundled leases. */
  sweep?: boolean;
}

export const RUNNER_DEFAULTS = {
  pages: "1",
  cacheMaxGb: "20",
  batchSize: "4",
  shardTimeout: "1800",
} as const;

export interface RunnerConnection {
  api: string;
  token: string;
  /** Exit when the API has no work left. */
  once: boolean;
  /** `evals dev`: how long an idle runner waits between leases. */
  maxIdleMs?: number;
}

/** Example: `await runnerFromOptions(options, { api, token, once: true }).run()`. */
export function runnerFromOptions(options: RunnerCliOptions, connection: RunnerConnection): Runner {
  const log = createRunnerLog({ json: options.json === true });
  const cacheMaxGb = options.cacheMaxGb ?? RUNNER_DEFAULTS.cacheMaxGb;
  const cacheGb = Number(cacheMaxGb);
  if (!(cacheGb > 0)) throw new EvalsError(`--cache-max-gb "${cacheMaxGb}" must be > 0`);
  const { api, token } = connection;
  const cache = new CheckpointCache({
    dir: options.cacheDir,
    maxBytes: cacheGb * 2 ** 30,
    headers: { authorization: `Bearer ${token}` },
    onFetch: (event) => log({ event: "fetch", ...event }),
  });
  return new Runner({
    client: new EvalsClient({ baseUrl: api, token }),
    cache,
    log,
    pages: parseInteger(options.pages ?? RUNNER_DEFAULTS.pages, "--pages", 1, 64),
    backend: options.backend,
    chromium: options.chromium,
    once: connection.once,
    batchSize: parseInteger(
      options.batchSize ?? RUNNER_DEFAULTS.batchSize,
      "--batch-size",
      1,
      1024,
    ),
    threads:
      options.threads === undefined ? undefined : parseInteger(options.threads, "--threads", 1, 64),
    shardTimeoutMs:
      parseInteger(options.shardTimeout ?? RUNNER_DEFAULTS.shardTimeout, "--shard-timeout", 1) *
      1000,
    maxIdleMs: connection.maxIdleMs,
    sweep: options.sweep !== false,
  });
}
