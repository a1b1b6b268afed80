// Results for a held lease: validated against the shard, scored here, stored once per
// (run, task, doc, r). The insert itself re-checks the lease inside the same transaction, so a
// runner whose lease just expired cannot slip results in after another runner took the shard.
import type { z } from "zod";
import { graphVariantIdentity } from "../../evals/run/result-key.ts";
import type { Principal } from "../auth/principal.ts";
import type { Env } from "../env.ts";
import { badRequest } from "../http-error.ts";
import type { ResultsAccepted, ResultsPostSchema } from "../protocol.ts";
import { sampleKey } from "../runs/create-run.ts";
import { loadRunContext } from "../runs/run-context.ts";
import { groupCommit } from "../storage/group-commit.ts";
import { chunkJson } from "../storage/json-rows.ts";
import { findLeasedShard, isHeld, type LeasedShard, notHeld } from "./held-lease.ts";
import { recallLease } from "./lease-cache.ts";
import { finishRuns } from "./lease-shard.ts";
import { checkLoglikelihoodResult, scoreLoglikelihoodResult } from "./loglikelihood-record.ts";
import { checkClaimedCounts, type RunDoc, scoreResult } from "./sample-record.ts";

const SAMPLE_COLUMNS = [
  "run_id",
  "task",
  "doc_index",
  "recurrences",
  "result_key",
  "record",
  "correct",
  "trusted",
  "runner",
  "reused",
  "created_at",
];

export async function postResults(
  env: Env,
  principal: Principal,
  leaseId: string,
  body: z.output<typeof ResultsPostSchema>,
): Promise<ResultsAccepted> {
  const now = Date.now();
  const remembered = recallLease(leaseId);
  const fromCache =
    remembered?.holder === principal.tokenId &&
    body.results.every((result) => remembered.docs.some((doc) => doc.doc_id === result.doc_id));
  let shard: Omit<LeasedShard, "state" | "lease_id" | "deadline">;
  let docs: RunDoc[];
  if (fromCache && remembered) {
    ({ shard, docs } = remembered);
  } else {
    const leased = await findLeasedShard(env, principal, leaseId);
    const done = leased.state === "done" && leased.lease_id === leaseId;
    if (!done && !isHeld(leased, leaseId, now)) notHeld(leased, leaseId);
    shard = leased;
    docs = await shardDocs(env, leased);
  }

  const byId = new Map(docs.map((doc) => [doc.doc_id, doc]));
  body.results.forEach((result, i) => {
    if (!byId.has(result.doc_id)) {
      throw badRequest(`results.${i}.doc_id: "${result.doc_id}" is not in shard ${shard.id}`);
    }
    if (result.recurrences !== shard.recurrences) {
      throw badRequest(`results.${i}.recurrences: shard ${shard.id} runs r = ${shard.recurrences}`);
    }
  });

  const run = await loadRunContext(env, shard.run_id);
  const { manifest } = run.checkpoint;
  body.results.forEach((result, i) => {
    const variant = result.graph_variant;
    if (variant !== "default" && !manifest.variants?.[variant]) {
      throw badRequest(
        `results.${i}.graph_variant: the checkpoint has no ${variant} graphs; post "default"`,
      );
    }
  });
  const task = run.tasks.get(shard.task)!;
  body.results.forEach((result, i) => {
    const doc = byId.get(result.doc_id)!;
    if (task.kind === "generate") checkClaimedCounts(result, doc, run, task, `results.${i}`);
    else checkLoglikelihoodResult(result, doc, run, task, `results.${i}`);
  });
  const createdAt = new Date(now).toISOString();
  const rows = await Promise.all(
    body.results.map(async (result) => {
      const doc = byId.get(result.doc_id)!;
      const variant = result.graph_variant;
      const key = await sampleKey(
        task,
        run.config,
        run.identity,
        shard.recurrences,
        { docHash: doc.doc_hash, promptHash: doc.prompt_hash },
        variant === "default" ? undefined : graphVariantIdentity(manifest, variant),
      );
      const { record, correct } =
        task.kind === "generate"
          ? scoreResult(run, task, doc, key, result)
          : scoreLoglikelihoodResult(run, task, doc, key, result);
      return {
        run_id: shard.run_id,
        task: shard.task,
        doc_index: doc.doc_index,
        recurrences: shard.recurrences,
        result_key: key,
        record: JSON.stringify(record),
        correct,
        trusted: principal.trusted ? 1 : 0,
        runner: principal.tokenId,
        reused: 0,
        created_at: createdAt,
      };
    }),
  );

  const values = SAMPLE_COLUMNS.map((column) => `json_extract(value, '$.${column}')`).join(", ");
  const stillHeld =
    "EXISTS (SELECT 1 FROM shards WHERE id = ? AND lease_id = ? AND state = 'leased')";
  const inserts = chunkJson(rows).map((chunk) =>
    env.DB.prepare(
      `INSERT OR IGNORE INTO samples (${SAMPLE_COLUMNS.join(", ")}) SELECT ${values} FROM json_each(?) WHERE ${stillHeld}`,
    ).bind(chunk, shard.id, leaseId),
  );
  const countDone =
    "(SELECT count(*) FROM samples WHERE run_id = shards.run_id AND task = shards.task AND recurrences = shards.recurrences AND doc_index >= shards.doc_start AND doc_index < shards.doc_end)";
  const results = await groupCommit(env.DB).batch([
    ...inserts,
    env.DB.prepare(
      `UPDATE shards SET state = 'done' WHERE id = ? AND lease_id = ? AND state = 'leased' AND ${countDone} >= doc_end - doc_start`,
    ).bind(shard.id, leaseId),
    finishRuns(env, now, shard.run_id),
    env.DB.prepare(
      `SELECT state, lease_id, deadline, ${countDone} AS done_count FROM shards WHERE id = ?`,
    ).bind(shard.id),
  ]);
  const accepted = results
    .slice(0, inserts.length)
    .reduce((sum, result) => sum + (result.meta.changes ?? 0), 0);
  const after = results.at(-1)!.results[0] as Pick<
    LeasedShard,
    "state" | "lease_id" | "deadline"
  > & {
    done_count: number;
  };
  // Nothing stored and the lease is gone: refuse. A shard this lease finished: a repeated post.
  const current = { ...shard, ...after };
  const finishedByThisLease = after.state === "done" && after.lease_id === leaseId;
  if (accepted === 0 && !finishedByThisLease && !isHeld(current, leaseId, now)) {
    notHeld(current, leaseId);
  }
  return {
    accepted,
    duplicates: body.results.length - accepted,
    shard_state: after.state,
    remaining: shard.doc_end - shard.doc_start - after.done_count,
  };
}

async function shardDocs(env: Env, shard: LeasedShard): Promise<RunDoc[]> {
  const { results } = await env.DB.prepare(
    "SELECT doc_index, doc_id, doc_hash, prompt, prompt_hash, gold, length(CAST(prompt AS BLOB)) AS prompt_bytes FROM run_docs WHERE run_id = ? AND task = ? AND doc_index >= ? AND doc_index < ?",
  )
    .bind(shard.run_id, shard.task, shard.doc_start, shard.doc_end)
    .all<RunDoc>();
  return results;
}
