// Downloads of a run: lm-eval's results file (one r) and its `--log_samples` lines, and the
// run's own samples as JSONL or CSV. Public when the run is published, like every read.
import { createRoute, z } from "@hono/zod-openapi";
import { lmEvalFileDate } from "../../evals/run/lm-eval-export.ts";
import type { RunConfig } from "../protocol.ts";
import { createRouter, errorResponses, jsonContent } from "../router.ts";
import { exportRecurrence, lmEvalResultsOf, lmEvalSamplesOf } from "../runs/lm-eval-files.ts";
import { readableRun } from "../runs/run-view.ts";
import { samplesCsv } from "../runs/samples-csv.ts";
import { type StoredSampleRow, storedSample } from "../runs/stored-sample.ts";
import { generationCap, primaryMetric } from "../runs/task-facts.ts";

const params = z.object({ id: z.string().max(200) });
const rQuery = z.coerce.number().int().positive().optional();

const exportRun = createRoute({
  method: "get",
  path: "/runs/{id}/export",
  summary:
    "One r of the run as lm-evaluation-harness's results file (`r` is required when the run has several)",
  request: { params, query: z.object({ r: rQuery, download: z.literal("1").optional() }) },
  responses: {
    200: {
      description: "lm-eval results",
      content: jsonContent(z.record(z.string(), z.unknown())),
    },
    ...errorResponses(400, 401, 404),
  },
});

const exportSamples = createRoute({
  method: "get",
  path: "/runs/{id}/export/samples",
  summary: "One task at one r as lm-eval's --log_samples JSONL (samples_<task>_<date>.jsonl)",
  request: { params, query: z.object({ task: z.string().max(100), r: rQuery }) },
  responses: {
    200: { description: "JSON lines", content: { "application/x-ndjson": { schema: z.string() } } },
    ...errorResponses(400, 401, 404),
  },
});

const downloadSamples = createRoute({
  method: "get",
  path: "/runs/{id}/samples/download",
  summary: "Every sample of the run as JSONL (all fields) or CSV (one row per task, r, document)",
  request: { params, query: z.object({ format: z.enum(["jsonl", "csv"]).default("jsonl") }) },
  responses: {
    200: {
      description: "samples",
      content: {
        "application/x-ndjson": { schema: z.string() },
        "text/csv": { schema: z.string() },
      },
    },
    ...errorResponses(400, 401, 404),
  },
});

const attachment = (name: string) => `attachment; filename="${name.replace(/[^\w.=-]+/g, "_")}"`;

export const runExportRoutes = createRouter()
  .openapi(exportRun, async function exportRunRoute(c) {
    const row = await readableRun(c.env, c.get("principal"), c.req.valid("param").id);
    const query = c.req.valid("query");
    const r = exportRecurrence(JSON.parse(row.config), query.r, row.id);
    const results = await lmEvalResultsOf(c.env, row, r);
    if (query.download) {
      c.header(
        "content-disposition",
        attachment(`results_${lmEvalFileDate(row.created_at)}_r${r}.json`),
      );
    }
    return c.json(results, 200);
  })
  .openapi(exportSamples, async function exportSamplesRoute(c) {
    const row = await readableRun(c.env, c.get("principal"), c.req.valid("param").id);
    const { task, r: asked } = c.req.valid("query");
    const r = exportRecurrence(JSON.parse(row.config), asked, row.id);
    const lines = await lmEvalSamplesOf(c.env, row, task, r);
    // Typed routes answer JSON; these bodies are text, so the Response is built directly.
    return new Response(lines.map((line) => `${JSON.stringify(line)}\n`).join(""), {
      headers: {
        "content-type": "application/x-ndjson; charset=utf-8",
        "content-disposition": attachment(
          `samples_${task}_${lmEvalFileDate(row.created_at)}_r${r}.jsonl`,
        ),
      },
    }) as never;
  })
  .openapi(downloadSamples, async function downloadSamplesRoute(c) {
    const { format } = c.req.valid("query");
    const row = await readableRun(c.env, c.get("principal"), c.req.valid("param").id);
    const { results } = await c.env.DB.prepare(
      "SELECT record, reused, reused_from_run, runner FROM samples WHERE run_id = ? ORDER BY task, recurrences, doc_index",
    )
      .bind(row.id)
      .all<StoredSampleRow>();
    const samples = results.map(storedSample);
    const config = JSON.parse(row.config) as RunConfig;
    const body =
      format === "csv"
        ? samplesCsv(samples, primaryMetric, (task) => generationCap(task, config))
        : samples.map((s) => `${JSON.stringify(s)}\n`).join("");
    return new Response(body, {
      headers: {
        "content-type":
          format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8",
        "content-disposition": attachment(`${row.id}-samples.${format}`),
      },
    }) as never;
  });
