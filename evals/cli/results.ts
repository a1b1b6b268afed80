// `evals results <run>`: a run's aggregates as a table, the API's run JSON, CSV (one row per
// task × r × metric), or lm-evaluation-harness's results layout (GET /api/runs/{id}/export).
import { existsSync } from "node:fs";
import { type Command, Option } from "commander";
import type { RunDetail } from "../../worker/protocol.ts";
import { runPageUrl } from "../api-client/config.ts";
import { ApiRequestError, callApi } from "../api-client/errors.ts";
import { EvalsError } from "../errors.ts";
import { LmEvalRecurrenceError, lmEvalExport } from "../run/lm-eval-export.ts";
import type { RunResults } from "../run/records.ts";
import { formatResultsTable } from "../run/table.ts";
import { apiOptions, connect } from "./api-options.ts";
import { parseInteger } from "./parse.ts";
import { readResults } from "./results-file.ts";

const CSV_HEADER = [
  "task",
  "recurrences",
  "metric",
  "primary",
  "n",
  "accuracy",
  "stderr",
  "wilson95_low",
  "wilson95_high",
  "mean_flops",
  "mean_generated_tokens",
  "mean_prompt_tokens",
  "backends",
];

function csvCell(value: string | number | boolean): string {
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One row per (task, r, metric); the primary metric first within each (task, r). */
export function resultsCsv(run: Pick<RunDetail, "aggregates">): string {
  const rows = [CSV_HEADER];
  for (const a of run.aggregates) {
    const metrics = Object.keys(a.metrics).sort(
      (x, y) => Number(y === a.primary_metric) - Number(x === a.primary_metric),
    );
    for (const metric of metrics) {
      const m = a.metrics[metric];
      rows.push(
        [
          a.task,
          a.recurrences,
          metric,
          metric === a.primary_metric,
          a.n,
          m.accuracy,
          m.stderr,
          m.ci95[0],
          m.ci95[1],
          a.mean_flops,
          a.mean_generated_tokens,
          a.mean_prompt_tokens,
          a.backends.join(" "),
        ].map(csvCell),
      );
    }
  }
  return `${rows.map((row) => row.join(",")).join("\n")}\n`;
}

function progressLine(run: RunDetail): string {
  const done = run.progress.reduce((sum, p) => sum + p.samples_done, 0);
  const total = run.progress.reduce((sum, p) => sum + p.samples_total, 0);
  const lines = [
    `run ${run.id} (${run.checkpoint_name}, ${run.checkpoint_id.slice(0, 10)}) ${run.state}: ${done}/${total} samples`,
  ];
  for (const source of run.reused_from ?? []) {
    const runner = source.runner_name ?? source.runner ?? "unknown runner";
    lines.push(`  ${source.samples} reused from run ${source.run_id} (runner ${runner})`);
  }
  return lines.join("\n");
}

export function registerResultsCommand(program: Command): void {
  const command = program
    .command("results")
    .description(
      "a run's results: accuracy with a 95% Wilson interval, FLOPs and tokens per task and r",
    )
    .argument(
      "<run>",
      "run id (evals runs lists them), or a results file from evals local --output",
    )
    .addOption(
      new Option("--format <format>", "output format")
        .choices(["table", "json", "csv", "lm-eval"])
        .default("table"),
    )
    .option("--r <n>", "with --format lm-eval: only this recurrence count");
  apiOptions(command).action(async function showResults(runId: string, options) {
    const r = options.r === undefined ? undefined : parseInteger(options.r, "--r", 1, 256);
    if (existsSync(runId) || runId.endsWith(".json")) {
      process.stdout.write(localResults(readResults(runId, "<run>"), runId, options.format, r));
      return;
    }
    const { target, client } = connect(options, false);
    const read = async <T>(call: () => Promise<T>): Promise<T> => {
      try {
        return await callApi(target.url, `reading run ${runId}`, call);
      } catch (error) {
        if (!(error instanceof ApiRequestError && error.status === 404)) throw error;
        const hint = target.token ? "" : " (without a token only published runs are visible)";
        throw new EvalsError(
          `no run "${runId}" at ${target.url}${hint}; \`evals runs\` lists the runs`,
        );
      }
    };
    if (options.format === "lm-eval") {
      const exported = await read(() => client.exportRun(runId, r));
      process.stdout.write(`${JSON.stringify(exported, null, 2)}\n`);
      return;
    }
    const run = await read(() => client.getRun(runId));
    if (options.format === "json") {
      process.stdout.write(`${JSON.stringify({ ...run, url: runPageUrl(target.url, run.id) })}\n`);
    } else if (options.format === "csv") {
      process.stdout.write(resultsCsv(run));
    } else {
      const table = run.aggregates.length
        ? formatResultsTable(run.aggregates)
        : "no results yet (no runner has posted samples)";
      process.stdout.write(`${table}\n\n${progressLine(run)}\n${runPageUrl(target.url, run.id)}\n`);
    }
  });
}

/** `evals results file.json`: the same formats from a local results file, no API involved. */
function localResults(results: RunResults, path: string, format: string, r?: number): string {
  if (format === "json") return `${JSON.stringify(results)}\n`;
  if (format === "csv") return resultsCsv(results);
  if (format === "table") {
    const { config } = results;
    return `${formatResultsTable(results.aggregates)}\n\n${path}: ${config.checkpoint_name}, ${results.samples.length} samples, ${results.created_at}\n`;
  }
  let exported: ReturnType<typeof lmEvalExport>;
  try {
    exported = lmEvalExport(results, r);
  } catch (error) {
    if (error instanceof LmEvalRecurrenceError) throw new EvalsError(`${path}: ${error.message}`);
    throw error;
  }
  return `${JSON.stringify(exported, null, 2)}\n`;
}
