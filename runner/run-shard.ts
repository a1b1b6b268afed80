// One leased shard on one engine: tokenize, fit each prompt to the window, generate batch by
// batch, and post each batch's completions while the next one generates (a crash loses at most
// two batches, not the shard). Scores are the API's business: the runner only reports what the model wrote.
import { ApiError, type EvalsClient } from "../worker/client.ts";
import type { Lease, ResultIn } from "../worker/protocol.ts";
import { retryApi } from "./api-retry.ts";
import type { EngineBackend } from "./backends.ts";
import { batchesByLength } from "./engine/length-batches.ts";
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

export async function runShard(job: ShardJob): Promise<ShardOutcome> {
  const { lease, engine, client } = job;
  const { generation } = lease;
  const { heartbeat } = job;
  const started = performance.now();
  let samples = 0;
  let tokens = 0;
  // Each batch's post runs while the next batch generates; at most one is in flight.
  let posting: Promise<ShardOutcome | null> = Promise.resolve(null);
  const post = (results: ResultIn[], generatedTokens: number) =>
    retryApi(() => client.postResults(lease.lease_id, results), {
      what: `posting results of shard ${lease.shard.id}`,
      onRetry: (detail, retryInMs) =>
        job.log({ event: "api_unreachable", detail, retry_in_ms: retryInMs }),
    }).then(
      () => {
        samples += results.length;
        tokens += generatedTokens;
        job.log({
          event: "progress",
          page: job.page,
          shard: lease.shard.id,
          task: lease.shard.task,
          r: generation.recurrences,
          done: samples,
          total: lease.prompts.length,
          tokens_per_s: tokens / ((performance.now() - started) / 1000),
          backend: engine.name,
        });
        return null;
      },
      (error: unknown): ShardOutcome => {
        if (error instanceof ApiError && (error.status === 409 || error.status === 404))
          return { kind: "lease_lost", samples, tokens, detail: error.message };
        throw error;
      },
    );
  const windows = (await engine.encode(lease.prompts.map((p) => p.prompt))).map((ids) =>
    fitPrompt(ids, engine.manifest.architecture.max_position_embeddings, generation.max_new_tokens),
  );
  const config = {
    recurrences: generation.recurrences,
    maxNewTokens: generation.max_new_tokens,
    kv: generation.kv,
    stateInit: generation.state_init,
    stopIds: engine.stopIds,
    stopStrings: generation.until,
  };
  // Batches of similar prompt lengths pad less; the API keys each result by its doc, not order.
  for (const indices of batchesByLength(
    windows.map((w) => w.ids.length),
    job.batchSize,
  )) {
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
    const batch = indices.map((i) => lease.prompts[i]);
    const t0 = performance.now();
    const generated = await engine.generate(
      indices.map((i) => ({ promptIds: windows[i].ids, seed: generation.seed })),
      config,
    );
    const msPerSample = (performance.now() - t0) / batch.length;
    const results: ResultIn[] = generated.map((result, i) => ({
      doc_id: batch[i].doc_id,
      recurrences: generation.recurrences,
      completion: result.text,
      prompt_tokens: windows[indices[i]].ids.length,
      generated_tokens: result.ids.length,
      prompt_truncated: windows[indices[i]].truncated,
      backend: engine.name,
      device: engine.adapter,
      runner_version: job.runnerVersion,
      timings: { ms: Math.round(msPerSample) },
    }));
    const lost = await posting;
    if (lost) return lost;
    posting = post(
      results,
      generated.reduce((n, r) => n + r.ids.length, 0),
    );
    // Awaited at the next batch; until then a failure must not count as unhandled.
    posting.catch(() => {});
  }
  const lost = await posting;
  if (lost) return lost;
  return { kind: "done", samples, tokens };
}
