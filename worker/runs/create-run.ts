// Creating a run: prompts built server-side from registered datasets, result keys computed
// (DESIGN §7), earlier results with the same key reused, shards planned; all in one D1 batch.
import { checkpointIdentity, resultKey } from "../../evals/run/result-key.ts";
import { getTask, UnknownTaskError } from "../../evals/tasks/registry.ts";
import { buildRequests, sha256Hex, TaskDataError, taskHash } from "../../evals/tasks/render.ts";
import type { TaskDefinition, TaskDoc, TaskRequest } from "../../evals/tasks/types.ts";
import type { Principal } from "../auth/principal.ts";
import type { Env } from "../env.ts";
import { badRequest, conflict } from "../http-error.ts";
import type { RunConfig } from "../protocol.ts";
import { loadCheckpoint } from "../storage/checkpoint-store.ts";
import { insertRows } from "../storage/json-rows.ts";
import { findReusableSamples } from "./reuse.ts";
import { maxNewTokens } from "./run-context.ts";
import { planShards } from "./shard-plan.ts";
import { readJsonlBlob, taskDatasetFiles } from "./task-datasets.ts";

export interface PreparedTask {
  task: TaskDefinition;
  taskHash: string;
  datasetId: string;
  /** The dataset files the prompts were built from (name → sha256), pinned by the run. */
  datasetFiles: Record<string, string>;
  numFewshot: number;
  maxNewTokens: number;
  requests: TaskRequest[];
  promptHashes: string[];
}

/** Validates the request against the checkpoint and datasets; returns the new run's id. */
export async function createRun(
  env: Env,
  config: RunConfig,
  principal: Principal,
): Promise<string> {
  const checkpoint = await loadCheckpoint(env, config.checkpoint);
  const dtype = config.dtype ?? checkpoint.manifest.dtype;
  if (dtype !== checkpoint.manifest.dtype) {
    throw badRequest(`dtype: the checkpoint is ${checkpoint.manifest.dtype}, not ${dtype}`);
  }
  const resolved: RunConfig = { ...config, dtype };
  const runId = `run_${crypto.randomUUID()}`;
  const now = new Date().toISOString();
  const identity = await checkpointIdentity(checkpoint.manifest);

  const statements: D1PreparedStatement[] = [
    env.DB.prepare(
      "INSERT INTO runs (id, checkpoint_id, config, state, created_by, created_at) VALUES (?, ?, ?, 'active', ?, ?)",
    ).bind(runId, checkpoint.id, JSON.stringify(resolved), principal.tokenId, now),
  ];
  const shardRows: Record<string, unknown>[] = [];
  let pending = 0;
  for (const [index, name] of resolved.tasks.entries()) {
    const prepared = await prepareTask(env, name, index, resolved);
    const keys = await sampleKeys(prepared, resolved, identity);
    const reused = await findReusableSamples(env, [...keys.values()], principal.tokenId);
    const reusedRows: Record<string, unknown>[] = [];
    for (const r of resolved.recurrences) {
      for (const request of prepared.requests) {
        const key = keys.get(`${r}:${request.docIndex}`)!;
        const found = reused.get(key);
        if (!found) continue;
        const record = { ...found.record, doc_index: request.docIndex, doc_id: request.docId };
        reusedRows.push({
          run_id: runId,
          task: name,
          doc_index: request.docIndex,
          recurrences: r,
          result_key: key,
          record: JSON.stringify(record),
          correct: found.correct,
          trusted: found.trusted,
          runner: found.runner,
          reused: 1,
          reused_from_run: found.run_id,
          created_at: now,
        });
      }
    }
    const has = new Set(reusedRows.map((row) => `${row.recurrences}:${row.doc_index}`));
    const plan = planShards(
      name,
      prepared.requests.length,
      resolved.recurrences,
      resolved.shard_size,
      (r, doc) => has.has(`${r}:${doc}`),
    );
    for (const shard of plan) {
      if (!shard.done) pending++;
      shardRows.push({
        id: `${runId}:${name}:r${shard.recurrences}:${shard.docStart}`,
        run_id: runId,
        task: name,
        recurrences: shard.recurrences,
        doc_start: shard.docStart,
        doc_end: shard.docEnd,
        state: shard.done ? "done" : "queued",
        total_parameters: checkpoint.total_parameters,
        max_tensor_bytes: checkpoint.max_tensor_bytes,
      });
    }
    statements.push(
      env.DB.prepare(
        "INSERT INTO run_tasks (run_id, task, task_hash, dataset_id, dataset_files, num_fewshot, doc_count) VALUES (?, ?, ?, ?, ?, ?, ?)",
      ).bind(
        runId,
        name,
        prepared.taskHash,
        prepared.datasetId,
        JSON.stringify(prepared.datasetFiles),
        prepared.numFewshot,
        prepared.requests.length,
      ),
      ...insertRows(
        env.DB,
        "run_docs",
        ["run_id", "task", "doc_index", "doc_id", "doc_hash", "prompt", "prompt_hash", "gold"],
        prepared.requests.map((request, i) => ({
          run_id: runId,
          task: name,
          doc_index: request.docIndex,
          doc_id: request.docId,
          doc_hash: request.docHash,
          prompt: request.prompt,
          prompt_hash: prepared.promptHashes[i],
          gold: request.gold,
        })),
      ),
      ...insertRows(
        env.DB,
        "samples",
        [
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
          "reused_from_run",
          "created_at",
        ],
        reusedRows,
      ),
    );
  }
  statements.push(
    ...insertRows(
      env.DB,
      "shards",
      [
        "id",
        "run_id",
        "task",
        "recurrences",
        "doc_start",
        "doc_end",
        "state",
        "total_parameters",
        "max_tensor_bytes",
      ],
      shardRows,
    ),
  );
  if (pending === 0) {
    statements.push(
      env.DB.prepare("UPDATE runs SET state = 'finished', finished_at = ? WHERE id = ?").bind(
        now,
        runId,
      ),
    );
  }
  await env.DB.batch(statements);
  return runId;
}

async function prepareTask(
  env: Env,
  name: string,
  index: number,
  config: RunConfig,
): Promise<PreparedTask> {
  let task: TaskDefinition;
  try {
    task = getTask(name);
  } catch (error) {
    if (error instanceof UnknownTaskError) throw badRequest(`tasks.${index}: ${error.message}`);
    throw error;
  }
  const dataset = await taskDataset(env, task.dataset.name, config.datasets?.[task.dataset.name]);
  if (!dataset) {
    throw conflict(
      "missing_dataset",
      `no "${task.dataset.name}" dataset is registered for ${name}; upload its files and POST /api/datasets`,
    );
  }
  const files: Record<string, string> = JSON.parse(dataset.files);
  const needed = taskDatasetFiles(task);
  const lacking = [needed.docs, needed.fewshot].filter((f): f is string => f !== null && !files[f]);
  if (lacking.length) {
    throw conflict(
      "missing_dataset",
      `the ${config.datasets?.[task.dataset.name] ? "pinned" : "canonical"} "${task.dataset.name}" dataset lacks ${lacking.join(", ")}, which ${name} needs; register it with those files`,
    );
  }
  const docs = await cachedJsonl(env, files[needed.docs], needed.docs);
  const pool = needed.fewshot
    ? await cachedJsonl(env, files[needed.fewshot], needed.fewshot)
    : null;
  const numFewshot = config.num_fewshot ?? task.defaultNumFewshot;
  let requests: TaskRequest[];
  try {
    requests = await buildRequests(task, docs, pool, {
      numFewshot,
      limit: config.limit ?? undefined,
    });
  } catch (error) {
    if (error instanceof TaskDataError) throw badRequest(`tasks.${index}: ${error.message}`);
    throw error;
  }
  const datasetFiles: Record<string, string> = { [needed.docs]: files[needed.docs] };
  if (needed.fewshot) datasetFiles[needed.fewshot] = files[needed.fewshot];
  return {
    task,
    taskHash: await taskHash(task, numFewshot),
    datasetId: dataset.id,
    datasetFiles,
    numFewshot,
    maxNewTokens: maxNewTokens(task, config),
    requests,
    promptHashes: await Promise.all(requests.map((request) => sha256Hex(request.prompt))),
  };
}

/**
 * The dataset version a run uses: the one it pins (`datasets` in the request, 400 when no such
 * version of that name exists), else the canonical one (DESIGN §8: only an admin moves it).
 */
async function taskDataset(
  env: Env,
  name: string,
  pinned: string | undefined,
): Promise<{ id: string; files: string } | null> {
  if (pinned) {
    const row = await env.DB.prepare("SELECT id, files FROM datasets WHERE id = ? AND name = ?")
      .bind(pinned, name)
      .first<{ id: string; files: string }>();
    if (!row) throw badRequest(`datasets.${name}: no ${name} dataset ${pinned} is registered`);
    return row;
  }
  return env.DB.prepare(
    "SELECT d.id, d.files FROM canonical_datasets c JOIN datasets d ON d.id = c.dataset_id WHERE c.name = ?",
  )
    .bind(name)
    .first<{ id: string; files: string }>();
}

/** DESIGN §7 keys of every (r, doc) of a task, as `${r}:${docIndex}` → key. */
async function sampleKeys(prepared: PreparedTask, config: RunConfig, checkpoint: string) {
  const keys = new Map<string, string>();
  for (const r of config.recurrences) {
    for (const [i, request] of prepared.requests.entries()) {
      keys.set(
        `${r}:${request.docIndex}`,
        await sampleKey(prepared, config, checkpoint, r, {
          docHash: request.docHash,
          promptHash: prepared.promptHashes[i],
        }),
      );
    }
  }
  return keys;
}

export function sampleKey(
  prepared: Pick<PreparedTask, "task" | "taskHash" | "maxNewTokens" | "datasetFiles">,
  config: RunConfig,
  checkpoint: string,
  recurrences: number,
  doc: { docHash: string; promptHash: string },
): Promise<string> {
  return resultKey({
    checkpoint,
    taskHash: prepared.taskHash,
    datasetFiles: Object.values(prepared.datasetFiles),
    docHash: doc.docHash,
    promptHash: doc.promptHash,
    recurrences,
    generation: { until: prepared.task.until, maxNewTokens: prepared.maxNewTokens },
    stateInit: config.state_init,
    seed: config.seed,
    kv: config.kv,
    dtype: config.dtype ?? "fp32",
  });
}

/** Parsed datasets by blob hash: a hot isolate builds prompts without re-reading R2. */
const parsed = new Map<string, TaskDoc[]>();

async function cachedJsonl(env: Env, sha256: string, label: string): Promise<TaskDoc[]> {
  const hit = parsed.get(sha256);
  if (hit) return hit;
  const docs = await readJsonlBlob(env, sha256, label);
  if (parsed.size >= 8) parsed.delete(parsed.keys().next().value!);
  parsed.set(sha256, docs);
  return docs;
}
