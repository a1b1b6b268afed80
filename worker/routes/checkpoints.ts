// Checkpoints: register a manifest whose every file is already uploaded; list; show.
import { createRoute, z } from "@hono/zod-openapi";
import { canonicalJson, sha256Hex } from "../../evals/tasks/render.ts";
import { ManifestSchema } from "../../model/manifest.ts";
import { requireRole } from "../auth/middleware.ts";
import { conflict } from "../http-error.ts";
import { CheckpointListSchema, CheckpointRegisterSchema, CheckpointSchema } from "../protocol.ts";
import { bearerSecurity, createRouter, errorResponses, jsonContent } from "../router.ts";
import { graphHashes, manifestFiles, maxTensorBytes } from "../runs/checkpoint-files.ts";
import {
  type CheckpointRow,
  describeCheckpointRow,
  loadCheckpoint,
} from "../storage/checkpoint-store.ts";

const register = createRoute({
  method: "post",
  path: "/checkpoints",
  summary: "Register a checkpoint manifest (submit); every file it names must be uploaded first",
  security: bearerSecurity,
  request: { body: { content: jsonContent(CheckpointRegisterSchema) } },
  responses: {
    200: { description: "already registered", content: jsonContent(CheckpointSchema) },
    201: { description: "registered", content: jsonContent(CheckpointSchema) },
    ...errorResponses(400, 401, 403, 409, 413),
  },
});

const list = createRoute({
  method: "get",
  path: "/checkpoints",
  summary: "List checkpoints (submit)",
  security: bearerSecurity,
  responses: {
    200: { description: "checkpoints", content: jsonContent(CheckpointListSchema) },
    ...errorResponses(401, 403),
  },
});

const show = createRoute({
  method: "get",
  path: "/checkpoints/{id}",
  summary: "A checkpoint with its manifest and files (submit, runner)",
  security: bearerSecurity,
  request: { params: z.object({ id: z.string().max(200) }) },
  responses: {
    200: { description: "checkpoint", content: jsonContent(CheckpointSchema) },
    ...errorResponses(401, 403, 404),
  },
});

export const checkpointRoutes = createRouter()
  .openapi(register, async function registerCheckpoint(c) {
    requireRole(c, "submit");
    const { manifest } = c.req.valid("json");
    const id = await sha256Hex(canonicalJson(manifest));
    const files = manifestFiles(manifest);
    const sizes = await c.env.DB.prepare(
      "SELECT sha256, bytes FROM blobs WHERE sha256 IN (SELECT value FROM json_each(?))",
    )
      .bind(JSON.stringify(files.map((f) => f.sha256)))
      .all<{ sha256: string; bytes: number }>();
    const stored = new Map(sizes.results.map((r) => [r.sha256, r.bytes]));
    const missing = files.filter((f) => !stored.has(f.sha256));
    if (missing.length) {
      throw conflict(
        "missing_files",
        `upload these files first: ${missing.map((f) => `${f.name} (${f.sha256})`).join(", ")}`,
      );
    }
    const wrongSize = files.find((f) => f.bytes !== null && stored.get(f.sha256) !== f.bytes);
    if (wrongSize) {
      throw conflict(
        "size_mismatch",
        `manifest says ${wrongSize.name} has ${wrongSize.bytes} bytes; the stored blob has ${stored.get(wrongSize.sha256)}`,
      );
    }
    const row: CheckpointRow = {
      id,
      name: manifest.name,
      manifest: JSON.stringify(manifest),
      total_parameters: manifest.parameters.total,
      max_tensor_bytes: maxTensorBytes(manifest),
      created_at: new Date().toISOString(),
    };
    const inserted = await c.env.DB.prepare(
      "INSERT OR IGNORE INTO checkpoints (id, name, manifest, graph_hashes, total_parameters, max_tensor_bytes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
      .bind(
        row.id,
        row.name,
        row.manifest,
        JSON.stringify(graphHashes(manifest)),
        row.total_parameters,
        row.max_tensor_bytes,
        row.created_at,
      )
      .run();
    const checkpoint = await loadCheckpoint(c.env, id);
    return c.json(checkpoint, inserted.meta.changes ? 201 : 200);
  })
  .openapi(list, async function listCheckpoints(c) {
    requireRole(c, "submit");
    const { results } = await c.env.DB.prepare(
      "SELECT id, name, manifest, total_parameters, max_tensor_bytes, created_at FROM checkpoints ORDER BY created_at DESC",
    ).all<CheckpointRow>();
    const checkpoints = results.map((row) =>
      describeCheckpointRow(row, ManifestSchema.parse(JSON.parse(row.manifest))),
    );
    return c.json({ checkpoints }, 200);
  })
  .openapi(show, async function showCheckpoint(c) {
    requireRole(c, "submit", "runner");
    return c.json(await loadCheckpoint(c.env, c.req.valid("param").id), 200);
  });
