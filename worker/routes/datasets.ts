// Task datasets: JSONL files uploaded as blobs, registered under a dataset name with their hashes.
import { createRoute, type z } from "@hono/zod-openapi";
import { getTask, listTasks } from "../../evals/tasks/registry.ts";
import { canonicalJson, sha256Hex, TaskDataError } from "../../evals/tasks/render.ts";
import { requireRole } from "../auth/middleware.ts";
import { badRequest, conflict } from "../http-error.ts";
import {
  type Dataset,
  DatasetListSchema,
  DatasetRegisterSchema,
  DatasetSchema,
  TaskListSchema,
} from "../protocol.ts";
import { createRouter, errorResponses } from "../router.ts";
import { readJsonlBlob, taskDatasetFiles } from "../runs/task-datasets.ts";
import { missingBlobs } from "../storage/blob-store.ts";

const security = [{ bearer: [] }];
const json = <T extends z.ZodType>(schema: T) => ({ "application/json": { schema } });

const register = createRoute({
  method: "post",
  path: "/datasets",
  summary: "Register a dataset (submit): its JSONL files, uploaded as blobs first",
  description:
    "Every file must parse as JSON objects, one per line. Runs use the newest dataset of each name.",
  security,
  request: { body: { content: json(DatasetRegisterSchema) } },
  responses: {
    200: { description: "already registered", content: json(DatasetSchema) },
    201: { description: "registered", content: json(DatasetSchema) },
    ...errorResponses(400, 401, 403, 409, 413),
  },
});

const list = createRoute({
  method: "get",
  path: "/datasets",
  summary: "List datasets (submit)",
  security,
  responses: {
    200: { description: "datasets", content: json(DatasetListSchema) },
    ...errorResponses(401, 403),
  },
});

const tasks = createRoute({
  method: "get",
  path: "/tasks",
  summary: "Tasks the API can run, with the dataset files each needs (public)",
  responses: { 200: { description: "tasks", content: json(TaskListSchema) } },
});

interface DatasetRow {
  id: string;
  name: Dataset["name"];
  files: string;
  created_at: string;
}

const toDataset = (row: DatasetRow): Dataset => ({ ...row, files: JSON.parse(row.files) });

export const datasetRoutes = createRouter()
  .openapi(register, async function registerDataset(c) {
    requireRole(c, "submit");
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
    const row: DatasetRow = {
      id,
      name: body.name,
      files: JSON.stringify(files),
      created_at: new Date().toISOString(),
    };
    const inserted = await c.env.DB.prepare(
      "INSERT OR IGNORE INTO datasets (id, name, files, created_at) VALUES (?, ?, ?, ?)",
    )
      .bind(row.id, row.name, row.files, row.created_at)
      .run();
    const stored = await c.env.DB.prepare("SELECT * FROM datasets WHERE id = ?")
      .bind(id)
      .first<DatasetRow>();
    return c.json(toDataset(stored ?? row), inserted.meta.changes ? 201 : 200);
  })
  .openapi(list, async function listDatasets(c) {
    requireRole(c, "submit");
    const { results } = await c.env.DB.prepare(
      "SELECT * FROM datasets ORDER BY created_at DESC",
    ).all<DatasetRow>();
    return c.json({ datasets: results.map(toDataset) }, 200);
  })
  .openapi(tasks, function listTaskInfo(c) {
    const infos = listTasks().map((name) => {
      const task = getTask(name);
      const files = taskDatasetFiles(task);
      return {
        name,
        version: task.version,
        dataset: task.dataset.name,
        dataset_files: files.fewshot ? [files.docs, files.fewshot] : [files.docs],
        default_num_fewshot: task.defaultNumFewshot,
        max_gen_toks: task.maxGenToks,
        until: task.until,
        primary_metric: task.primaryMetric,
      };
    });
    return c.json({ tasks: infos }, 200);
  });
