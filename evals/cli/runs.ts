// `evals runs`: the runs an API holds (all of them with a submit token, else the published ones).
import type { Command } from "commander";
import type { RunSummary } from "../../worker/protocol.ts";
import { runPageUrl } from "../api-client/config.ts";
import { callApi } from "../api-client/errors.ts";
import { formatTable } from "../run/table.ts";
import { apiOptions, connect } from "./api-options.ts";

function runRow(run: RunSummary): string[] {
  const { config } = run;
  return [
    run.id,
    run.state + (run.published ? ", published" : "") + (run.verified ? ", verified" : ""),
    run.checkpoint_name,
    run.checkpoint_id.slice(0, 10),
    config.tasks.join(","),
    config.recurrences.join(","),
    config.limit === null || config.limit === undefined ? "all" : String(config.limit),
    run.created_at.replace("T", " ").slice(0, 19),
  ];
}

export function registerRunsCommand(program: Command): void {
  const command = program
    .command("runs")
    .description("list the runs of an evals API, newest first")
    .option("--json", "print the API's run list as JSON");
  apiOptions(command).action(async function listRuns(options) {
    const { target, client } = connect(options, false);
    const { runs } = await callApi(target.url, "listing runs", () => client.listRuns());
    if (options.json) {
      const withUrls = runs.map((run) => ({ ...run, url: runPageUrl(target.url, run.id) }));
      process.stdout.write(`${JSON.stringify({ runs: withUrls })}\n`);
      return;
    }
    if (runs.length === 0) {
      const scope = target.token ? "" : " published (give a submit token to see all)";
      process.stdout.write(`no${scope} runs at ${target.url}; create one with \`evals submit\`\n`);
      return;
    }
    process.stdout.write(
      `${formatTable(["run", "state", "checkpoint", "hash", "tasks", "r", "limit", "created (UTC)"], runs.map(runRow))}\n`,
    );
  });
  runAction(command, "publish", "publish a finished run: public on the leaderboard and dashboard");
  runAction(command, "cancel", "cancel a run: its queued shards are not leased again");
  runAction(
    command,
    "retry",
    "put an incomplete run's failed shards back in the queue for runners",
  );
}

const DOING = { publish: "publishing", cancel: "cancelling", retry: "retrying" } as const;

/** `evals runs publish|cancel|retry <run>`: one state change with a submit token, one line back. */
function runAction(runs: Command, verb: keyof typeof DOING, description: string): void {
  const command = runs
    .command(verb)
    .description(description)
    .argument("<run>", "run id (evals runs lists them)");
  apiOptions(command).action(async function changeRun(runId: string, _options, self: Command) {
    // `runs` declares --api/--token too and takes them wherever they stand: read both levels.
    const { target, client } = connect(self.optsWithGlobals(), true);
    const run = await callApi(target.url, `${DOING[verb]} run ${runId}`, () =>
      verb === "publish"
        ? client.publishRun(runId)
        : verb === "cancel"
          ? client.cancelRun(runId)
          : client.retryRun(runId),
    );
    const state = `${run.state}${run.published ? ", published" : ""}`;
    const queued =
      verb === "retry"
        ? `, ${run.progress.reduce((sum, p) => sum + p.shards.queued, 0)} shard(s) queued again`
        : "";
    process.stdout.write(`run ${run.id} ${state}${queued}: ${runPageUrl(target.url, run.id)}\n`);
  });
}
