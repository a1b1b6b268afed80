// Runs: create (submit), list, read, cancel, publish, per-sample records; downloads in run-exports.ts.

import { createRoute, z } from "@hono/zod-openapi";
import { aggregateSamples } from "../../evals/run/aggregate.ts";
import { requireRole } from "../auth/middleware.ts";
import { badRequest, conflict } from "../http-error.ts";
import {
  RunCreateSchema,
  RunDetailSchema,
  RunListSchema,
  type Sample,
  SamplePageSchema,
  SampleQuerySchema,
} from "../protocol.ts";
import { bearerSecurity, createRouter, errorResponses, jsonContent } from "../router.ts";
import { createRun } from "../runs/create-run.ts";
import {
  ownedRun,
  RUN_COLUMNS,
  type RunRow,
  readableRun,
  runDetail,
  runRecords,
  toSummary,
} from "../runs/run-view.ts";
import { storedSample } from "../runs/stored-sample.ts";
import { runExportRoutes } from "./run-exports.ts";

const params = z.object({ id: z.string().max(200) });

const create = createRoute({
  method: "post",
  path: "/runs",
  summary: "Create a run (submit): prompts built here, shards task × r × doc range",
  security: bearerSecurity,
  request: { body: { content: jsonContent(RunCreateSchema) } },
  responses: {
    201: { description: "created", content: jsonContent(RunDetailSchema) },
    ...errorResponses(400, 401, 403, 404, 409, 413),
  },
});

const list = createRoute({
  method: "get",
  path: "/runs",
  summary: "List runs: all with a submit token, published ones without",
  responses: {
    200: { description: "runs", content: jsonContent(RunListSchema) },
    ...errorResponses(401),
  },
});

const show = createRoute({
  method: "get",
  path: "/runs/{id}",
  summary:
    "A run: progress per task × r, accuracy ± CI per metric, FLOPs, tokens, backends, failures",
  request: { params },
  responses: {
    200: { description: "run", content: jsonContent(RunDetailSchema) },
    ...errorResponses(401, 404),
  },
});

const cancel = createRoute({
  method: "post",
  path: "/runs/{id}/cancel",
  summary: "Cancel an active run (submit); its queued and leased shards are dropped",
  security: bearerSecurity,
  request: { params },
  responses: {
    200: { description: "cancelled", content: jsonContent(RunDetailSchema) },
    ...errorResponses(401, 403, 404, 409),
  },
});

const retry = createRoute({
  method: "post",
  path: "/runs/{id}/retry",
  summary:
    "Put an incomplete run's failed shards back in the queue (submit) with fresh failure budgets",
  security: bearerSecurity,
  request: { params },
  responses: {
    200: { description: "active again", content: jsonContent(RunDetailSchema) },
    ...errorResponses(401, 403, 404, 409),
  },
});

const publish = createRoute({
  method: "post",
  path: "/runs/{id}/publish",
  summary: "Publish a finished run (submit): public reads and the leaderboard",
  security: bearerSecurity,
  request: { params },
  responses: {
    200: { description: "published", content: jsonContent(RunDetailSchema) },
    ...errorResponses(401, 403, 404, 409),
  },
});

const samples = createRoute({
  method: "get",
  path: "/runs/{id}/samples",
  summary: "Per-sample records, paginated; filter by task, r and correct (primary metric)",
  request: { params, query: SampleQuerySchema },
  responses: {
    200: { description: "page", content: jsonContent(SamplePageSchema) },
    ...errorResponses(400, 401, 404),
  },
});

export const runRoutes = createRouter()
  .openapi(create, async function createRunRoute(c) {
    const principal = requireRole(c, "submit");
    const runId = await createRun(c.env, c.req.valid("json"), principal);
    return c.json(await runDetail(c.env, await readableRun(c.env, principal, runId)), 201);
  })
  .openapi(list, async function listRuns(c) {
    const principal = c.get("principal");
    // Admins see every run; a submitter its own and the published ones; anyone the published ones.
    const scope =
      principal?.role === "admin"
        ? ""
        : principal?.role === "submit"
          ? "WHERE r.published = 1 OR r.created_by = ?"
          : "WHERE r.published = 1";
    const statement = c.env.DB.prepare(
      `SELECT ${RUN_COLUMNS} FROM runs r JOIN checkpoints c ON c.id = r.checkpoint_id ${scope} ORDER BY r.created_at DESC LIMIT 500`,
    );
    const { results } = await (principal?.role === "submit"
      ? statement.bind(principal.tokenId)
      : statement
    ).all<RunRow>();
    return c.json({ runs: results.map(toSummary) }, 200);
  })
  .openapi(show, async function showRun(c) {
    const row = await readableRun(c.env, c.get("principal"), c.req.valid("param").id);
    return c.json(await runDetail(c.env, row), 200);
  })
  .openapi(cancel, async function cancelRun(c) {
    const principal = requireRole(c, "submit");
    const row = await ownedRun(c.env, principal, c.req.valid("param").id);
    if (row.state !== "active") throw conflict("run_not_active", `run ${row.id} is ${row.state}`);
    const now = new Date().toISOString();
    await c.env.DB.batch([
      c.env.DB.prepare(
        "UPDATE runs SET state = 'cancelled', finished_at = ? WHERE id = ? AND state = 'active'",
      ).bind(now, row.id),
      c.env.DB.prepare(
        "UPDATE shards SET state = 'cancelled' WHERE run_id = ? AND state IN ('queued', 'leased')",
      ).bind(row.id),
    ]);
    return c.json(await runDetail(c.env, await readableRun(c.env, principal, row.id)), 200);
  })
  .openapi(retry, async function retryRun(c) {
    const principal = requireRole(c, "submit");
    const row = await ownedRun(c.env, principal, c.req.valid("param").id);
    if (row.state !== "incomplete" && row.state !== "active") {
      throw conflict("run_not_incomplete", `run ${row.id} is ${row.state}; nothing to retry`);
    }
    const [requeued] = await c.env.DB.batch([
      c.env.DB.prepare(
        "UPDATE shards SET state = 'queued', failures = 0, expiries = 0 WHERE run_id = ? AND state = 'failed'",
      ).bind(row.id),
      c.env.DB.prepare(
        "UPDATE runs SET state = 'active', finished_at = NULL WHERE id = ? AND state = 'incomplete' AND EXISTS (SELECT 1 FROM shards WHERE run_id = runs.id AND state = 'queued')",
      ).bind(row.id),
    ]);
    if (!requeued.meta.changes) {
      throw conflict("nothing_to_retry", `run ${row.id} has no failed shards`);
    }
    return c.json(await runDetail(c.env, await readableRun(c.env, principal, row.id)), 200);
  })
  .openapi(publish, async function publishRun(c) {
    const principal = requireRole(c, "submit");
    const row = await ownedRun(c.env, principal, c.req.valid("param").id);
    if (row.state !== "finished") {
      throw conflict(
        "run_not_finished",
        `run ${row.id} is ${row.state}; publish it once it finished`,
      );
    }
    if (row.published !== 1) {
      const aggregates = aggregateSamples(await runRecords(c.env, row.id));
      await c.env.DB.prepare(
        `UPDATE runs SET published = 1, published_aggregates = ?,
           verified = (SELECT count(*) > 0 AND min(trusted) = 1 FROM samples WHERE run_id = runs.id)
         WHERE id = ?`,
      )
        .bind(JSON.stringify(aggregates), row.id)
        .run();
    }
    return c.json(await runDetail(c.env, await readableRun(c.env, principal, row.id)), 200);
  })
  .openapi(samples, async function listSamples(c) {
    const row = await readableRun(c.env, c.get("principal"), c.req.valid("param").id);
    const query = c.req.valid("query");
    const where = ["run_id = ?"];
    const binds: unknown[] = [row.id];
    const filter = (clause: string, value: unknown) => {
      where.push(clause);
      binds.push(value);
    };
    if (query.task) filter("task = ?", query.task);
    if (query.r) filter("recurrences = ?", query.r);
    if (query.correct) filter("correct = ?", query.correct === "true" ? 1 : 0);
    if (query.cursor) {
      const after = decodeCursor(query.cursor);
      where.push("(task, recurrences, doc_index) > (?, ?, ?)");
      binds.push(after.task, after.r, after.doc);
    }
    const { results } = await c.env.DB.prepare(
      `SELECT task, recurrences, doc_index, record, reused, reused_from_run, runner FROM samples WHERE ${where.join(" AND ")}
       ORDER BY task, recurrences, doc_index LIMIT ?`,
    )
      .bind(...binds, query.limit + 1)
      .all<{
        task: string;
        recurrences: number;
        doc_index: number;
        record: string;
        reused: number;
        reused_from_run: string | null;
        runner: string | null;
      }>();
    const page = results.slice(0, query.limit);
    const last = page.at(-1);
    const samplesOut: Sample[] = page.map(storedSample);
    return c.json(
      {
        samples: samplesOut,
        next_cursor:
          results.length > query.limit && last
            ? encodeCursor({ task: last.task, r: last.recurrences, doc: last.doc_index })
            : null,
      },
      200,
    );
  })
  // Downloads: lm-eval's results and samples, the run's samples as JSONL and CSV.
  .route("/", runExportRoutes);

interface Cursor {
  task: string;
  r: number;
  doc: number;
}

function encodeCursor(cursor: Cursor): string {
  return btoa(JSON.stringify([cursor.task, cursor.r, cursor.doc]));
}

function decodeCursor(text: string): Cursor {
  try {
    const [task, r, doc] = JSON.parse(atob(text));
    if (typeof task === "string" && Number.isInteger(r) && Number.isInteger(doc))
      return { task, r, doc };
  } catch {}
  throw badRequest("cursor: not a cursor this API returned");
}
