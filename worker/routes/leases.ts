// Runner endpoints: lease a shard, heartbeat, post results, report a failure, release.
import { createRoute, z } from "@hono/zod-openapi";
import { requireRole } from "../auth/middleware.ts";
import { extendLease, releaseLease, reportFailure } from "../leases/lease-control.ts";
import { leaseShard } from "../leases/lease-shard.ts";
import { postResults } from "../leases/post-results.ts";
import {
  FailureAcceptedSchema,
  FailureReportSchema,
  HeartbeatSchema,
  LeaseRequestSchema,
  LeaseSchema,
  ResultsAcceptedSchema,
  ResultsPostSchema,
} from "../protocol.ts";
import { bearerSecurity, createRouter, errorResponses, jsonContent } from "../router.ts";

const params = z.object({ id: z.string().max(200) });

const lease = createRoute({
  method: "post",
  path: "/leases",
  summary: "Lease the next shard this runner can run (runner); 204 when there is none",
  security: bearerSecurity,
  request: { body: { content: jsonContent(LeaseRequestSchema) } },
  responses: {
    200: { description: "a shard to run", content: jsonContent(LeaseSchema) },
    204: { description: "no work now" },
    ...errorResponses(400, 401, 403, 413),
  },
});

const heartbeat = createRoute({
  method: "post",
  path: "/leases/{id}/heartbeat",
  summary: "Extend a held lease (runner)",
  security: bearerSecurity,
  request: { params },
  responses: {
    200: { description: "new deadline", content: jsonContent(HeartbeatSchema) },
    ...errorResponses(401, 403, 404, 409),
  },
});

const results = createRoute({
  method: "post",
  path: "/leases/{id}/results",
  summary: "Post raw completions for documents of the held shard (runner); idempotent",
  description:
    "The server scores each completion and computes FLOPs and the result key. A document posted twice counts once. 409 when the lease is not held.",
  security: bearerSecurity,
  request: { params, body: { content: jsonContent(ResultsPostSchema) } },
  responses: {
    200: { description: "stored", content: jsonContent(ResultsAcceptedSchema) },
    ...errorResponses(400, 401, 403, 404, 409, 413),
  },
});

const fail = createRoute({
  method: "post",
  path: "/leases/{id}/fail",
  summary: "Give the shard back with a reason (runner); failed after MAX_SHARD_FAILURES",
  security: bearerSecurity,
  request: { params, body: { content: jsonContent(FailureReportSchema) } },
  responses: {
    200: { description: "recorded", content: jsonContent(FailureAcceptedSchema) },
    ...errorResponses(400, 401, 403, 404, 409, 413),
  },
});

const release = createRoute({
  method: "post",
  path: "/leases/{id}/release",
  summary: "Give the shard back without a failure, e.g. when the runner stops (runner)",
  security: bearerSecurity,
  request: { params },
  responses: {
    200: { description: "queued again", content: jsonContent(FailureAcceptedSchema) },
    ...errorResponses(401, 403, 404, 409),
  },
});

export const leaseRoutes = createRouter()
  .openapi(lease, async function leaseRoute(c) {
    const principal = requireRole(c, "runner");
    const body = c.req.valid("json");
    const leased = await leaseShard(c.env, principal, body.capabilities);
    if (!leased) return c.body(null, 204);
    return c.json(leased, 200);
  })
  .openapi(heartbeat, async function heartbeatRoute(c) {
    const principal = requireRole(c, "runner");
    return c.json(await extendLease(c.env, principal, c.req.valid("param").id), 200);
  })
  .openapi(results, async function resultsRoute(c) {
    const principal = requireRole(c, "runner");
    const body = c.req.valid("json");
    return c.json(await postResults(c.env, principal, c.req.valid("param").id, body), 200);
  })
  .openapi(fail, async function failRoute(c) {
    const principal = requireRole(c, "runner");
    const { reason } = c.req.valid("json");
    return c.json(await reportFailure(c.env, principal, c.req.valid("param").id, reason), 200);
  })
  .openapi(release, async function releaseRoute(c) {
    const principal = requireRole(c, "runner");
    return c.json(await releaseLease(c.env, principal, c.req.valid("param").id), 200);
  });
