// Every failure the API reports is JSON `{error, detail}` with a 4xx status (DESIGN §8).
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** `error` is a stable machine-readable code; `detail` names the field, id or fix. */
export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly error: string,
    readonly detail: string,
  ) {
    super(`${error}: ${detail}`);
    this.name = "HttpError";
  }
}

export const badRequest = (detail: string) => new HttpError(400, "invalid_request", detail);
export const notFound = (what: string, id: string) =>
  new HttpError(404, "not_found", `no ${what} with id "${id}"`);
export const conflict = (error: string, detail: string) => new HttpError(409, error, detail);
export const forbidden = (detail: string) => new HttpError(403, "forbidden", detail);
