// Creating a run: prompts built server-side from registered datasets, result keys computed
// (DESIGN §7), earlier results with the same key reused, shards planned; all in one D1 batch.
import { checkpointIdentity, resultKey } from "../../evals/run/result-key.ts";
import { type CatalogTask, findTask } from "../../evals/tasks/catalog.ts";
import { expandTaskGroups } from "../../evals/tasks/loglikelihood/registry.ts";
import {
  buildDocumentRequests,
  loglikelihoodTaskHash,
} from "../../evals/tasks/loglikelihood/render.ts";
import {
  loglikelihoodDatasetFiles,
  selectTaskRows,
} from "../../evals/tasks/loglikelihood/task-rows.ts";
import type { LoglikelihoodTaskDefinition } from "../../evals/tasks/loglikelihood/types.ts";
import { UnknownTaskError } from "../../evals/tasks/registry.ts";
import { buildRequests, sha256Hex, TaskDataError, taskHash } from "../../evals/tasks/render.ts";
import type { TaskDefinition, TaskDoc, TaskRequest } from "../../evals/tasks/types.ts";
import { webGpuLacksKernels } from "../../model/manifest.ts";
import { sweepCacheBytes, wasmMemoryEstimate } from "../../model/memory-ceiling.ts";
import type { Principal } from "../auth/principal.ts";
import type { Env } from "../env.ts";
import { badRequest, conflict } from "../http-error.ts";
import type { RunConfig } from "../protocol.ts";
import { findBlobs, type StoredBlob } from "../storage/blob-store.ts";
import { loadCheckpoint } from "../storage/checkpoint-store.ts";
import { insertRows } from "../storage/json-rows.ts";
import { SAMPLE_COLUMNS } from "../storage/sample-columns.ts";
import { findReusableSamples } from "./reuse.ts";
import { maxNewTokens, type RunTask } from "./run-context.ts";
import { planShards } from "./shard-plan.ts";
import {
  type DatasetVersion,
  readJsonlBlob,
  runDatasetVersions,
  taskDatasetFiles,
} from "./task-datasets.ts";

/**
 * A task of a new run with its documents. Loglikelihood documents are stored like prompts: the
 * `prompt` is the JSON of their (context, continuation) requests (what the prompt hash covers)
 * and `gold` the JSON of the gold index and the choice texts that scoring needs.
 */
export type PreparedTask = RunTask & {
  datasetId: string;
  requests: TaskRequest[];
  promptHashes: string[];
};

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
  // What a runner needs to hold it, by the estimate the runner itself checks before loading.
  const memoryBytes = Math.ceil(wasmMemoryEstimate(checkpoint.manifest).total);
  // Whether WebGPU runners should take its shards last (their graphs run partly on the CPU there).
  const webgpuCpuOps = webGpuLacksKernels(checkpoint.manifest) ? 1 : 0;

  const statements: D1PreparedStatement[] = [
    env.DB.prepare(
      "INSERT INTO runs (id, checkpoint_id, config, state, created_by, created_at) VALUES (?, ?, ?, 'active', ?, ?)",
    ).bind(runId, checkpoint.id, JSON.stringify(resolved), principal.tokenId, now),
  ];
  const shardRows: Record<string, unknown>[] = [];
  let pending = 0;
  // Every binding call below serves all the run's tasks at once: Cloudflare allows one Worker
  // invocation 50 D1 queries on the Free plan and 1,000 on Paid (developers.cloudflare.com/d1/
  // platform/limits, "Queries per Worker invocation"), and R2 calls count as subrequests too
  // (developers.cloudflare.com/workers/platform/limits: 50 Free), while mmlu alone is 57 tasks.
  const tasks = expandedTasks(resolved.tasks);
  const sources = await taskSources(env, tasks, resolved);
  const preparedTasks: { name: string; prepared: PreparedTask; keys: Map<string, string> }[] = [];
  for (const { name, index } of tasks) {
    const prepared = await prepareTask(env, name, index, resolved, sources);
    preparedTasks.push({ name, prepared, keys: await sampleKeys(prepared, resolved, identity) });
  }
  const reused = await findReusableSamples(
    env,
    preparedTasks.flatMap(({ keys }) => [...keys.values()]),
    principal.tokenId,
  );
  for (const { name, prepared, keys } of preparedTasks) {
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
        memory_bytes: memoryBytes,
        cache_bytes: sweepCacheBytes(checkpoint.manifest, shard.recurrences, resolved.kv),
        webgpu_cpu_ops: webgpuCpuOps,
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
      ...insertRows(env.DB, "samples", [...SAMPLE_COLUMNS, "reused_from_run"], reusedRows),
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
        "memory_bytes",
        "cache_bytes",
        "webgpu_cpu_ops",
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

/** Requested names with lm-eval groups expanded; `index` is the request's, for error paths. */
function expandedTasks(names: readonly string[]): { name: string; index: number }[] {
  const seen = new Set<string>();
  const out: { name: string; index: number }[] = [];
  for (const [index, requested] of names.entries()) {
    for (const name of expandTaskGroups([requested])) {
      if (seen.has(name)) continue;
      seen.add(name);
      out.push({ name, index });
    }
  }
  return out;
}

async function prepareTask(
  env: Env,
  name: string,
  index: number,
  config: RunConfig,
  sources: TaskSources,
): Promise<PreparedTask> {
  let found: CatalogTask;
  try {
    found = findTask(name);
  } catch (error) {
    if (error instanceof UnknownTaskError) throw badRequest(`tasks.${index}: ${error.message}`);
    throw error;
  }
  try {
    return found.kind === "generate"
      ? await prepareGenerateTask(env, found.task, config, sources)
      : await prepareLoglikelihoodTask(env, found.task, config, sources);
  } catch (error) {
    if (error instanceof TaskDataError) throw badRequest(`tasks.${index}: ${error.message}`);
    throw error;
  }
}

/** The registered files a task needs, or 409 naming the ones its dataset lacks. */
function datasetFor(
  sources: TaskSources,
  task: { name: string; dataset: { name: string } },
  config: RunConfig,
  needed: (string | null)[],
): { id: string; files: Record<string, string> } {
  const name = task.dataset.name;
  const pinned = datasetPins(config)[name];
  const dataset = sources.datasets.get(name) ?? null;
  if (pinned && !dataset) {
    throw badRequest(`datasets.${name}: no ${name} dataset ${pinned} is registered`);
  }
  if (!dataset) {
    throw conflict(
      "missing_dataset",
      `no "${task.dataset.name}" dataset is registered for ${task.name}; upload its files and POST /api/datasets`,
    );
  }
  const files: Record<string, string> = JSON.parse(dataset.files);
  const lacking = needed.filter((f): f is string => f !== null && !files[f]);
  if (lacking.length) {
    throw conflict(
      "missing_dataset",
      `the ${pinned ? "pinned" : "canonical"} "${task.dataset.name}" dataset lacks ${lacking.join(", ")}, which ${task.name} needs; register it with those files`,
    );
  }
  return { id: dataset.id, files };
}

/** Only the files a task read, name → sha256 (what the run pins). */
function pinnedFiles(files: Record<string, string>, names: (string | null)[]) {
  return Object.fromEntries(names.filter((f): f is string => f !== null).map((f) => [f, files[f]]));
}

async function prepareGenerateTask(
  env: Env,
  task: TaskDefinition,
  config: RunConfig,
  sources: TaskSources,
): Promise<PreparedTask> {
  const needed = taskDatasetFiles(task);
  const dataset = datasetFor(sources, task, config, [needed.docs, needed.fewshot]);
  const docs = await cachedJsonl(env, sources, dataset.files[needed.docs], needed.docs);
  const pool = needed.fewshot
    ? await cachedJsonl(env, sources, dataset.files[needed.fewshot], needed.fewshot)
    : null;
  const numFewshot = config.num_fewshot ?? task.defaultNumFewshot;
  const requests = await buildRequests(task, docs, pool, {
    numFewshot,
    limit: config.limit ?? undefined,
  });
  return {
    kind: "generate",
    task,
    taskHash: await taskHash(task, numFewshot),
    datasetId: dataset.id,
    datasetFiles: pinnedFiles(dataset.files, [needed.docs, needed.fewshot]),
    numFewshot,
    maxNewTokens: maxNewTokens(task, config),
    requests,
    promptHashes: await Promise.all(requests.map((request) => sha256Hex(request.prompt))),
  };
}

async function prepareLoglikelihoodTask(
  env: Env,
  task: LoglikelihoodTaskDefinition,
  config: RunConfig,
  sources: TaskSources,
): Promise<PreparedTask> {
  if (config.state_init !== "zeros") {
    throw badRequest(
      `state_init: ${task.name} scores log-probabilities with the state initialised to zeros; create the run with state_init "zeros"`,
    );
  }
  const numFewshot = config.num_fewshot ?? task.defaultNumFewshot;
  const needed = loglikelihoodDatasetFiles(task, numFewshot);
  const dataset = datasetFor(sources, task, config, [needed.docs, needed.fewshot]);
  const fileRows = await cachedJsonl(env, sources, dataset.files[needed.docs], needed.docs);
  const poolRows = needed.fewshot
    ? await cachedJsonl(env, sources, dataset.files[needed.fewshot], needed.fewshot)
    : null;
  const rows = selectTaskRows(task, fileRows, poolRows, numFewshot, needed.docs);
  const documents = await buildDocumentRequests(task, rows.docs, rows.fewshotPool, {
    numFewshot,
    limit: config.limit ?? undefined,
    fewshotFromSameSplit: rows.fewshotFromSameSplit,
  });
  const requests: TaskRequest[] = documents.map((doc) => ({
    docIndex: doc.docIndex,
    docId: doc.docId,
    docHash: doc.docHash,
    prompt: JSON.stringify(doc.requests),
    gold: JSON.stringify({ gold: doc.gold, choices: doc.choices }),
  }));
  return {
    kind: "loglikelihood",
    task,
    taskHash: await loglikelihoodTaskHash(task, numFewshot),
    datasetId: dataset.id,
    datasetFiles: pinnedFiles(dataset.files, [needed.docs, needed.fewshot]),
    numFewshot,
    requests,
    promptHashes: await Promise.all(requests.map((request) => sha256Hex(request.prompt))),
  };
}

/** The dataset versions a run's tasks read and their files' blob rows, looked up once. */
interface TaskSources {
  /** By dataset name; null when the pinned version or the canonical one does not exist. */
  datasets: Map<string, DatasetVersion | null>;
  /** Blob rows of those versions' files not parsed in this isolate yet (null: not stored). */
  blobs: Map<string, StoredBlob | null>;
}

/**
 * The dataset version each task uses: the one the run pins (`datasets` in the request; 400 when
 * no such version of that name exists), else the canonical one (DESIGN §8: only an admin moves
 * it). Two D1 queries whatever the number of tasks; unknown tasks are left to `prepareTask`.
 */
async function taskSources(
  env: Env,
  tasks: readonly { name: string }[],
  config: RunConfig,
): Promise<TaskSources> {
  const names = new Set<string>();
  for (const { name } of tasks) {
    try {
      names.add(findTask(name).task.dataset.name);
    } catch (error) {
      if (!(error instanceof UnknownTaskError)) throw error;
    }
  }
  const datasets = await runDatasetVersions(env, [...names], datasetPins(config));
  const hashes = [...datasets.values()].flatMap((dataset) =>
    dataset ? Object.values(JSON.parse(dataset.files) as Record<string, string>) : [],
  );
  const unparsed = [...new Set(hashes.filter((sha256) => !parsed.has(sha256)))];
  const stored = await findBlobs(env, unparsed);
  return {
    datasets,
    blobs: new Map(unparsed.map((sha256) => [sha256, stored.get(sha256) ?? null])),
  };
}

function datasetPins(config: RunConfig): Record<string, string | undefined> {
  return (config.datasets ?? {}) as Record<string, string | undefined>;
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
  prepared: RunTask,
  config: RunConfig,
  checkpoint: string,
  recurrences: number,
  doc: { docHash: string; promptHash: string },
  /** `graphVariantIdentity` of the graph variant that computed the result, if not the default. */
  graphVariant?: string,
  /** `keyedBackend`: the computing backend, where the checkpoint's numbers depend on it. */
  backend?: string,
): Promise<string> {
  return resultKey({
    checkpoint,
    taskHash: prepared.taskHash,
    datasetFiles: Object.values(prepared.datasetFiles),
    docHash: doc.docHash,
    promptHash: doc.promptHash,
    recurrences,
    generation:
      prepared.kind === "generate"
        ? { until: prepared.task.until, maxNewTokens: prepared.maxNewTokens }
        : { loglikelihood: true, addBos: prepared.task.addBos },
    stateInit: config.state_init,
    seed: config.seed,
    kv: config.kv,
    dtype: config.dtype ?? "fp32",
    graphVariant,
    backend,
  });
}

/** Parsed datasets by blob hash: a hot isolate builds prompts without re-reading R2. */
const parsed = new Map<string, TaskDoc[]>();

async function cachedJsonl(
  env: Env,
  sources: TaskSources,
  sha256: string,
  label: string,
): Promise<TaskDoc[]> {
  const hit = parsed.get(sha256);
  if (hit) return hit;
  // Parsed when `taskSources` looked but evicted since: undefined has the read look it up.
  const blob = sources.blobs.has(sha256) ? sources.blobs.get(sha256) : undefined;
  const docs = await readJsonlBlob(env, sha256, label, blob);
  if (parsed.size >= 8) parsed.delete(parsed.keys().next().value!);
  parsed.set(sha256, docs);
  return docs;
}
