// One lease on one engine: tokenize, fit each prompt to the window, generate batch by batch (or
// score a loglikelihood shard's requests batch by batch), and post each batch's completions while
// the next one generates (a crash loses at most two batches, not the shard). A bundled lease (one
// shard per r of the same documents) runs every r of a batch in one sweep: one prefill at the
// largest r serves the smaller ones. Scores are the API's business: the runner only reports what
// the model wrote.
import { ApiError, type EvalsClient } from "../worker/client.ts";
import type { Lease, ResultIn } from "../worker/protocol.ts";
import { retryApi } from "./api-retry.ts";
import type { EngineBackend } from "./backends.ts";
import { batchesByLength, batchesInOrder } from "./engine/length-batches.ts";
import type { LoglikelihoodResult } from "./engine/loglikelihood.ts";
import { fitPrompt } from "./engine/prompt-window.ts";
import type { Heartbeat } from "./heartbeat.ts";
import type { RunnerLog } from "./runner-log.ts";

export interface ShardJob {
  client: EvalsClient;
  lease: Lease;
  engine: EngineBackend;
  page: number;
  batchSize: number;
  runnerVersion: string;
  log: RunnerLog;
  /** Started when the shard was leased, so that downloads and loading are covered too. */
  heartbeat: Heartbeat;
  /** Asked between batches; true gives the lease back (the runner is stopping). */
  shouldRelease(): boolean;
}

export type ShardOutcome =
  | { kind: "done"; samples: number; tokens: number }
  | { kind: "released"; samples: number; tokens: number }
  | { kind: "lease_lost"; samples: number; tokens: number; detail: string };

/** Most results one post may carry (ResultsPostSchema). */
const MAX_RESULTS_PER_POST = 1000;

/** The r's a lease asks for, ascending: its bundle's, or its one shard's. */
export function leaseRecurrences(lease: Lease): number[] {
  const rs = lease.bundle?.map((shard) => shard.recurrences) ?? [lease.generation.recurrences];
  return [...new Set(rs)].sort((a, b) => a - b);
}

export async function runShard(job: ShardJob): Promise<ShardOutcome> {
  const { lease, engine, client } = job;
  const { heartbeat } = job;
  const started = performance.now();
  const rs = leaseRecurrences(lease);
  const shardOf = new Map(
    (lease.bundle ?? [lease.shard]).map((shard) => [shard.recurrences, shard.id]),
  );
  let samples = 0;
  let tokens = 0;
  const donePerR = new Map(rs.map((r) => [r, 0]));
  // Each batch's post runs while the next batch generates; at most one is in flight.
  let posting: Promise<ShardOutcome | null> = Promise.resolve(null);
  const postAll = async (results: ResultIn[]) => {
    for (let at = 0; at < results.length; at += MAX_RESULTS_PER_POST) {
      const part = results.slice(at, at + MAX_RESULTS_PER_POST);
      await retryApi(() => client.postResults(lease.lease_id, part), {
        what: `posting results of shard ${lease.shard.id}`,
        onRetry: (detail, retryInMs) =>
          job.log({ event: "api_unreachable", detail, retry_in_ms: retryInMs }),
      });
    }
  };
  const post = (results: ResultIn[], generatedTokens: number) =>
    postAll(results).then(
      () => {
        samples += results.length;
        tokens += generatedTokens;
        for (const result of results) {
          donePerR.set(result.recurrences, (donePerR.get(result.recurrences) ?? 0) + 1);
        }
        for (const r of rs) {
          job.log({
            event: "progress",
            page: job.page,
            shard: shardOf.get(r) ?? lease.shard.id,
            task: lease.shard.task,
            r,
            // Every r of a bundled lease, so a reader sees the bundle in each event.
            ...(lease.bundle ? { bundle: rs } : {}),
            done: donePerR.get(r) ?? 0,
            total: lease.prompts.length,
            tokens_per_s: tokens / ((performance.now() - started) / 1000),
            backend: engine.name,
          });
        }
        return null;
      },
      (error: unknown): ShardOutcome => {
        if (error instanceof ApiError && (error.status === 409 || error.status === 404))
          return { kind: "lease_lost", samples, tokens, detail: error.message };
        throw error;
      },
    );
  const work =
    lease.kind === "loglikelihood" ? await loglikelihoodBatches(job) : await generationBatches(job);
  for (const indices of work.batches) {
    if (heartbeat.lost) return { kind: "lease_lost", samples, tokens, detail: heartbeat.lost };
    if (job.shouldRelease()) {
      const lost = await posting;
      if (lost) return lost;
      await retryApi(() => client.releaseLease(lease.lease_id), {
        what: `releasing shard ${lease.shard.id}`,
        giveUpAfterMs: 30_000,
      }).catch(() => {});
      return { kind: "released", samples, tokens };
    }
    const { results, tokens: batchTokens } = await work.run(indices);
    const lost = await posting;
    if (lost) return lost;
    posting = post(results, batchTokens);
    // Awaited at the next batch; until then a failure must not count as unhandled.
    posting.catch(() => {});
  }
  const lost = await posting;
  if (lost) return lost;
  return { kind: "done", samples, tokens };
}

/** The lease's documents in batches (indices into `lease.prompts`), and how to run one batch. */
interface ShardBatches {
  batches: number[][];
  /** Results of the documents at `indices` and the tokens they cost (for the log). */
  run(indices: readonly number[]): Promise<{ results: ResultIn[]; tokens: number }>;
}

/** Generation: each prompt fitted to the window, completions generated batch by batch. */
async function generationBatches(job: ShardJob): Promise<ShardBatches> {
  const { lease, engine } = job;
  const { generation } = lease;
  const rs = leaseRecurrences(lease);
  const windows = (await engine.encode(lease.prompts.map((p) => p.prompt))).map((ids) =>
    fitPrompt(ids, engine.manifest.architecture.max_position_embeddings, generation.max_new_tokens),
  );
  const config = {
    maxNewTokens: generation.max_new_tokens,
    kv: generation.kv,
    stateInit: generation.state_init,
    stopIds: engine.stopIds,
    stopStrings: generation.until,
  };
  // Batches of similar prompt lengths pad less; the API keys each result by its doc, not order.
  const batches = batchesByLength(
    windows.map((w) => w.ids.length),
    job.batchSize,
  );
  async function run(indices: readonly number[]) {
    const batch = indices.map((i) => lease.prompts[i]);
    const requests = indices.map((i) => ({ promptIds: windows[i].ids, seed: generation.seed }));
    const t0 = performance.now();
    // One r: as before; several: one sweep, each r's share of the time its own.
    const sweep =
      rs.length === 1
        ? [
            {
              recurrences: rs[0],
              results: await engine.generate(requests, { ...config, recurrences: rs[0] }),
              ms: performance.now() - t0,
            },
          ]
        : await engine.generateSweep(requests, config, rs);
    const results: ResultIn[] = sweep.flatMap(({ recurrences, results: generated, ms }) =>
      generated.map((result, i) => ({
        doc_id: batch[i].doc_id,
        recurrences,
        completion: result.text,
        prompt_tokens: windows[indices[i]].ids.length,
        generated_tokens: result.ids.length,
        prompt_truncated: windows[indices[i]].truncated,
        backend: engine.name,
        device: engine.adapter,
        graph_variant: engine.graphs.variant ?? "default",
        runner_version: job.runnerVersion,
        timings: { ms: Math.round(ms / batch.length) },
      })),
    );
    return { results, tokens: results.reduce((n, r) => n + r.generated_tokens, 0) };
  }
  return { batches, run };
}

/**
 * Loglikelihood: every request of the batch's documents scored in one engine call (contexts shared
 * by a document's choices prefilled once); the runner posts log-probabilities, the API scores them.
 */
async function loglikelihoodBatches(job: ShardJob): Promise<ShardBatches> {
  const { lease, engine } = job;
  const { generation } = lease;
  const rs = leaseRecurrences(lease);
  const requests = lease.prompts.map((p, i) => {
    if (!p.requests?.length)
      throw new LeaseContentError(`lease ${lease.lease_id}: document ${i} has no requests`);
    return p.requests;
  });
  const encoded = await engine.encodePairs(requests.flat(), generation.add_bos);
  const offsets = requests.map((_, i) => requests.slice(0, i).reduce((n, r) => n + r.length, 0));
  const config = { kv: generation.kv, batchSize: job.batchSize, reuseContext: true };
  async function run(indices: readonly number[]) {
    const batch = indices.map((i) => lease.prompts[i]);
    const pairs = indices.flatMap((i) =>
      encoded.slice(offsets[i], offsets[i] + requests[i].length),
    );
    const t0 = performance.now();
    const perR =
      rs.length === 1
        ? [await engine.loglikelihood(pairs, { ...config, recurrences: rs[0] })]
        : await engine.loglikelihoodSweep(pairs, config, rs);
    // The sweep reports no time per r: each sample gets an equal share of the batch's.
    const msPerSample = (performance.now() - t0) / batch.length / rs.length;
    const results = perR.flatMap((scored, k) => documentResults(batch, indices, scored, rs[k]));
    return { results, tokens: results.reduce((n, r) => n + r.prompt_tokens, 0) };

    function documentResults(
      batch: Lease["prompts"],
      indices: readonly number[],
      scored: LoglikelihoodResult[],
      recurrences: number,
    ): ResultIn[] {
      let at = 0;
      return batch.map((prompt, i) => {
        const own = scored.slice(at, at + requests[indices[i]].length);
        at += own.length;
        return {
          doc_id: prompt.doc_id,
          recurrences,
          completion: "",
          prompt_tokens: own.reduce((n, r) => n + r.inputTokens, 0),
          generated_tokens: 0,
          prompt_truncated: own.some((r) => r.truncated),
          backend: engine.name,
          device: engine.adapter,
          graph_variant: engine.graphs.variant ?? "default",
          runner_version: job.runnerVersion,
          timings: { ms: Math.round(msPerSample) },
          loglikelihoods: own.map((r) => ({
            logprob: r.logprob,
            is_greedy: r.isGreedy,
            input_tokens: r.inputTokens,
            tokens: r.continuationTokens,
            truncated: r.truncated,
          })),
        };
      });
    }
  }
  // The engine sorts a batch's requests longest first itself (as lm-eval does).
  return { batches: batchesInOrder(lease.prompts.length, job.batchSize), run };
}

/** A lease the runner cannot act on (an API that speaks another protocol version). */
export class LeaseContentError extends Error {
  override name = "LeaseContentError";
}
