// Size limits on request bodies (413): JSON bodies are small; blob bodies have their own cap.
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "./env.ts";
import { HttpError } from "./http-error.ts";
import { MAX_SINGLE_PUT_BYTES } from "./protocol.ts";

export const JSON_BODY_LIMIT = 1 * 2 ** 20;
/** A shard's completions in one post: up to 1000 results. */
export const RESULTS_BODY_LIMIT = 8 * 2 ** 20;

export function limitBodies(): MiddlewareHandler<AppEnv> {
  const limiters = new Map<number, MiddlewareHandler<AppEnv>>();
  const limiter = (maxSize: number) => {
    let handler = limiters.get(maxSize);
    if (!handler) {
      handler = bodyLimit({
        maxSize,
        onError: () => {
          throw new HttpError(413, "payload_too_large", `request body over ${maxSize} bytes`);
        },
      });
      limiters.set(maxSize, handler);
    }
    return handler;
  };
  return function limitBody(c, next) {
    if (c.req.method === "GET" || c.req.method === "HEAD") return next();
    const path = c.req.path;
    const isBlob = path.startsWith("/api/blobs/") || /^\/api\/uploads\/[^/]+\/parts\//.test(path);
    const max = isBlob
      ? MAX_SINGLE_PUT_BYTES
      : path.endsWith("/results")
        ? RESULTS_BODY_LIMIT
        : JSON_BODY_LIMIT;
    return limiter(max)(c, next);
  };
}
