// Content-addressed blobs: PUT a file under its sha256 (verified), HEAD/GET it back.
import { createRoute, z } from "@hono/zod-openapi";
import { requireRole } from "../auth/middleware.ts";
import { parseByteRange } from "../byte-range.ts";
import { badRequest, HttpError, notFound } from "../http-error.ts";
import { BlobInfoSchema, MAX_SINGLE_PUT_BYTES, Sha256Schema } from "../protocol.ts";
import { bearerSecurity, createRouter, errorResponses, jsonContent } from "../router.ts";
import { findBlob, putBlob } from "../storage/blob-store.ts";

const params = z.object({ sha256: Sha256Schema });
const binary = { schema: z.string().meta({ format: "binary" }) };

const put = createRoute({
  method: "put",
  path: "/blobs/{sha256}",
  summary: `Upload a file of at most ${MAX_SINGLE_PUT_BYTES} bytes under its sha256 (submit)`,
  description:
    "The server hashes the body and refuses it unless it matches. Already stored: 200 without reading the body. Larger files: /uploads.",
  security: bearerSecurity,
  request: { params, body: { content: { "application/octet-stream": binary } } },
  responses: {
    200: {
      description: "already stored",
      content: jsonContent(BlobInfoSchema),
    },
    201: { description: "stored", content: jsonContent(BlobInfoSchema) },
    ...errorResponses(400, 401, 403, 413),
  },
});

const get = createRoute({
  method: "get",
  path: "/blobs/{sha256}",
  summary: "Download a stored file (any token); honours Range",
  security: bearerSecurity,
  request: { params },
  responses: {
    200: { description: "the bytes", content: { "application/octet-stream": binary } },
    206: { description: "a range of the bytes", content: { "application/octet-stream": binary } },
    ...errorResponses(401, 404, 416),
  },
});

export const blobRoutes = createRouter()
  .openapi(put, async function putBlobRoute(c) {
    requireRole(c, "submit");
    const { sha256 } = c.req.valid("param");
    const existing = await findBlob(c.env, sha256);
    if (existing) return c.json({ sha256, bytes: existing.bytes }, 200);
    const length = Number(c.req.header("content-length"));
    if (!c.req.header("content-length") || !Number.isInteger(length) || length < 0) {
      throw badRequest("Content-Length: required for blob uploads");
    }
    if (length > MAX_SINGLE_PUT_BYTES) {
      throw new HttpError(
        413,
        "payload_too_large",
        `use /api/uploads for files over ${MAX_SINGLE_PUT_BYTES} bytes`,
      );
    }
    await putBlob(c.env, sha256, length, c.req.raw.body ?? new Blob([]).stream());
    return c.json({ sha256, bytes: length }, 201);
  })
  .openapi(get, async function getBlobRoute(c) {
    requireRole(c, "submit", "runner");
    const { sha256 } = c.req.valid("param");
    const blob = await findBlob(c.env, sha256);
    if (!blob) throw notFound("blob", sha256);
    const headers = new Headers({
      "content-type": "application/octet-stream",
      "cache-control": "public, max-age=31536000, immutable",
      etag: `"${sha256}"`,
      "accept-ranges": "bytes",
    });
    if (c.req.method === "HEAD") {
      headers.set("content-length", String(blob.bytes));
      return new Response(null, { status: 200, headers }) as never;
    }
    const rangeHeader = c.req.header("range");
    if (rangeHeader !== undefined) {
      const range = parseByteRange(rangeHeader, blob.bytes);
      if ("refused" in range) {
        return c.json({ error: "range_not_satisfiable", detail: range.refused }, 416, {
          "content-range": `bytes */${blob.bytes}`,
        }) as never;
      }
      const object = await c.env.BLOBS.get(blob.r2_key, { range });
      if (!object) throw notFound("blob", sha256);
      headers.set(
        "content-range",
        `bytes ${range.offset}-${range.offset + range.length - 1}/${blob.bytes}`,
      );
      headers.set("content-length", String(range.length));
      return new Response(object.body, { status: 206, headers }) as never;
    }
    const object = await c.env.BLOBS.get(blob.r2_key);
    if (!object) throw notFound("blob", sha256);
    headers.set("content-length", String(blob.bytes));
    return new Response(object.body, { status: 200, headers }) as never;
  });
