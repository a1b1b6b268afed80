// Results for a held lease: each routed to the lease's shard of its r (one, or a bundle of
// siblings), validated against it, scored here, stored once per (run, task, doc, r). The insert itself re-checks the lease inside the same transaction, so a
// runner whose lease just expired cannot slip results in after another runner took the shard.
import type { z } from "zod";
import { graphVariantIdentity, keyedBackend } from "../../evals/run/result-key.ts";
import type { Principal } from "../auth/principal.ts";
import type { Env } from "../env.ts";
import { badRequest } from "../http-error.ts";
import type { ResultsAccepted, ResultsPostSchema } from "../protocol.ts";
import { sampleKey } from "../runs/create-run.ts";
import { loadRunContext } from "../runs/run-context.ts";
import { groupCommit } from "../storage/group-commit.ts";
import { chunkJson } from "../storage/json-rows.ts";
import { SAMPLE_COLUMNS } from "../storage/sample-columns.ts";
import { findLease, isDoneBy, isHeld, type LeasedShard, notHeld } from "./held-lease.ts";
import { recallLease } from "./lease-cache.ts";
import { finishRuns } from "./lease-shard.ts";
import { checkLoglikelihoodResult, scoreLoglikelihoodResult } from "./loglikelihood-record.ts";
import { checkClaimedCounts, type RunDoc, scoreResult } from "./sample-record.ts";

/** A shard of the lease as results are routed to it. */
type LeaseShard = Omit<LeasedShard, "state" | "lease_id" | "bundle" | "deadline">;

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
    body.results.every(
      (result) =>
        remembered.docs.some((doc) => doc.doc_id === result.doc_id) &&
        remembered.shards.some((shard) => shard.recurrences === result.recurrences),
    );
  let first: LeaseShard;
  let shards: LeaseShard[];
  let docs: RunDoc[];
  if (fromCache && remembered) {
    ({ shard: first, shards, docs } = remembered);
  } else {
    const lease = await findLease(env, principal, leaseId);
    // Results are taken for shards held by this lease, and (as duplicates) for ones it finished;
    // for its other shards (given back, leased again) the insert below stores nothing: 409.
    if (!lease.shards.some((s) => isHeld(s, leaseId) || isDoneBy(s, leaseId))) {
      notHeld(lease.first, leaseId);
    }
    first = lease.first;
    shards = lease.shards;
    docs = await shardDocs(env, lease.first);
  }

  const byId = new Map(docs.map((doc) => [doc.doc_id, doc]));
  const byR = new Map(shards.map((shard) => [shard.recurrences, shard]));
  body.results.forEach((result, i) => {
    if (!byId.has(result.doc_id)) {
      throw badRequest(`results.${i}.doc_id: "${result.doc_id}" is not in shard ${first.id}`);
    }
    if (!byR.has(result.recurrences)) {
      const held = [...byR.keys()].map((r) => `r = ${r}`).join(", ");
      throw badRequest(
        shards.length === 1 && shards[0].id === first.id
          ? `results.${i}.recurrences: shard ${first.id} runs r = ${first.recurrences}`
          : `results.${i}.recurrences: lease ${leaseId} holds ${held || "no shard it can take results for"}, not r = ${result.recurrences}`,
      );
    }
  });

  const run = await loadRunContext(env, first.run_id);
  const { manifest } = run.checkpoint;
  body.results.forEach((result, i) => {
    const variant = result.graph_variant;
    if (variant !== "default" && !manifest.variants?.[variant]) {
      throw badRequest(
        `results.${i}.graph_variant: the checkpoint has no ${variant} graphs; post "default"`,
      );
    }
  });
  const task = run.tasks.get(first.task)!;
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
        result.recurrences,
        { docHash: doc.doc_hash, promptHash: doc.prompt_hash },
        variant === "default" ? undefined : graphVariantIdentity(manifest, variant),
        keyedBackend(manifest, result.backend),
      );
      const { record, correct } =
        task.kind === "generate"
          ? scoreResult(run, task, doc, key, result)
          : scoreLoglikelihoodResult(run, task, doc, key, result);
      return {
        shard_id: byR.get(result.recurrences)!.id,
        run_id: first.run_id,
        task: first.task,
        doc_index: doc.doc_index,
        recurrences: result.recurrences,
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

  // Each row goes in only while its own shard is still held by this lease: a bounded number of
  // statements whatever the bundle's size (one per chunk of rows, one update, one read).
  const values = SAMPLE_COLUMNS.map((column) => `json_extract(value, '$.${column}')`).join(", ");
  const stillHeld =
    "EXISTS (SELECT 1 FROM shards WHERE id = json_extract(value, '$.shard_id') AND bundle = ? AND state = 'leased')";
  const inserts = chunkJson(rows).map((chunk) =>
    env.DB.prepare(
      `INSERT OR IGNORE INTO samples (${SAMPLE_COLUMNS.join(", ")}) SELECT ${values} FROM json_each(?) WHERE ${stillHeld}`,
    ).bind(chunk, leaseId),
  );
  const countDone =
    "(SELECT count(*) FROM samples WHERE run_id = shards.run_id AND task = shards.task AND recurrences = shards.recurrences AND doc_index >= shards.doc_start AND doc_index < shards.doc_end)";
  const ids = JSON.stringify([...new Set([first.id, ...shards.map((shard) => shard.id)])]);
  const results = await groupCommit(env.DB).batch([
    ...inserts,
    env.DB.prepare(
      `UPDATE shards SET state = 'done' WHERE bundle = ? AND state = 'leased' AND ${countDone} >= doc_end - doc_start`,
    ).bind(leaseId),
    finishRuns(env, now, first.run_id),
    env.DB.prepare(
      `SELECT id, recurrences, state, bundle, doc_end - doc_start - ${countDone} AS remaining
       FROM shards WHERE id IN (SELECT value FROM json_each(?)) ORDER BY recurrences`,
    ).bind(ids),
  ]);
  const accepted = results
    .slice(0, inserts.length)
    .reduce((sum, result) => sum + (result.meta.changes ?? 0), 0);
  const after = results.at(-1)!.results as (Pick<
    LeasedShard,
    "id" | "recurrences" | "state" | "bundle"
  > & {
    remaining: number;
  })[];
  // Nothing stored and none of the lease's shards held or finished by it: refuse. Otherwise a
  // repeated post, or one for shards this lease already finished.
  const posted = after.filter((shard) =>
    body.results.some((r) => r.recurrences === shard.recurrences),
  );
  if (accepted === 0 && !posted.some((s) => isHeld(s, leaseId) || isDoneBy(s, leaseId))) {
    notHeld(posted[0] ?? after[0], leaseId);
  }
  const main = after.find((shard) => shard.id === first.id)!;
  return {
    accepted,
    duplicates: body.results.length - accepted,
    shard_state: main.state,
    remaining: main.remaining,
    shards: after
      .filter((shard) => shard.bundle === leaseId)
      .map(({ id, recurrences, state, remaining }) => ({ id, recurrences, state, remaining })),
  };
}

async function shardDocs(env: Env, shard: LeaseShard): Promise<RunDoc[]> {
  const { results } = await env.DB.prepare(
    "SELECT doc_index, doc_id, doc_hash, prompt, prompt_hash, gold, length(CAST(prompt AS BLOB)) AS prompt_bytes FROM run_docs WHERE run_id = ? AND task = ? AND doc_index >= ? AND doc_index < ?",
  )
    .bind(shard.run_id, shard.task, shard.doc_start, shard.doc_end)
    .all<RunDoc>();
  return results;
}
