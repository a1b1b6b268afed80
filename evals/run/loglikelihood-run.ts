// One loglikelihood task at every r on onnxruntime-node: build each document's requests, encode
// them as lm-eval's HF model does, score them (shared contexts prefilled once), and turn each
// document's log-probabilities into a sample record with lm-eval's metrics.
import { flopsForSample } from "../../model/flops.ts";
import type { LoadedCheckpoint } from "../../runner/engine/load-node.ts";
import { encodePair, scoreLoglikelihood } from "../../runner/engine/loglikelihood.ts";
import type { KvStrategy } from "../../runner/engine/recurrent-model.ts";
import { loadGeneralTaskData } from "../data/general-datasets.ts";
import { EvalsError } from "../errors.ts";
import { buildDocumentRequests, loglikelihoodTaskHash } from "../tasks/loglikelihood/render.ts";
import { scoreDocument } from "../tasks/loglikelihood/score.ts";
import type { LoglikelihoodTaskDefinition } from "../tasks/loglikelihood/types.ts";
import { sha256Hex } from "../tasks/render.ts";
import type { SampleRecord } from "./records.ts";
import { resultKey } from "./result-key.ts";
import type { RunJournal } from "./run-journal.ts";

export interface LoglikelihoodRunOptions {
  recurrences: number[];
  limit?: number;
  numFewshot?: number;
  kv: KvStrategy;
  stateInit: "zeros" | "normal";
  seed: number;
  batchSize: number;
  dataDir?: string;
  /** One prefill per distinct context (default); false scores every pair alone. */
  reuseContext?: boolean;
  /** Fields every record of the run shares. */
  record: Pick<SampleRecord, "backend" | "dtype" | "adapter" | "runner_version">;
  /** `checkpointIdentity(manifest)` of the loaded checkpoint. */
  checkpoint: string;
  /** Where finished records go as they finish, and where an interrupted run's come back from. */
  journal?: RunJournal;
  onProgress?: (event: { task: string; recurrences: number; done: number; total: number }) => void;
}

export async function runLoglikelihoodTask(
  loaded: LoadedCheckpoint,
  task: LoglikelihoodTaskDefinition,
  options: LoglikelihoodRunOptions,
): Promise<SampleRecord[]> {
  if (options.stateInit !== "zeros") {
    throw new EvalsError(
      `${task.name} scores log-probabilities with the state initialised to zeros; run it with --state-init zeros`,
    );
  }
  const { manifest } = loaded.model;
  const data = await loadGeneralTaskData(task, {
    dataDir: options.dataDir,
    numFewshot: options.numFewshot,
  });
  const documents = await buildDocumentRequests(task, data.docs, data.fewshotPool, {
    numFewshot: options.numFewshot,
    limit: options.limit,
    fewshotFromSameSplit: data.fewshotFromSameSplit,
  });
  const hash = await loglikelihoodTaskHash(task, options.numFewshot);
  const encoded = documents.map((doc) =>
    doc.requests.map((request) =>
      encodePair(loaded.tokenizer, manifest.tokens, request, task.addBos),
    ),
  );
  const promptHashes = await Promise.all(
    documents.map((doc) => sha256Hex(JSON.stringify(doc.requests))),
  );
  const samples: SampleRecord[] = [];
  // Documents go to the engine a few at a time, so shared contexts and batches stay together.
  const docsPerCall = Math.max(1, options.batchSize);
  for (const r of options.recurrences) {
    for (let start = 0; start < documents.length; start += docsPerCall) {
      const chunk = documents.slice(start, start + docsPerCall);
      const keys = await Promise.all(
        chunk.map((doc, i) =>
          resultKey({
            checkpoint: options.checkpoint,
            taskHash: hash,
            datasetFiles: [data.datasetHash],
            docHash: doc.docHash,
            promptHash: promptHashes[start + i],
            recurrences: r,
            generation: { loglikelihood: true, addBos: task.addBos },
            stateInit: options.stateInit,
            seed: options.seed,
            kv: options.kv,
            dtype: manifest.dtype,
          }),
        ),
      );
      const progress = {
        task: task.name,
        recurrences: r,
        done: Math.min(start + chunk.length, documents.length),
        total: documents.length,
      };
      // A chunk is resumed whole or scored whole, so its records never depend on where a run stopped.
      const resumed = keys.map((key) => options.journal?.done.get(key));
      if (resumed.every((record) => record !== undefined)) {
        samples.push(...(resumed as SampleRecord[]));
        options.onProgress?.(progress);
        continue;
      }
      const pairs = encoded.slice(start, start + docsPerCall).flat();
      const started = performance.now();
      const results = await scoreLoglikelihood(loaded.model, pairs, {
        recurrences: r,
        kv: options.kv,
        batchSize: options.batchSize,
        reuseContext: options.reuseContext ?? true,
      });
      const ms = (performance.now() - started) / chunk.length;
      let at = 0;
      const finished: SampleRecord[] = [];
      for (const [i, doc] of chunk.entries()) {
        const own = results.slice(at, at + doc.requests.length);
        at += doc.requests.length;
        const score = scoreDocument(task, doc, own);
        // A loglikelihood sample is prompt-only compute: every request's input tokens, once.
        const flops = own.reduce(
          (sum, res) => sum + flopsForSample(manifest, r, res.inputTokens, 0),
          0,
        );
        finished.push({
          key: keys[i],
          task: task.name,
          task_hash: hash,
          doc_index: doc.docIndex,
          doc_id: doc.docId,
          doc_hash: doc.docHash,
          recurrences: r,
          prompt_hash: promptHashes[start + i],
          completion: score.completion,
          prompt_tokens: own.reduce((sum, res) => sum + res.inputTokens, 0),
          generated_tokens: 0,
          prompt_truncated: own.some((res) => res.truncated),
          flops,
          kv: options.kv,
          state_init: options.stateInit,
          seed: options.seed,
          ...options.record,
          ms: Math.round(ms),
          extracted: score.extracted,
          metrics: score.metrics,
          loglikelihoods: own.map((res) => ({
            logprob: res.logprob,
            is_greedy: res.isGreedy,
            tokens: res.continuationTokens,
          })),
        });
      }
      options.journal?.append(finished);
      samples.push(...finished);
      options.onProgress?.(progress);
    }
  }
  return samples;
}
