// Task datasets: JSONL files uploaded as blobs, registered under a dataset name with their hashes.
// A registered version never changes (its id hashes its name and files); which version a name
// means is the canonical pointer, set by the first registration and moved only by an admin.
import { createRoute, z } from "@hono/zod-openapi";
import { catalogTaskNames, findTask } from "../../evals/tasks/catalog.ts";
import { TASK_GROUPS } from "../../evals/tasks/loglikelihood/registry.ts";
import { loglikelihoodDatasetFiles } from "../../evals/tasks/loglikelihood/task-rows.ts";
import { canonicalJson, sha256Hex, TaskDataError } from "../../evals/tasks/render.ts";
import { requireRole } from "../auth/middleware.ts";
import { badRequest, conflict, notFound } from "../http-error.ts";
import {
  CanonicalDatasetSchema,
  type Dataset,
  DatasetListSchema,
  DatasetNameSchema,
  DatasetRegisterSchema,
  DatasetSchema,
  type TaskInfoSchema,
  TaskListSchema,
} from "../protocol.ts";
import { bearerSecurity, createRouter, errorResponses, jsonContent } from "../router.ts";
import { readJsonlBlob, taskDatasetFiles } from "../runs/task-datasets.ts";
import { missingBlobs } from "../storage/blob-store.ts";

const register = createRoute({
  method: "post",
  path: "/datasets",
  summary: "Register a dataset (submit): its JSONL files, uploaded as blobs first",
  description:
    "Every file must parse as JSON objects, one per line. Registering never changes what a name means: the first version of a name becomes canonical, later ones only when an admin says so (PUT /datasets/{name}/canonical); a run may pin any version in `datasets`.",
  security: bearerSecurity,
  request: { body: { content: jsonContent(DatasetRegisterSchema) } },
  responses: {
    200: { description: "already registered", content: jsonContent(DatasetSchema) },
    201: { description: "registered", content: jsonContent(DatasetSchema) },
    ...errorResponses(400, 401, 403, 409, 413),
  },
});

const list = createRoute({
  method: "get",
  path: "/datasets",
  summary: "List datasets (submit)",
  security: bearerSecurity,
  responses: {
    200: { description: "datasets", content: jsonContent(DatasetListSchema) },
    ...errorResponses(401, 403),
  },
});

const setCanonical = createRoute({
  method: "put",
  path: "/datasets/{name}/canonical",
  summary: "Make a registered version the one a dataset name means (admin)",
  security: bearerSecurity,
  request: {
    params: z.object({ name: DatasetNameSchema }),
    body: { content: jsonContent(CanonicalDatasetSchema) },
  },
  responses: {
    200: { description: "the new canonical version", content: jsonContent(DatasetSchema) },
    ...errorResponses(400, 401, 403, 404),
  },
});

const tasks = createRoute({
  method: "get",
  path: "/tasks",
  summary: "Tasks the API can run, with the dataset files each needs (public)",
  responses: { 200: { description: "tasks", content: jsonContent(TaskListSchema) } },
});

interface DatasetRow {
  id: string;
  name: Dataset["name"];
  files: string;
  created_at: string;
  canonical: number;
}

const toDataset = (row: DatasetRow): Dataset => ({
  id: row.id,
  name: row.name,
  files: JSON.parse(row.files),
  created_at: row.created_at,
  canonical: row.canonical === 1,
});

const SELECT_DATASETS = `SELECT d.id, d.name, d.files, d.created_at,
  EXISTS (SELECT 1 FROM canonical_datasets c WHERE c.name = d.name AND c.dataset_id = d.id) AS canonical
  FROM datasets d`;

export const datasetRoutes = createRouter()
  .openapi(register, async function registerDataset(c) {
    const principal = requireRole(c, "submit");
    const body = c.req.valid("json");
    const names = Object.keys(body.files);
    if (names.length === 0) throw badRequest("files: name at least one file");
    const missing = await missingBlobs(c.env, Object.values(body.files));
    if (missing.length) {
      const named = names.filter((n) => missing.includes(body.files[n]));
      throw conflict(
        "missing_files",
        `upload these files first: ${named.map((n) => `${n} (${body.files[n]})`).join(", ")}`,
      );
    }
    for (const name of names) {
      try {
        await readJsonlBlob(c.env, body.files[name], `files.${name}`);
      } catch (error) {
        if (error instanceof TaskDataError) throw badRequest(error.message);
        throw error;
      }
    }
    const files = Object.fromEntries(names.sort().map((n) => [n, body.files[n]]));
    const id = await sha256Hex(canonicalJson({ name: body.name, files }));
    const now = new Date().toISOString();
    const [inserted] = await c.env.DB.batch([
      c.env.DB.prepare(
        "INSERT OR IGNORE INTO datasets (id, name, files, created_at, registered_by) VALUES (?, ?, ?, ?, ?)",
      ).bind(id, body.name, JSON.stringify(files), now, principal.tokenId),
      // Only a name nobody has registered yet gets its meaning here.
      c.env.DB.prepare(
        "INSERT OR IGNORE INTO canonical_datasets (name, dataset_id, set_by, set_at) VALUES (?, ?, ?, ?)",
      ).bind(body.name, id, principal.tokenId, now),
    ]);
    const stored = await c.env.DB.prepare(`${SELECT_DATASETS} WHERE d.id = ?`)
      .bind(id)
      .first<DatasetRow>();
    return c.json(toDataset(stored!), inserted.meta.changes ? 201 : 200);
  })
  .openapi(list, async function listDatasets(c) {
    requireRole(c, "submit");
    const { results } = await c.env.DB.prepare(
      `${SELECT_DATASETS} ORDER BY d.created_at DESC, d.rowid DESC`,
    ).all<DatasetRow>();
    return c.json({ datasets: results.map(toDataset) }, 200);
  })
  .openapi(setCanonical, async function setCanonicalDataset(c) {
    const principal = requireRole(c, "admin");
    const { name } = c.req.valid("param");
    const { dataset } = c.req.valid("json");
    const found = await c.env.DB.prepare("SELECT name FROM datasets WHERE id = ?")
      .bind(dataset)
      .first<{ name: string }>();
    if (!found || found.name !== name) throw notFound(`${name} dataset`, dataset);
    await c.env.DB.prepare(
      `INSERT INTO canonical_datasets (name, dataset_id, set_by, set_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET dataset_id = excluded.dataset_id, set_by = excluded.set_by, set_at = excluded.set_at`,
    )
      .bind(name, dataset, principal.tokenId, new Date().toISOString())
      .run();
    const stored = await c.env.DB.prepare(`${SELECT_DATASETS} WHERE d.id = ?`)
      .bind(dataset)
      .first<DatasetRow>();
    return c.json(toDataset(stored!), 200);
  })
  .openapi(tasks, function listTaskInfo(c) {
    return c.json({ tasks: catalogTaskNames().map(taskInfo), groups: TASK_GROUPS }, 200);
  });

/** What a client needs to know to submit a task: its kind, data files and metrics. */
function taskInfo(name: string): z.output<typeof TaskInfoSchema> {
  const found = findTask(name);
  if (found.kind === "generate") {
    const { task } = found;
    const files = taskDatasetFiles(task);
    return {
      name,
      kind: "generate",
      version: task.version,
      dataset: task.dataset.name,
      dataset_files: files.fewshot ? [files.docs, files.fewshot] : [files.docs],
      fewshot_files: [],
      default_num_fewshot: task.defaultNumFewshot,
      max_gen_toks: task.maxGenToks,
      until: task.until,
      metrics: [task.primaryMetric],
      primary_metric: task.primaryMetric,
    };
  }
  const { task } = found;
  const zeroShot = loglikelihoodDatasetFiles(task, task.defaultNumFewshot);
  const withShots = loglikelihoodDatasetFiles(task, 1);
  return {
    name,
    kind: "loglikelihood",
    version: task.version,
    dataset: task.dataset.name,
    dataset_files: [zeroShot.docs, ...(zeroShot.fewshot ? [zeroShot.fewshot] : [])],
    fewshot_files: withShots.fewshot && !zeroShot.fewshot ? [withShots.fewshot] : [],
    default_num_fewshot: task.defaultNumFewshot,
    max_gen_toks: 0,
    until: [],
    metrics: [task.primaryMetric, ...task.metrics.filter((m) => m !== task.primaryMetric)],
    primary_metric: task.primaryMetric,
  };
}
