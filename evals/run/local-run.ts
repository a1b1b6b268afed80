// A whole evaluation in-process on onnxruntime-node, without the API: tasks × recurrences over a
// checkpoint, writing the same records the distributed path writes. For CPU-only CI and demos.
import { loadNodeCheckpoint } from "../../runner/engine/load-node.ts";
import type { KvStrategy } from "../../runner/engine/recurrent-model.ts";
import { expandTaskGroups, getLoglikelihoodTask } from "../tasks/loglikelihood/registry.ts";
import { getTask } from "../tasks/registry.ts";
import { aggregateSamples } from "./aggregate.ts";
import { runGenerationTask } from "./generation-run.ts";
import type { LocalRunContext, ProgressEvent } from "./local-batches.ts";
import { runLoglikelihoodTask } from "./loglikelihood-run.ts";
import type { RunResults, SampleRecord } from "./records.ts";
import { checkpointIdentity, keyedBackend } from "./result-key.ts";
import type { RunJournal } from "./run-journal.ts";

export const RUNNER_VERSION = "evals-local/0.1.0";

export interface LocalRunOptions {
  model: string;
  tasks: string[];
  recurrences: number[];
  limit?: number;
  numFewshot?: number;
  kv: KvStrategy;
  stateInit: "zeros" | "normal";
  seed: number;
  batchSize: number;
  dataDir?: string;
  /** Caps generation below the task's max_gen_toks (for quick runs). */
  maxGenToks?: number;
  threads?: number;
  /** Loglikelihood tasks: one prefill per shared context (default true). */
  reuseContext?: boolean;
  /** Every r of a batch from one prefill at the largest r (default true; same records). */
  sweep?: boolean;
  /** Where finished records go as they finish, and where an interrupted run's come back from. */
  journal?: RunJournal;
  onProgress?: (event: ProgressEvent) => void;
}

export async function runLocal(options: LocalRunOptions): Promise<RunResults> {
  const loaded = await loadNodeCheckpoint(options.model, { threads: options.threads });
  const { manifest } = loaded.model;
  const graphs = [manifest.graphs.prelude, manifest.graphs.block, manifest.graphs.coda].flatMap(
    (g) => (g ? [g.sha256] : []),
  );
  const adapter = manifest.adapter
    ? `${manifest.adapter.init}${manifest.adapter.seed !== null ? `:seed=${manifest.adapter.seed}` : ""}`
    : "none";
  const run: LocalRunContext = {
    checkpoint: await checkpointIdentity(manifest),
    kv: options.kv,
    stateInit: options.stateInit,
    seed: options.seed,
    record: { backend: "node", dtype: manifest.dtype, adapter, runner_version: RUNNER_VERSION },
    keyBackend: keyedBackend(manifest, "node"),
    journal: options.journal,
    onProgress: options.onProgress,
  };
  const samples: SampleRecord[] = [];
  for (const name of expandTaskGroups(options.tasks)) {
    const general = getLoglikelihoodTask(name);
    samples.push(
      ...(general
        ? await runLoglikelihoodTask(loaded, general, run, options)
        : await runGenerationTask(loaded, getTask(name), run, options)),
    );
  }

  return {
    format: "evals-run-1",
    created_at: new Date().toISOString(),
    config: {
      model: options.model,
      checkpoint_name: manifest.name,
      checkpoint_graphs: graphs,
      tasks: options.tasks,
      recurrences: options.recurrences,
      limit: options.limit ?? null,
      num_fewshot: options.numFewshot ?? null,
      kv: options.kv,
      state_init: options.stateInit,
      seed: options.seed,
      dtype: manifest.dtype,
      max_gen_toks: options.maxGenToks ?? null,
    },
    aggregates: aggregateSamples(samples),
    samples,
  };
}
