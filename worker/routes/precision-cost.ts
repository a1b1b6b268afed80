// The accuracy cost of a lossy precision, as a public read: for a run, the runs the caller may
// read of the same weights at the other side of fp32 (a lossy run's fp32 twins, an fp32 run's
// lossy twins), paired on the documents both scored at the same task, r and prompt, with fp32
// accuracy, lossy accuracy and an exact McNemar test per (task, r).
import { createRoute, z } from "@hono/zod-openapi";
import { precisionCost } from "../../evals/run/precision-cost.ts";
import { canonicalJson } from "../../evals/tasks/render.ts";
import { DtypeSchema, type Manifest, ManifestSchema } from "../../model/manifest.ts";
import type { Env } from "../env.ts";
import { createRouter, errorResponses, jsonContent } from "../router.ts";
import { ownsRun, RUN_COLUMNS, type RunRow, readableRun } from "../runs/run-view.ts";
import { loadCheckpoint } from "../storage/checkpoint-store.ts";

/** Twin runs compared at most, newest first: each costs a read of all its samples. */
const MAX_COMPARISONS = 5;

const PrecisionCostRowSchema = z.object({
  task: z.string(),
  recurrences: z.number().int(),
  reference: DtypeSchema,
  lossy: DtypeSchema,
  paired: z.number().int(),
  reference_accuracy: z.number(),
  lossy_accuracy: z.number(),
  delta_points: z.number(),
  only_reference: z.number().int(),
  only_lossy: z.number().int(),
  p_value: z.number(),
});

export const RunPrecisionCostSchema = z
  .object({
    run_id: z.string(),
    dtype: DtypeSchema,
    /** One per readable twin run that shares documents with this one, newest first. */
    comparisons: z.array(
      z.object({
        run_id: z.string(),
        checkpoint_id: z.string(),
        checkpoint_name: z.string(),
        dtype: DtypeSchema,
        rows: z.array(PrecisionCostRowSchema),
      }),
    ),
  })
  .meta({ id: "RunPrecisionCost" });
export type RunPrecisionCost = z.infer<typeof RunPrecisionCostSchema>;

const runPrecisionCost = createRoute({
  method: "get",
  path: "/runs/{id}/precision-cost",
  summary:
    "Accuracy at fp32 and at a lossy precision on the same documents (same weights), with McNemar",
  request: { params: z.object({ id: z.string().max(200) }) },
  responses: {
    200: {
      description: "paired comparisons",
      content: jsonContent(RunPrecisionCostSchema),
    },
    ...errorResponses(400, 401, 404),
  },
});

export const precisionCostRoutes = createRouter().openapi(
  runPrecisionCost,
  async function showPrecisionCost(c) {
    const row = await readableRun(c.env, c.get("principal"), c.req.valid("param").id);
    const { manifest } = await loadCheckpoint(c.env, row.checkpoint_id);
    const twins = await twinRuns(c.env, manifest, row.checkpoint_id);
    const readable = twins.filter((t) => t.published === 1 || ownsRun(c.get("principal"), t));
    const mine = await outcomes(c.env, row.id);
    const comparisons: RunPrecisionCost["comparisons"] = [];
    for (const twin of readable.slice(0, MAX_COMPARISONS)) {
      const theirs = await outcomes(c.env, twin.id);
      const reference = manifest.dtype === "fp32" ? mine : theirs;
      const lossy = manifest.dtype === "fp32" ? theirs : mine;
      const precisions = {
        reference: "fp32" as const,
        lossy: manifest.dtype === "fp32" ? twin.dtype : manifest.dtype,
      };
      const groups = new Map<string, { task: string; r: number; pairs: [number, number][] }>();
      for (const [key, outcome] of lossy) {
        const ref = reference.get(key);
        if (!ref) continue;
        const group = `${outcome.task}\u0000${outcome.recurrences}`;
        const entry = groups.get(group) ?? {
          task: outcome.task,
          r: outcome.recurrences,
          pairs: [],
        };
        entry.pairs.push([ref.correct, outcome.correct]);
        groups.set(group, entry);
      }
      if (groups.size === 0) continue;
      const rows = [...groups.values()]
        .map((g) => precisionCost(g.task, g.r, precisions, g.pairs))
        .sort((a, b) =>
          a.task === b.task ? a.recurrences - b.recurrences : a.task < b.task ? -1 : 1,
        );
      comparisons.push({
        run_id: twin.id,
        checkpoint_id: twin.checkpoint_id,
        checkpoint_name: twin.checkpoint_name,
        dtype: twin.dtype,
        rows,
      });
    }
    return c.json({ run_id: row.id, dtype: manifest.dtype, comparisons }, 200);
  },
);

/**
 * What makes two exports the same weights: source (files' hashes, preset), architecture, the
 * layers cut, the adapter (its seed also seeds random weights) and s₀. Not dtype, quantization,
 * fidelity, graph files or name.
 */
export function weightsIdentity(manifest: Manifest): string {
  const { source, architecture, layers, adapter, state_init } = manifest;
  return canonicalJson({ source, architecture, layers, adapter, state_init });
}

/** Runs of other checkpoints with the same weights across fp32 (fp32 ↔ lossy), newest first. */
async function twinRuns(
  env: Env,
  manifest: Manifest,
  checkpointId: string,
): Promise<(RunRow & { dtype: Manifest["dtype"] })[]> {
  // A lossy run is compared with fp32 runs; an fp32 run with every lossy one.
  const dtypeFilter =
    manifest.dtype === "fp32"
      ? "json_extract(manifest, '$.dtype') != 'fp32'"
      : "json_extract(manifest, '$.dtype') = 'fp32'";
  const { results } = await env.DB.prepare(
    `SELECT id, manifest FROM checkpoints WHERE id != ? AND ${dtypeFilter}`,
  )
    .bind(checkpointId)
    .all<{ id: string; manifest: string }>();
  const identity = weightsIdentity(manifest);
  const dtypes = new Map<string, Manifest["dtype"]>();
  for (const r of results) {
    const other = ManifestSchema.safeParse(JSON.parse(r.manifest));
    if (other.success && weightsIdentity(other.data) === identity) {
      dtypes.set(r.id, other.data.dtype);
    }
  }
  if (dtypes.size === 0) return [];
  const runs = await env.DB.prepare(
    `SELECT ${RUN_COLUMNS} FROM runs r JOIN checkpoints c ON c.id = r.checkpoint_id
     WHERE r.checkpoint_id IN (SELECT value FROM json_each(?)) ORDER BY r.created_at DESC, r.id`,
  )
    .bind(JSON.stringify([...dtypes.keys()]))
    .all<RunRow>();
  return runs.results.map((run) => ({ ...run, dtype: dtypes.get(run.checkpoint_id)! }));
}

interface Outcome {
  task: string;
  recurrences: number;
  correct: number;
}

/**
 * A run's primary-metric outcomes keyed by what must match for two samples to be a pair: task,
 * r, document, prompt (few-shot context, template), KV mode, s₀ and seed.
 */
async function outcomes(env: Env, runId: string): Promise<Map<string, Outcome>> {
  const { results } = await env.DB.prepare(
    `SELECT task, recurrences, correct,
       json_extract(record, '$.doc_hash') AS doc_hash,
       json_extract(record, '$.prompt_hash') AS prompt_hash,
       json_extract(record, '$.kv') AS kv,
       json_extract(record, '$.state_init') AS state_init,
       json_extract(record, '$.seed') AS seed
     FROM samples WHERE run_id = ?`,
  )
    .bind(runId)
    .all<Outcome & Record<"doc_hash" | "prompt_hash" | "kv" | "state_init" | "seed", unknown>>();
  const map = new Map<string, Outcome>();
  for (const s of results) {
    const key = [s.task, s.recurrences, s.doc_hash, s.prompt_hash, s.kv, s.state_init, s.seed];
    map.set(JSON.stringify(key), { task: s.task, recurrences: s.recurrences, correct: s.correct });
  }
  return map;
}
