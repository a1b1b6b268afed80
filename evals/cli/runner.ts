// `evals runner`: leases shards from an API and runs them in headless Chromium (or node).
import { type Command, Option } from "commander";
import { defaultCheckpointCacheDir } from "../../runner/cache/checkpoint-cache.ts";
import { EvalsError } from "../errors.ts";
import { RUNNER_DEFAULTS, runnerFromOptions } from "./runner-from-options.ts";

export function registerRunnerCommand(program: Command): void {
  program
    .command("runner")
    .description("lease shards from an evals API and run them (Chromium: webgpu or wasm)")
    .option("--api <url>", "API base URL (or $EVALS_API)", process.env.EVALS_API)
    .option("--token <t>", "runner token (or $EVALS_TOKEN)")
    .option("--pages <n>", "browser pages working in parallel", RUNNER_DEFAULTS.pages)
    .addOption(
      new Option("--backend <backend>", "inference backend; auto prefers a hardware WebGPU")
        .choices(["auto", "webgpu", "wasm", "node"])
        .default("auto"),
    )
    .option("--chromium <path>", "Chromium executable (default: Playwright's, else the system's)")
    .option("--cache-dir <dir>", "where checkpoint files are kept", defaultCheckpointCacheDir())
    .option(
      "--cache-max-gb <n>",
      "evict least-recently-used checkpoints above this size",
      RUNNER_DEFAULTS.cacheMaxGb,
    )
    .option("--batch-size <b>", "prompts generated together", RUNNER_DEFAULTS.batchSize)
    .option(
      "--threads <n>",
      "CPU threads per page (default: node 2, wasm 1, at most cores ÷ pages)",
    )
    .option(
      "--shard-timeout <s>",
      "fail a shard still running after this many seconds",
      RUNNER_DEFAULTS.shardTimeout,
    )
    .option(
      "--no-sweep",
      "take one r per lease instead of bundled leases (every r of a document range in one sweep)",
    )
    .option("--once", "exit when the API has no work left instead of waiting")
    .option("--json", "one JSON event per line on stderr instead of prose")
    .action(async function runRunner(options) {
      const api = options.api as string | undefined;
      if (!api) {
        throw new EvalsError(
          "no API given: pass --api <url> or set EVALS_API (a local one: `npm run api`)",
        );
      }
      const token = (options.token as string | undefined) ?? process.env.EVALS_TOKEN;
      if (!token) throw new EvalsError("no runner token: pass --token <t> or set EVALS_TOKEN");
      const runner = runnerFromOptions(options, { api, token, once: options.once === true });
      let signals = 0;
      const onSignal = (signal: string) => {
        signals++;
        if (signals > 1) process.exit(130);
        runner.stop("release", `${signal}: giving held shards back after the current batch`);
      };
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
      const summary = await runner.run();
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      if (summary.failures > 0) process.exitCode = 1;
    });
}
