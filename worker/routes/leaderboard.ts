// The public leaderboard: per task, every published run's accuracy at each r, its best r, FLOPs,
// `verified` when every sample came from a trusted runner, and `canonical_data` unless the run's
// prompts came from a dataset version that is not the canonical one.
import { createRoute, z } from "@hono/zod-openapi";
import type { Aggregate } from "../../evals/run/records.ts";
import { effectiveParameters } from "../../model/flops.ts";
import { type LeaderboardEntry, LeaderboardSchema } from "../protocol.ts";
import { createRouter, jsonContent } from "../router.ts";
import { loadCheckpoint } from "../storage/checkpoint-store.ts";
import { precisionCostRoutes } from "./precision-cost.ts";
import { publicReadRoutes } from "./public-reads.ts";

const leaderboard = createRoute({
  method: "get",
  path: "/leaderboard",
  summary: "Published runs per task, best first (public)",
  request: { query: z.object({ task: z.string().max(100).optional() }) },
  responses: {
    200: {
      description: "leaderboard",
      content: jsonContent(LeaderboardSchema),
    },
  },
});

export const leaderboardRoutes = createRouter()
  .openapi(leaderboard, async function showLeaderboard(c) {
    const { task: only } = c.req.valid("query");
    const { results: runs } = await c.env.DB.prepare(
      `SELECT r.id, r.checkpoint_id, c.name, r.published_aggregates, r.verified
     FROM runs r JOIN checkpoints c ON c.id = r.checkpoint_id WHERE r.published = 1`,
    ).all<{
      id: string;
      checkpoint_id: string;
      name: string;
      published_aggregates: string;
      verified: number;
    }>();
    // (run, task) pairs whose prompts came from a dataset version that is not canonical (now).
    const { results: offCanonical } = await c.env.DB.prepare(
      `SELECT t.run_id, t.task FROM run_tasks t JOIN runs r ON r.id = t.run_id
       WHERE r.published = 1 AND NOT EXISTS (SELECT 1 FROM canonical_datasets c WHERE c.dataset_id = t.dataset_id)`,
    ).all<{ run_id: string; task: string }>();
    const nonCanonical = new Set(offCanonical.map((t) => `${t.run_id}\u0000${t.task}`));
    const byTask = new Map<string, LeaderboardEntry[]>();
    for (const run of runs) {
      const { manifest } = await loadCheckpoint(c.env, run.checkpoint_id);
      const aggregates: Aggregate[] = JSON.parse(run.published_aggregates);
      for (const taskName of new Set(aggregates.map((a) => a.task))) {
        if (only && taskName !== only) continue;
        const rows = aggregates.filter((a) => a.task === taskName);
        const metric = rows[0].primary_metric;
        const byRecurrence = rows
          .map((a) => {
            const m = a.metrics[metric] ?? {
              accuracy: 0,
              stderr: 0,
              ci95: [0, 0] as [number, number],
            };
            return {
              recurrences: a.recurrences,
              n: a.n,
              accuracy: m.accuracy,
              stderr: m.stderr,
              ci95: m.ci95,
              mean_flops: a.mean_flops,
              effective_parameters: effectiveParameters(manifest, a.recurrences),
            };
          })
          .sort((a, b) => a.recurrences - b.recurrences);
        const best = byRecurrence.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
        const entries = byTask.get(taskName) ?? [];
        entries.push({
          run_id: run.id,
          checkpoint_id: run.checkpoint_id,
          checkpoint_name: run.name,
          primary_metric: metric,
          best: { recurrences: best.recurrences, accuracy: best.accuracy, stderr: best.stderr },
          by_recurrence: byRecurrence,
          verified: run.verified === 1,
          canonical_data: !nonCanonical.has(`${run.id}\u0000${taskName}`),
        });
        byTask.set(taskName, entries);
      }
    }
    const tasks = [...byTask.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([task, entries]) => ({
        task,
        entries: entries.sort((a, b) => b.best.accuracy - a.best.accuracy),
      }));
    return c.json({ tasks }, 200);
  })
  .route("/", publicReadRoutes) // the dashboard's reads (public-reads.ts)
  .route("/", precisionCostRoutes);
