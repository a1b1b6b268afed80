// `evals local`: the whole evaluation in-process on onnxruntime-node, no API needed.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import cliProgress from "cli-progress";
import { type Command, Option } from "commander";
import { EvalsError } from "../errors.ts";
import { lmEvalExport } from "../run/lm-eval-export.ts";
import { runLocal } from "../run/local-run.ts";
import { formatResultsTable } from "../run/table.ts";
import {
  expandTaskGroups,
  getLoglikelihoodTask,
  listLoglikelihoodTasks,
} from "../tasks/loglikelihood/registry.ts";
import { getTask } from "../tasks/registry.ts";
import { parseInteger, parseNameList, parseRecurrenceList } from "./parse.ts";
import { resultsCsv } from "./results.ts";

export function registerLocalCommand(program: Command): void {
  program
    .command("local")
    .description(
      "evaluate a checkpoint in-process on onnxruntime-node and write the result records",
    )
    .requiredOption("--model <ckpt>", "checkpoint directory (evals export --out)")
    .option("--recurrences <list>", "recurrence counts, e.g. 1,4,16,32", "1")
    .option("--tasks <list>", "tasks, e.g. gsm8k_cot_sean,gsm8k", "gsm8k_cot_sean")
    .option("--limit <n>", "first n documents of each task")
    .option("--num-fewshot <k>", "override the tasks' few-shot count")
    .addOption(
      new Option("--kv <strategy>", "KV cache strategy")
        .choices(["full", "shared"])
        .default("full"),
    )
    .addOption(
      new Option("--state-init <init>", "initial state")
        .choices(["zeros", "normal"])
        .default("zeros"),
    )
    .option("--seed <n>", "seed of the initial state", "0")
    .option("--batch-size <b>", "prompts per batch", "4")
    .option("--max-gen-toks <n>", "cap on generated tokens (below the task's own)")
    .option(
      "--data <dir>",
      "dataset directory (else $EVALS_DATA_DIR, ../shared/datasets, the HF cache)",
    )
    .option("--output <file.json>", "where to write the results (default .evals/runs/<time>.json)")
    .option("--json", "print the results JSON on stdout instead of the table")
    .addOption(
      new Option("--format <format>", "what to print: the table, CSV, or lm-eval's results JSON")
        .choices(["table", "csv", "lm-eval"])
        .default("table"),
    )
    .option(
      "--no-context-reuse",
      "loglikelihood tasks: score every pair alone (same numbers, slower)",
    )
    .action(async function runLocalCommand(options) {
      const tasks = parseNameList(options.tasks, "--tasks");
      for (const task of expandTaskGroups(tasks)) {
        if (getLoglikelihoodTask(task)) continue;
        try {
          getTask(task);
        } catch (error) {
          throw new EvalsError(
            `${(error as Error).message}, and the loglikelihood tasks ${listLoglikelihoodTasks().join(", ")}`,
          );
        }
      }
      const recurrences = parseRecurrenceList(options.recurrences);
      const progress = process.stderr.isTTY
        ? new cliProgress.SingleBar(
            { format: "{task} r={r} [{bar}] {value}/{total}", stream: process.stderr },
            cliProgress.Presets.shades_classic,
          )
        : null;
      let current = "";
      const results = await runLocal({
        model: options.model,
        tasks,
        recurrences,
        limit: options.limit === undefined ? undefined : parseInteger(options.limit, "--limit", 1),
        numFewshot:
          options.numFewshot === undefined
            ? undefined
            : parseInteger(options.numFewshot, "--num-fewshot", 0),
        kv: options.kv,
        stateInit: options.stateInit,
        seed: parseInteger(options.seed, "--seed"),
        batchSize: parseInteger(options.batchSize, "--batch-size", 1, 1024),
        maxGenToks:
          options.maxGenToks === undefined
            ? undefined
            : parseInteger(options.maxGenToks, "--max-gen-toks", 1),
        dataDir: options.data,
        reuseContext: options.contextReuse,
        onProgress: ({ task, recurrences: r, done, total }) => {
          const key = `${task}/${r}`;
          if (progress) {
            if (key !== current) {
              if (current) progress.stop();
              progress.start(total, 0, { task, r });
              current = key;
            }
            progress.update(done, { task, r });
          } else if (done === total) {
            process.stderr.write(`${task} r=${r}: ${total} documents done\n`);
          }
        },
      });
      progress?.stop();
      const output =
        options.output ??
        join(".evals", "runs", `${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
      mkdirSync(dirname(output), { recursive: true });
      writeFileSync(output, `${JSON.stringify(results, null, 1)}\n`);
      if (options.json) {
        process.stdout.write(`${JSON.stringify(results)}\n`);
      } else if (options.format === "csv") {
        process.stdout.write(resultsCsv(results));
      } else if (options.format === "lm-eval") {
        process.stdout.write(`${JSON.stringify(lmEvalExport(results), null, 2)}\n`);
      } else {
        process.stdout.write(`${formatResultsTable(results.aggregates)}\n\nrecords: ${output}\n`);
      }
    });
}
