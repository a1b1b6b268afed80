// Resumable multipart uploads for large files (graphs, external data): create, ask which parts the
// server holds, PUT the missing ones, complete (the server hashes the whole object), or abort.
import { createRoute, z } from "@hono/zod-openapi";
import { requireRole } from "../auth/middleware.ts";
import type { Principal } from "../auth/principal.ts";
import type { Env } from "../env.ts";
import { badRequest, conflict, HttpError, notFound } from "../http-error.ts";
import {
  BlobInfoSchema,
  type Upload,
  UploadCreateSchema,
  UploadPartSchema,
  UploadSchema,
} from "../protocol.ts";
import { bearerSecurity, createRouter, errorResponses, jsonContent } from "../router.ts";
import { findBlob, verifyAndRegister } from "../storage/blob-store.ts";
import { sizedStream } from "../storage/digest.ts";

const idParam = z.object({ id: z.string().max(100) });

const create = createRoute({
  method: "post",
  path: "/uploads",
  summary: "Start, or resume, a multipart upload of one file (submit)",
  description:
    "An open upload of the same file and part size is returned (200) with the parts already held. When the blob is already stored the answer has `id: null` and `state: complete`.",
  security: bearerSecurity,
  request: { body: { content: jsonContent(UploadCreateSchema) } },
  responses: {
    200: { description: "resumed, or already stored", content: jsonContent(UploadSchema) },
    201: { description: "started", content: jsonContent(UploadSchema) },
    ...errorResponses(400, 401, 403, 413),
  },
});

const show = createRoute({
  method: "get",
  path: "/uploads/{id}",
  summary: "Parts received so far (resume from here)",
  security: bearerSecurity,
  request: { params: idParam },
  responses: {
    200: { description: "upload", content: jsonContent(UploadSchema) },
    ...errorResponses(401, 403, 404),
  },
});

const putPart = createRoute({
  method: "put",
  path: "/uploads/{id}/parts/{part}",
  summary: "Upload part `part` (1-based); every part but the last is exactly part_size bytes",
  security: bearerSecurity,
  request: {
    params: idParam.extend({ part: z.coerce.number().int().min(1).max(10_000) }),
    body: {
      content: { "application/octet-stream": { schema: z.string().meta({ format: "binary" }) } },
    },
  },
  responses: {
    200: { description: "part stored", content: jsonContent(UploadPartSchema) },
    ...errorResponses(400, 401, 403, 404, 409, 413),
  },
});

const complete = createRoute({
  method: "post",
  path: "/uploads/{id}/complete",
  summary: "Assemble the parts, hash the result and register the blob",
  security: bearerSecurity,
  request: { params: idParam },
  responses: {
    200: { description: "stored", content: jsonContent(BlobInfoSchema) },
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

const abort = createRoute({
  method: "delete",
  path: "/uploads/{id}",
  summary: "Abort an upload",
  security: bearerSecurity,
  request: { params: idParam },
  responses: {
    200: { description: "aborted", content: jsonContent(UploadSchema) },
    ...errorResponses(401, 403, 404),
  },
});

interface UploadRow {
  id: string;
  sha256: string;
  bytes: number;
  part_size: number;
  r2_upload_id: string;
  state: Upload["state"];
  created_by: string | null;
}

const r2Key = (id: string) => `multipart/${id}`;
const partCount = (row: Pick<UploadRow, "bytes" | "part_size">) =>
  Math.ceil(row.bytes / row.part_size);

/** The upload, if the caller started it or is an admin; anyone else's is 404 (DESIGN §8). */
async function loadUpload(env: Env, principal: Principal, id: string): Promise<UploadRow> {
  const row = await env.DB.prepare(
    "SELECT id, sha256, bytes, part_size, r2_upload_id, state, created_by FROM uploads WHERE id = ?",
  )
    .bind(id)
    .first<UploadRow>();
  const mayUse = row && (principal.role === "admin" || row.created_by === principal.tokenId);
  if (!mayUse) throw notFound("upload", id);
  return row;
}

async function describe(env: Env, row: UploadRow): Promise<Upload> {
  const { results } = await env.DB.prepare(
    "SELECT part_number, bytes FROM upload_parts WHERE upload_id = ? ORDER BY part_number",
  )
    .bind(row.id)
    .all<{ part_number: number; bytes: number }>();
  return {
    id: row.id,
    sha256: row.sha256,
    bytes: row.bytes,
    part_size: row.part_size,
    part_count: partCount(row),
    state: row.state,
    parts: results,
  };
}

function requireOpen(row: UploadRow): void {
  if (row.state !== "open") throw conflict("upload_closed", `upload ${row.id} is ${row.state}`);
}

export const uploadRoutes = createRouter()
  .openapi(create, async function createUpload(c) {
    const principal = requireRole(c, "submit");
    const body = c.req.valid("json");
    const stored = await findBlob(c.env, body.sha256);
    if (stored) {
      const done = {
        id: null,
        sha256: body.sha256,
        bytes: stored.bytes,
        part_size: body.part_size,
      };
      return c.json({ ...done, part_count: 0, state: "complete" as const, parts: [] }, 200);
    }
    // A client that restarts asks again and continues where it stopped (its own uploads only).
    const open = await c.env.DB.prepare(
      "SELECT id, sha256, bytes, part_size, r2_upload_id, state, created_by FROM uploads WHERE sha256 = ? AND bytes = ? AND part_size = ? AND state = 'open' AND created_by = ? ORDER BY created_at DESC LIMIT 1",
    )
      .bind(body.sha256, body.bytes, body.part_size, principal.tokenId)
      .first<UploadRow>();
    if (open) return c.json(await describe(c.env, open), 200);
    const id = `upl_${crypto.randomUUID()}`;
    const multipart = await c.env.BLOBS.createMultipartUpload(r2Key(id));
    const row: UploadRow = {
      id,
      ...body,
      r2_upload_id: multipart.uploadId,
      state: "open",
      created_by: principal.tokenId,
    };
    await c.env.DB.prepare(
      "INSERT INTO uploads (id, sha256, bytes, part_size, r2_upload_id, state, created_at, created_by) VALUES (?, ?, ?, ?, ?, 'open', ?, ?)",
    )
      .bind(
        id,
        row.sha256,
        row.bytes,
        row.part_size,
        row.r2_upload_id,
        new Date().toISOString(),
        row.created_by,
      )
      .run();
    return c.json(await describe(c.env, row), 201);
  })
  .openapi(show, async function showUpload(c) {
    const principal = requireRole(c, "submit");
    const row = await loadUpload(c.env, principal, c.req.valid("param").id);
    return c.json(await describe(c.env, row), 200);
  })
  .openapi(putPart, async function putUploadPart(c) {
    const principal = requireRole(c, "submit");
    const { id, part } = c.req.valid("param");
    const row = await loadUpload(c.env, principal, id);
    requireOpen(row);
    const count = partCount(row);
    if (part > count) throw badRequest(`part: ${part} is past the last part (${count})`);
    const expected = part < count ? row.part_size : row.bytes - (count - 1) * row.part_size;
    const length = Number(c.req.header("content-length"));
    if (length !== expected) {
      throw badRequest(
        `Content-Length: part ${part} must be ${expected} bytes, got ${c.req.header("content-length") ?? "none"}`,
      );
    }
    const multipart = c.env.BLOBS.resumeMultipartUpload(r2Key(id), row.r2_upload_id);
    const body = sizedStream(c.req.raw.body ?? new Blob([]).stream(), length);
    const uploaded = await multipart.uploadPart(part, body).catch((error: Error) => {
      throw new HttpError(400, "upload_failed", `part ${part} was not stored: ${error.message}`);
    });
    await c.env.DB.prepare(
      "INSERT OR REPLACE INTO upload_parts (upload_id, part_number, etag, bytes) VALUES (?, ?, ?, ?)",
    )
      .bind(id, part, uploaded.etag, length)
      .run();
    return c.json({ part_number: part, bytes: length }, 200);
  })
  .openapi(complete, async function completeUpload(c) {
    const principal = requireRole(c, "submit");
    const row = await loadUpload(c.env, principal, c.req.valid("param").id);
    const already = await findBlob(c.env, row.sha256);
    if (already && row.state === "complete")
      return c.json({ sha256: row.sha256, bytes: row.bytes }, 200);
    requireOpen(row);
    const { results: parts } = await c.env.DB.prepare(
      "SELECT part_number, etag FROM upload_parts WHERE upload_id = ? ORDER BY part_number",
    )
      .bind(row.id)
      .all<{ part_number: number; etag: string }>();
    const missing = Array.from({ length: partCount(row) }, (_, i) => i + 1).filter(
      (n) => !parts.some((p) => p.part_number === n),
    );
    if (missing.length) throw conflict("upload_incomplete", `parts missing: ${missing.join(", ")}`);
    const multipart = c.env.BLOBS.resumeMultipartUpload(r2Key(row.id), row.r2_upload_id);
    await multipart.complete(parts.map((p) => ({ partNumber: p.part_number, etag: p.etag })));
    const setState = (state: string) =>
      c.env.DB.prepare("UPDATE uploads SET state = ? WHERE id = ?").bind(state, row.id).run();
    try {
      await verifyAndRegister(c.env, {
        sha256: row.sha256,
        bytes: row.bytes,
        r2_key: r2Key(row.id),
      });
    } catch (error) {
      await setState("aborted");
      throw error;
    }
    await setState("complete");
    return c.json({ sha256: row.sha256, bytes: row.bytes }, 200);
  })
  .openapi(abort, async function abortUpload(c) {
    const principal = requireRole(c, "submit");
    const row = await loadUpload(c.env, principal, c.req.valid("param").id);
    if (row.state === "open") {
      await c.env.BLOBS.resumeMultipartUpload(r2Key(row.id), row.r2_upload_id).abort();
      await c.env.DB.prepare("UPDATE uploads SET state = 'aborted' WHERE id = ?")
        .bind(row.id)
        .run();
      row.state = "aborted";
    }
    return c.json(await describe(c.env, row), 200);
  });
