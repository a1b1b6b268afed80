// `evals submit`: validate a checkpoint here, upload what the API lacks, register it and the task
// datasets, create a run; with --wait follow it to the end and print the results table.
import cliProgress from "cli-progress";
import type { Command } from "commander";
import type { RunDetail } from "../../worker/protocol.ts";
import { resolveCheckpoint } from "../api-client/checkpoint-source.ts";
import { runPageUrl } from "../api-client/config.ts";
import { apiTasks, ensureDatasets } from "../api-client/datasets.ts";
import { callApi } from "../api-client/errors.ts";
import { checkPromptFit } from "../api-client/prompt-fit.ts";
import { type UploadSummary, uploadCheckpointFiles } from "../api-client/upload.ts";
import { validateCheckpoint } from "../api-client/validate-checkpoint.ts";
import { waitForRun } from "../api-client/wait.ts";
import { formatResultsTable } from "../run/table.ts";
import { apiOptions, connect } from "./api-options.ts";
import { parseCheckpointName, parseInteger } from "./parse.ts";
import { parseRunOptions, recurrencesForCheckpoint, runOptions } from "./run-options.ts";

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

function shardCount(run: RunDetail): number {
  return run.progress.reduce(
    (sum, p) => sum + Object.values(p.shards).reduce((a, b) => a + b, 0),
    0,
  );
}

export function registerSubmitCommand(program: Command): void {
  const command = program
    .command("submit")
    .description("upload a checkpoint to an evals API and create a run (tasks × recurrences)")
    .requiredOption(
      "--model <model>",
      "checkpoint directory, Hugging Face model directory or hf:org/name[@rev] (with --split)",
    );
  runOptions(command, {})
    .option("--split <P,B,C>", "export a Hugging Face model first: prelude, block, coda layers")
    .option(
      "--name <name>",
      "checkpoint name shown on the dashboard (default: the manifest's, e.g. 'stories260k 1·3·1 random-s0')",
    )
    .option("--shard-size <n>", "documents per shard", "16")
    .option(
      "--data <dir>",
      "dataset directory for files the API lacks (else $EVALS_DATA_DIR, ../shared/datasets, the HF cache)",
    )
    .option("--wait", "follow the run until it ends and print the results table")
    .option("--poll <seconds>", "with --wait: seconds between progress reads", "2")
    .option("--json", "print one JSON object on stdout (run id, url; results with --wait)");
  apiOptions(command).action(async function submitRun(options) {
    const {
      tasks,
      recurrences: requested,
      limit,
      numFewshot,
      kv,
      stateInit,
      seed,
      maxGenToks,
    } = parseRunOptions(options, { loglikelihood: true });
    const name = options.name === undefined ? null : parseCheckpointName(options.name);
    const shardSize = parseInteger(options.shardSize, "--shard-size", 1, 1000);
    const pollMs = parseInteger(options.poll, "--poll", 0, 3600) * 1000;

    const { target, client } = connect(options, true);
    const api = <T>(doing: string, call: () => Promise<T>) => callApi(target.url, doing, call);
    // Reachability, task names and the token before any export, hashing or upload.
    const taskInfos = await api("listing tasks", () => apiTasks(client, target.url, tasks));
    // Also the token's role: listing datasets needs the submit role that everything below needs.
    const held = (await api("listing datasets", () => client.listDatasets())).datasets;

    const resolved = await resolveCheckpoint(options.model, options.split, log);
    const checkpoint = await validateCheckpoint(resolved.dir);
    // --name renames the registered manifest only; the graphs and their hashes stay as exported.
    const manifest = name ? { ...checkpoint.manifest, name } : checkpoint.manifest;
    const { recurrences, note } = recurrencesForCheckpoint(manifest, requested);
    if (note) log(note);
    const totalBytes = checkpoint.files.reduce((sum, f) => sum + f.bytes, 0);
    log(
      `checkpoint ${manifest.name} (${resolved.dir}): ${checkpoint.files.length} files, ` +
        `${formatBytes(totalBytes)}, hashes, graph inputs/outputs and numeric check verified`,
    );
    // Prompts that do not fit the window are cut by every runner: said before the run, not after.
    try {
      const fit = await checkPromptFit(resolved.dir, manifest, {
        tasks,
        limit,
        numFewshot,
        maxGenToks,
        dataDir: options.data,
      });
      for (const line of fit) log(line);
    } catch (error) {
      log(`note: prompt lengths not checked (${error instanceof Error ? error.message : error})`);
    }

    const bar = process.stderr.isTTY
      ? new cliProgress.SingleBar(
          {
            format: "upload [{bar}] {percentage}% {done}/{size} {file}",
            stream: process.stderr,
            hideCursor: false,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
    let uploads: UploadSummary;
    try {
      uploads = await api("uploading the checkpoint", () =>
        uploadCheckpointFiles(client, checkpoint.files, {
          onStart: (total) =>
            bar?.start(total, 0, { done: formatBytes(0), size: formatBytes(total), file: "" }),
          onBytes: (done, file) => bar?.update(done, { done: formatBytes(done), file }),
        }),
      );
    } finally {
      bar?.stop();
    }
    log(
      `uploaded ${uploads.uploaded.length} files (${formatBytes(uploads.bytesSent)}); ` +
        `${uploads.present.length} already on the server`,
    );
    const registered = await api("registering the checkpoint", () =>
      client.registerCheckpoint({ manifest }),
    );
    const datasets = await api("registering task datasets", () =>
      ensureDatasets(client, taskInfos, held, options.data, numFewshot),
    );
    const pins: Record<string, string> = {};
    for (const dataset of datasets) {
      const note = dataset.canonical ? "" : ` as version ${dataset.id}, which this run pins`;
      log(`registered dataset ${dataset.name} with ${dataset.added.join(", ")}${note}`);
      if (!dataset.canonical) pins[dataset.name] = dataset.id;
    }
    const created = await api("creating the run", () =>
      client.createRun({
        checkpoint: registered.id,
        tasks,
        recurrences,
        limit,
        num_fewshot: numFewshot,
        kv,
        state_init: stateInit,
        seed,
        shard_size: shardSize,
        max_gen_toks: maxGenToks,
        ...(Object.keys(pins).length ? { datasets: pins } : {}),
      }),
    );
    const url = runPageUrl(target.url, created.id);
    const summary = {
      run_id: created.id,
      url,
      checkpoint_id: registered.id,
      checkpoint_name: registered.name,
      tasks,
      recurrences,
      shards: shardCount(created),
      reused_samples: created.reused_samples,
      uploaded: uploads.uploaded,
      already_present: uploads.present,
      // A version that did not become canonical is named: this run pins it.
      datasets_registered: datasets.map(({ name, added, id, canonical }) =>
        canonical ? { name, added } : { name, added, pinned: id },
      ),
      ...(resolved.exported ? { exported: { dir: resolved.dir, ...resolved.exported } } : {}),
    };
    if (!options.wait) {
      if (options.json)
        process.stdout.write(`${JSON.stringify({ ...summary, state: created.state })}\n`);
      else {
        process.stdout.write(
          `run ${created.id}: ${summary.shards} shards (${tasks.join(", ")} × r = ${recurrences.join(",")})\n${url}\n`,
        );
      }
      return;
    }

    log(`run ${created.id} created (${summary.shards} shards); waiting for runners — ${url}`);
    // Ctrl-C stops the waiting, not the run: say where to find it later.
    const onInterrupt = () => {
      process.stderr.write(
        `\nstopped waiting; run ${created.id} goes on: \`evals results ${created.id}\` or ${url}\n`,
      );
      process.exit(130);
    };
    process.once("SIGINT", onInterrupt);
    const final = await api("following the run", () =>
      waitForRun(client, created.id, { pollMs, stream: process.stderr }),
    ).finally(() => process.off("SIGINT", onInterrupt));
    const failed = final.failures.filter((f) => f.state === "failed");
    for (const failure of failed) {
      const reason = failure.reasons.at(-1)?.reason ?? "no reason given";
      log(
        `shard ${failure.task} r=${failure.recurrences} docs ${failure.doc_start}-${failure.doc_end - 1} failed: ${reason}`,
      );
    }
    if (final.state !== "finished" || failed.length > 0) process.exitCode = 1;
    if (options.json) {
      process.stdout.write(
        `${JSON.stringify({ ...summary, state: final.state, results: final.aggregates, failures: final.failures })}\n`,
      );
      return;
    }
    process.stdout.write(
      `${formatResultsTable(final.aggregates)}\n\nrun ${final.id} ${final.state}: ${url}\n`,
    );
  });
}
