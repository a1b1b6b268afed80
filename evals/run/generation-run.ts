// One generation task at every r on onnxruntime-node: build lm-eval's prompts, fit each to the
// window, generate batch by batch, and score every completion with the task's scorer.
import { flopsForSample } from "../../model/flops.ts";
import { generateSweep, type SweepGeneration } from "../../runner/engine/generate.ts";
import type { LoadedCheckpoint } from "../../runner/engine/load-node.ts";
import { fitPrompt } from "../../runner/engine/prompt-window.ts";
import { loadTaskData } from "../data/datasets.ts";
import { buildRequests, sha256Hex, taskHash } from "../tasks/render.ts";
import type { TaskDefinition } from "../tasks/types.ts";
import { type LocalRunContext, runTaskBatches } from "./local-batches.ts";
import type { SampleRecord } from "./records.ts";

export interface GenerationRunOptions {
  recurrences: number[];
  limit?: number;
  numFewshot?: number;
  batchSize: number;
  dataDir?: string;
  /** Caps generation below the task's max_gen_toks (for quick runs). */
  maxGenToks?: number;
  /** Every r of a batch from one prefill at the largest (default); false prefills each r alone. */
  sweep?: boolean;
}

export async function runGenerationTask(
  loaded: LoadedCheckpoint,
  task: TaskDefinition,
  run: LocalRunContext,
  options: GenerationRunOptions,
): Promise<SampleRecord[]> {
  const { manifest } = loaded.model;
  const data = await loadTaskData(task, { dataDir: options.dataDir });
  const requests = await buildRequests(task, data.docs, data.fewshotPool, {
    numFewshot: options.numFewshot,
    limit: options.limit,
  });
  const maxNewTokens = Math.min(task.maxGenToks, options.maxGenToks ?? task.maxGenToks);
  const docs = await Promise.all(
    requests.map(async (request) => ({
      ...request,
      promptHash: await sha256Hex(request.prompt),
      window: fitPrompt(
        loaded.tokenizer.encodePrompt(request.prompt),
        manifest.architecture.max_position_embeddings,
        maxNewTokens,
      ),
    })),
  );
  const decode = (ids: readonly number[]) => loaded.tokenizer.decode(ids);
  return runTaskBatches(run, {
    task: task.name,
    taskHash: await taskHash(task, options.numFewshot),
    datasetHash: data.datasetHash,
    generation: { until: task.until, maxNewTokens },
    docs,
    recurrences: options.recurrences,
    batchSize: options.batchSize,
    promptLengths: docs.map((doc) => doc.window.ids.length),
    async compute(batch, recurrences, head) {
      const config = {
        maxNewTokens,
        kv: run.kv,
        stateInit: run.stateInit,
        stopIds: loaded.stopIds,
        stopStrings: task.until,
      };
      const requests = batch.map((doc) => ({ promptIds: doc.window.ids, seed: run.seed }));
      // One prefill at the largest r serves every r; each r then decodes on its own.
      const sweeps =
        options.sweep === false
          ? recurrences.map((r) => [r])
          : [[...recurrences].sort((a, b) => a - b)];
      const runs = new Map<number, SweepGeneration>();
      for (const rs of sweeps) {
        for (const done of await generateSweep(loaded.model, requests, config, rs, decode))
          runs.set(done.recurrences, done);
      }
      return recurrences.map((r) => {
        const { results, ms } = runs.get(r)!;
        return results.map((result, i) => {
          const doc = batch[i];
          const promptTokens = doc.window.ids.length;
          const score = task.score(result.text, doc.gold);
          return {
            ...head(r, i, ms / batch.length),
            completion: result.text,
            prompt_tokens: promptTokens,
            generated_tokens: result.ids.length,
            prompt_truncated: doc.window.truncated,
            // The model's compute at r by the FLOPs formula, whether or not a sweep shared it.
            flops: flopsForSample(manifest, r, promptTokens, result.ids.length),
            extracted: score.extracted,
            metrics: score.metrics,
          };
        });
      });
    },
  });
}
