// A whole evaluation in-process on onnxruntime-node, without the API: tasks × recurrences over a
// checkpoint, writing the same records the distributed path writes. For CPU-only CI and demos.
import { flopsForSample } from "../../model/flops.ts";
import { generateBatch } from "../../runner/engine/generate.ts";
import { batchesByLength } from "../../runner/engine/length-batches.ts";
import { loadNodeCheckpoint } from "../../runner/engine/load-node.ts";
import { fitPrompt } from "../../runner/engine/prompt-window.ts";
import type { KvStrategy } from "../../runner/engine/recurrent-model.ts";
import { loadTaskData } from "../data/datasets.ts";
import { expandTaskGroups, getLoglikelihoodTask } from "../tasks/loglikelihood/registry.ts";
import { getTask } from "../tasks/registry.ts";
import { buildRequests, sha256Hex, taskHash } from "../tasks/render.ts";
import { aggregateSamples } from "./aggregate.ts";
import { runLoglikelihoodTask } from "./loglikelihood-run.ts";
import type { RunResults, SampleRecord } from "./records.ts";
import { checkpointIdentity, resultKey } from "./result-key.ts";
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
  /** Where finished records go as they finish, and where an interrupted run's come back from. */
  journal?: RunJournal;
  onProgress?: (event: { task: string; recurrences: number; done: number; total: number }) => void;
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
  const checkpoint = await checkpointIdentity(manifest);
  const decode = (ids: readonly number[]) => loaded.tokenizer.decode(ids);
  const samples: SampleRecord[] = [];

  for (const taskName of expandTaskGroups(options.tasks)) {
    const general = getLoglikelihoodTask(taskName);
    if (general) {
      samples.push(
        ...(await runLoglikelihoodTask(loaded, general, {
          ...options,
          checkpoint,
          record: {
            backend: "node",
            dtype: manifest.dtype,
            adapter,
            runner_version: RUNNER_VERSION,
          },
        })),
      );
      continue;
    }
    const task = getTask(taskName);
    const data = await loadTaskData(task, { dataDir: options.dataDir });
    const requests = await buildRequests(task, data.docs, data.fewshotPool, {
      numFewshot: options.numFewshot,
      limit: options.limit,
    });
    const hash = await taskHash(task, options.numFewshot);
    const maxNewTokens = Math.min(task.maxGenToks, options.maxGenToks ?? task.maxGenToks);
    const encoded = requests.map((request) =>
      fitPrompt(
        loaded.tokenizer.encodePrompt(request.prompt),
        manifest.architecture.max_position_embeddings,
        maxNewTokens,
      ),
    );
    const promptHashes = await Promise.all(requests.map((r) => sha256Hex(r.prompt)));

    for (const r of options.recurrences) {
      const config = {
        recurrences: r,
        maxNewTokens,
        kv: options.kv,
        stateInit: options.stateInit,
        stopIds: loaded.stopIds,
        stopStrings: task.until,
      };
      // Batches of similar prompt lengths pad less; records go out in document order.
      const byDoc = new Array<SampleRecord>(requests.length);
      let doneCount = 0;
      const batches = batchesByLength(
        encoded.map((e) => e.ids.length),
        options.batchSize,
      );
      for (const indices of batches) {
        const batch = indices.map((i) => requests[i]);
        const keys = await Promise.all(
          batch.map((request, i) =>
            resultKey({
              checkpoint,
              taskHash: hash,
              datasetFiles: [data.datasetHash],
              docHash: request.docHash,
              promptHash: promptHashes[indices[i]],
              recurrences: r,
              generation: { until: task.until, maxNewTokens },
              stateInit: options.stateInit,
              seed: options.seed,
              kv: options.kv,
              dtype: manifest.dtype,
            }),
          ),
        );
        doneCount += batch.length;
        const progress = {
          task: task.name,
          recurrences: r,
          done: doneCount,
          total: requests.length,
        };
        // A batch is resumed whole or run whole, so its records never depend on where a run stopped.
        const resumed = keys.map((key) => options.journal?.done.get(key));
        if (resumed.every((record) => record !== undefined)) {
          for (const [i, record] of resumed.entries()) byDoc[indices[i]] = record as SampleRecord;
          options.onProgress?.(progress);
          continue;
        }
        const started = performance.now();
        const results = await generateBatch(
          loaded.model,
          indices.map((i) => ({ promptIds: encoded[i].ids, seed: options.seed })),
          config,
          decode,
        );
        const ms = (performance.now() - started) / batch.length;
        const finished: SampleRecord[] = [];
        for (const [i, result] of results.entries()) {
          const request = batch[i];
          const promptTokens = encoded[indices[i]].ids.length;
          const score = task.score(result.text, request.gold);
          finished.push({
            key: keys[i],
            task: task.name,
            task_hash: hash,
            doc_index: request.docIndex,
            doc_id: request.docId,
            doc_hash: request.docHash,
            recurrences: r,
            prompt_hash: promptHashes[indices[i]],
            completion: result.text,
            prompt_tokens: promptTokens,
            generated_tokens: result.ids.length,
            prompt_truncated: encoded[indices[i]].truncated,
            flops: flopsForSample(manifest, r, promptTokens, result.ids.length),
            backend: "node",
            kv: options.kv,
            state_init: options.stateInit,
            seed: options.seed,
            dtype: manifest.dtype,
            adapter,
            runner_version: RUNNER_VERSION,
            ms: Math.round(ms),
            extracted: score.extracted,
            metrics: score.metrics,
          });
        }
        options.journal?.append(finished);
        for (const [i, record] of finished.entries()) byDoc[indices[i]] = record;
        options.onProgress?.(progress);
      }
      samples.push(...byDoc);
    }
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
