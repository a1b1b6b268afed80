// `evals local`: the whole evaluation in-process on onnxruntime-node, no API needed.
import { existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import cliProgress from "cli-progress";
import { type Command, Option } from "commander";
import { readCheckpoint } from "../../model/checkpoint.ts";
import { EvalsError } from "../errors.ts";
import { lmEvalExport } from "../run/lm-eval-export.ts";
import { runLocal } from "../run/local-run.ts";
import { journalPathFor, openRunJournal } from "../run/run-journal.ts";
import { formatResultsTable } from "../run/table.ts";
import { parseInteger } from "./parse.ts";
import { resultsCsv } from "./results.ts";
import { parseRunOptions, recurrencesForCheckpoint, runOptions } from "./run-options.ts";
import { writeFileAtomic } from "./write-atomic.ts";

export function registerLocalCommand(program: Command): void {
  const command = program
    .command("local")
    .description(
      "evaluate a checkpoint in-process on onnxruntime-node and write the result records",
    )
    .requiredOption("--model <ckpt>", "checkpoint directory (evals export --out)");
  runOptions(command, { default: "1" })
    .option("--batch-size <b>", "prompts per batch", "4")
    .option(
      "--threads <n>",
      "onnxruntime-node intra-op threads (default 2, or 1 on a 1-core machine)",
    )
    .option(
      "--data <dir>",
      "dataset directory (else $EVALS_DATA_DIR, ../shared/datasets, the HF cache)",
    )
    .option(
      "--output <file.json>",
      "where to write the results (default .evals/runs/<time>.json); started again with the same file, the run resumes",
    )
    .addOption(new Option("--output_path <file.json>").hideHelp())
    .option(
      "--log-samples",
      "also write every sample as one JSON line to <output>.samples.jsonl (lm-eval's --log_samples)",
    )
    .addOption(new Option("--log_samples").hideHelp())
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
      const run = parseRunOptions(options, { loglikelihood: true });
      const threads =
        options.threads === undefined
          ? undefined
          : parseInteger(options.threads, "--threads", 1, 64);
      const { manifest } = await readCheckpoint(options.model);
      const { recurrences, note } = recurrencesForCheckpoint(manifest, run.recurrences);
      if (note) process.stderr.write(`${note}\n`);
      const output: string =
        options.output ??
        options.output_path ??
        join(".evals", "runs", `${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
      const journalPath = journalPathFor(output);
      const journal = openOutput(output, journalPath);
      if (journal.done.size > 0) {
        process.stderr.write(`resuming: ${journal.done.size} records from ${journalPath}\n`);
      }
      const progress = process.stderr.isTTY
        ? new cliProgress.SingleBar(
            { format: "{task} r={r} [{bar}] {value}/{total}", stream: process.stderr },
            cliProgress.Presets.shades_classic,
          )
        : null;
      let current = "";
      const doneAt = new Map<string, number>();
      const results = await runLocal({
        model: options.model,
        tasks: run.tasks,
        recurrences,
        limit: run.limit ?? undefined,
        numFewshot: run.numFewshot ?? undefined,
        kv: run.kv,
        stateInit: run.stateInit,
        seed: run.seed,
        batchSize: parseInteger(options.batchSize, "--batch-size", 1, 1024),
        threads,
        maxGenToks: run.maxGenToks ?? undefined,
        dataDir: options.data,
        reuseContext: options.contextReuse,
        journal,
        // Every r of a batch runs together, so one bar per task counts its (document, r) pairs.
        onProgress: ({ task, recurrences: r, done, total }) => {
          doneAt.set(`${task}/${r}`, done);
          if (progress) {
            const all = recurrences.reduce((sum, x) => sum + (doneAt.get(`${task}/${x}`) ?? 0), 0);
            const label = { task, r: recurrences.join(",") };
            if (task !== current) {
              if (current) progress.stop();
              progress.start(total * recurrences.length, 0, label);
              current = task;
            }
            progress.update(all, label);
          } else if (done === total) {
            process.stderr.write(`${task} r=${r}: ${total} documents done\n`);
          }
        },
      }).catch((error: unknown) => {
        // A run that failed before finishing anything leaves no empty journal behind.
        if (statSync(journalPath).size === 0) rmSync(journalPath, { force: true });
        throw error;
      });
      progress?.stop();
      writeFileAtomic(output, `${JSON.stringify(results, null, 1)}\n`);
      const samplesFile = output.replace(/\.json$/, "") + ".samples.jsonl";
      if (options.logSamples || options.log_samples) {
        writeFileAtomic(samplesFile, results.samples.map((s) => `${JSON.stringify(s)}\n`).join(""));
      }
      // The results file now holds every record; a later run with this --output starts afresh.
      rmSync(journalPath, { force: true });
      if (options.json) {
        process.stdout.write(`${JSON.stringify(results)}\n`);
      } else if (options.format === "csv") {
        process.stdout.write(resultsCsv(results));
      } else if (options.format === "lm-eval") {
        process.stdout.write(`${JSON.stringify(lmEvalExport(results), null, 2)}\n`);
      } else {
        const logged = options.logSamples || options.log_samples ? `\nsamples: ${samplesFile}` : "";
        process.stdout.write(
          `${formatResultsTable(results.aggregates)}\n\nrecords: ${output}${logged}\n`,
        );
      }
    });
}

/** Checks `output` can be written before any work, and opens the run's journal beside it. */
function openOutput(output: string, journalPath: string) {
  if (existsSync(output) && !statSync(output).isFile()) {
    throw new EvalsError(`--output ${output} is a directory; give a file name such as run.json`);
  }
  try {
    mkdirSync(dirname(output), { recursive: true });
  } catch (error) {
    throw new EvalsError(
      `--output ${output}: cannot create ${dirname(output)} (${(error as NodeJS.ErrnoException).code}); choose a writable path`,
      { cause: error },
    );
  }
  return openRunJournal(journalPath);
}
