// A route group: OpenAPIHono whose validation failures answer 400 with the failing field's path.
import { OpenAPIHono } from "@hono/zod-openapi";
import type { z } from "zod";
import type { AppEnv } from "./env.ts";
import { badRequest } from "./http-error.ts";
import { ErrorSchema } from "./protocol.ts";

export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: function rejectInvalid(result) {
      if (!result.success) throw badRequest(describeIssues(result.error as z.ZodError));
    },
  });
}

/** `tasks.0: Invalid input; recurrences: Too small…` — every issue with its path. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.join(".") : "(body)"}: ${issue.message}`)
    .join("; ");
}

/** A route's bearer-token requirement, for the document. */
export const bearerSecurity = [{ bearer: [] }];

/** A JSON body or response of `schema`, for the document. */
export const jsonContent = <T extends z.ZodType>(schema: T) => ({
  "application/json": { schema },
});

/** The OpenAPI error responses every route may give, for the document. */
export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: ERROR_DESCRIPTIONS[status] ?? "error",
        content: { "application/json": { schema: ErrorSchema } },
      },
    ]),
  );

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "malformed request; `detail` names the field",
  401: "missing or unknown token",
  403: "the token's role may not do this",
  404: "unknown id",
  409: "conflicts with the current state",
  413: "body too large",
  416: "the Range header asks for bytes the file does not have, or is not one bytes= range",
};
