// One loglikelihood task at every r on onnxruntime-node: build each document's requests, encode
// them as lm-eval's HF model does, score them (shared contexts prefilled once), and turn each
// document's log-probabilities into a sample record with lm-eval's metrics.
import type { LoadedCheckpoint } from "../../runner/engine/load-node.ts";
import {
  encodePair,
  type LoglikelihoodResult,
  scoreLoglikelihoodSweep,
} from "../../runner/engine/loglikelihood.ts";
import { loadGeneralTaskData } from "../data/general-datasets.ts";
import { EvalsError } from "../errors.ts";
import { buildDocumentRequests, loglikelihoodTaskHash } from "../tasks/loglikelihood/render.ts";
import type { LoglikelihoodTaskDefinition } from "../tasks/loglikelihood/types.ts";
import { sha256Hex } from "../tasks/render.ts";
import { type LocalRunContext, runTaskBatches } from "./local-batches.ts";
import { loglikelihoodSampleFields } from "./loglikelihood-sample.ts";
import type { SampleRecord } from "./records.ts";

export interface LoglikelihoodRunOptions {
  recurrences: number[];
  limit?: number;
  numFewshot?: number;
  batchSize: number;
  dataDir?: string;
  /** One prefill per distinct context (default); false scores every pair alone. */
  reuseContext?: boolean;
  /** Every r of a batch from one forward at the largest (default); false runs each r alone. */
  sweep?: boolean;
}

export async function runLoglikelihoodTask(
  loaded: LoadedCheckpoint,
  task: LoglikelihoodTaskDefinition,
  run: LocalRunContext,
  options: LoglikelihoodRunOptions,
): Promise<SampleRecord[]> {
  if (run.stateInit !== "zeros") {
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
  const docs = await Promise.all(
    documents.map(async (doc) => ({
      ...doc,
      promptHash: await sha256Hex(JSON.stringify(doc.requests)),
      encoded: doc.requests.map((request) =>
        encodePair(loaded.tokenizer, manifest.tokens, request, task.addBos),
      ),
    })),
  );
  return runTaskBatches(run, {
    task: task.name,
    taskHash: await loglikelihoodTaskHash(task, options.numFewshot),
    datasetHash: data.datasetHash,
    generation: { loglikelihood: true, addBos: task.addBos },
    docs,
    recurrences: options.recurrences,
    // Documents go to the engine a few at a time, so shared contexts and batches stay together.
    batchSize: Math.max(1, options.batchSize),
    async compute(batch, recurrences, head) {
      const config = {
        kv: run.kv,
        batchSize: options.batchSize,
        reuseContext: options.reuseContext ?? true,
      };
      const pairs = batch.flatMap((doc) => doc.encoded);
      // Every r from one forward at the largest: prompt-only compute is all prefill.
      const sweeps =
        options.sweep === false
          ? recurrences.map((r) => [r])
          : [[...recurrences].sort((a, b) => a - b)];
      const scored = new Map<number, { results: LoglikelihoodResult[]; ms: number }>();
      for (const rs of sweeps) {
        const started = performance.now();
        const results = await scoreLoglikelihoodSweep(loaded.model, pairs, config, rs);
        // A sweep's wall time is shared equally between its r's.
        const ms = (performance.now() - started) / rs.length;
        for (const [k, r] of rs.entries()) scored.set(r, { results: results[k], ms });
      }
      return recurrences.map((r) => {
        const { results, ms } = scored.get(r)!;
        let at = 0;
        return batch.map((doc, i) => {
          const own = results.slice(at, at + doc.requests.length);
          at += doc.requests.length;
          return {
            ...head(r, i, ms / batch.length),
            ...loglikelihoodSampleFields(task, manifest, r, doc, own),
          };
        });
      });
    },
  });
}
