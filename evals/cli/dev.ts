// `evals dev`: the whole stack on this machine — the API under wrangler dev (migrations applied,
// state under .wrangler/), one runner in this process, and the dashboard the API serves. Prints
// what to export for `evals submit`; Ctrl-C gives held shards back and stops everything.
import { createServer } from "node:net";
import { type Command, Option } from "commander";
import { defaultCheckpointCacheDir } from "../../runner/cache/checkpoint-cache.ts";
import type { Runner } from "../../runner/runner.ts";
import { EvalsClient } from "../../worker/client.ts";
import { startLocalApi } from "../../worker/dev.ts";
import { EvalsError } from "../errors.ts";
import { parseInteger } from "./parse.ts";
import { RUNNER_DEFAULTS, runnerFromOptions } from "./runner-from-options.ts";

/** Resolves when nothing listens on 127.0.0.1:port; else a one-line error naming the fix. */
function ensurePortFree(port: number): Promise<void> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", (error: NodeJS.ErrnoException) =>
      fail(
        error.code === "EADDRINUSE"
          ? new EvalsError(
              `port ${port} is already in use (another evals dev or npm run api?); stop it, or pass --port <n>`,
            )
          : error,
      ),
    );
    probe.listen(port, "127.0.0.1", () => probe.close(() => done()));
  });
}

export function registerDevCommand(program: Command): void {
  program
    .command("dev")
    .description("start the local API, a runner and the dashboard (Ctrl-C stops them)")
    .option("--port <n>", "API port", "8787")
    .option("--persist-to <dir>", "local D1/R2 state", ".wrangler/state")
    .option("--pages <n>", "runner pages", RUNNER_DEFAULTS.pages)
    .addOption(
      new Option("--backend <backend>", "runner backend")
        .choices(["auto", "webgpu", "wasm", "node"])
        .default("auto"),
    )
    .option("--chromium <path>", "Chromium executable")
    .option("--cache-dir <dir>", "runner checkpoint cache", defaultCheckpointCacheDir())
    .option("--no-runner", "start only the API and the dashboard")
    .option("--json", "runner events as JSON lines")
    .option("--run <id>", "print this run's dashboard page first (the demo's hand-off)")
    .action(async function runDev(options) {
      const port = parseInteger(options.port, "--port", 1, 65535);
      const pages = parseInteger(options.pages, "--pages", 1, 64);
      // Another stack on the port would answer our readiness check: refuse instead of attaching.
      await ensurePortFree(port);
      const api = await startLocalApi({ port, persistTo: options.persistTo, quiet: true });
      // However this process ends, the API it started ends with it.
      process.once("exit", () => api.process.kill("SIGTERM"));
      const admin = new EvalsClient({ baseUrl: api.url, token: api.adminToken });
      const submit = await admin.createToken({ role: "submit", name: "evals dev" });
      if (options.run) {
        try {
          await admin.getRun(options.run);
        } catch {
          await api.stop();
          throw new EvalsError(
            `--run ${options.run}: no such run in ${options.persistTo}; \`evals runs\` lists the runs there`,
          );
        }
      }
      let runner: Runner | null = null;
      if (options.runner !== false) {
        const runnerToken = (await admin.createToken({ role: "runner", name: "evals dev runner" }))
          .token;
        runner = runnerFromOptions(options, {
          api: api.url,
          token: runnerToken,
          once: false,
          maxIdleMs: 2_000,
        });
      }
      process.stdout.write(
        [
          "",
          `  API        ${api.url}   (OpenAPI: ${api.url}/api/openapi.json)`,
          `  dashboard  ${api.url}/`,
          ...(options.run ? [`  run        ${api.url}/run?id=${options.run}`] : []),
          `  runner     ${runner ? `${pages} page(s), backend ${options.backend}` : "none (--no-runner)"}`,
          `  state      ${options.persistTo}`,
          "",
          "  submit from another shell:",
          `    export EVALS_API=${api.url} EVALS_TOKEN=${submit.token}`,
          "    npx evals submit --model <ckpt> --recurrences 1,4,16,32 --wait",
          "",
          "  Ctrl-C stops everything.",
          "",
        ].join("\n"),
      );
      let stopping = false;
      const stopped = new Promise<void>((done) => {
        const onSignal = () => {
          if (stopping) process.exit(130);
          stopping = true;
          runner?.stop("release", "Ctrl-C");
          if (!runner) done();
        };
        process.on("SIGINT", onSignal);
        process.on("SIGTERM", onSignal);
      });
      try {
        await (runner ? runner.run() : stopped);
      } finally {
        await api.stop();
      }
    });
}
