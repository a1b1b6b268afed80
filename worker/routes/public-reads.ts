// Reads the dashboard needs beyond the run detail: one document of a run (prompt, gold and its
// samples across r), the compact correctness matrix of a run (doc × r, primary metric), and the
// public facts of checkpoints that have published runs (family, source, training recurrence).
// Published runs are public; unpublished ones need a submit token, as everywhere else.

import { createRoute, z } from "@hono/zod-openapi";
import { canonicalJson, sha256Hex } from "../../evals/tasks/render.ts";
import { adapterLabel } from "../../model/checkpoint-name.ts";
import {
  CheckpointProvenanceSchema,
  checkpointProvenance,
  lastPathComponent,
} from "../../model/checkpoint-provenance.ts";
import { DtypeSchema, FidelitySchema, type Manifest } from "../../model/manifest.ts";
import { notFound } from "../http-error.ts";
import { type RunConfig, SampleSchema } from "../protocol.ts";
import { createRouter, errorResponses, jsonContent } from "../router.ts";
import { promptSeen } from "../runs/prompt-seen.ts";
import { readableRun } from "../runs/run-view.ts";
import { type StoredSampleRow, storedSample } from "../runs/stored-sample.ts";
import { generationCap, primaryMetric } from "../runs/task-facts.ts";
import { loadCheckpoint } from "../storage/checkpoint-store.ts";

export const RunDocumentSchema = z
  .object({
    task: z.string(),
    doc_index: z.number().int(),
    doc_id: z.string(),
    doc_hash: z.string(),
    prompt: z.string(),
    /** The gold answer field as the scorer reads it (GSM8K: the whole worked answer). */
    gold: z.string(),
    /** The document's samples, one per r that has a result, in r order. */
    samples: z.array(SampleSchema),
    /**
     * When a sample's prompt was cut to the model's window: the kept window decoded with the
     * checkpoint's tokenizer (null when not truncated, or the tokenizer could not be read).
     */
    prompt_seen: z
      .object({
        text: z.string(),
        kept_tokens: z.number().int(),
        dropped_tokens: z.number().int(),
      })
      .nullable(),
  })
  .meta({ id: "RunDocument" });
export type RunDocument = z.infer<typeof RunDocumentSchema>;

export const RunOutcomesSchema = z
  .object({
    tasks: z.array(
      z.object({
        task: z.string(),
        primary_metric: z.string(),
        recurrences: z.array(z.number().int()),
        /** The run's generation cap for this task: a sample that reached it was cut off. */
        max_new_tokens: z.number().int().nullable().optional(),
        docs: z.array(
          z.object({
            doc_index: z.number().int(),
            doc_id: z.string(),
            doc_hash: z.string(),
            /** Aligned with `recurrences`: 1 correct, 0 wrong, null no result yet. */
            correct: z.array(z.union([z.literal(0), z.literal(1), z.null()])),
            // The three flags below are always sent; optional only for callers built before them.
            /** Aligned with `recurrences`, 1 where that sample's prompt was cut to the window. */
            truncated: z.array(z.union([z.literal(0), z.literal(1), z.null()])).optional(),
            /** Aligned with `recurrences`, 1 where generation stopped at the token cap. */
            capped: z.array(z.union([z.literal(0), z.literal(1), z.null()])).optional(),
            /** Aligned with `recurrences`, 1 where the sample was reused from an earlier run. */
            reused: z.array(z.union([z.literal(0), z.literal(1), z.null()])).optional(),
          }),
        ),
      }),
    ),
  })
  .meta({ id: "RunOutcomes" });
export type RunOutcomes = z.infer<typeof RunOutcomesSchema>;

export const PublicCheckpointSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    /** The manifest's flavour: `llama`, `olmo2`, `retrofit-llama`, `retrofit-olmo2`, `huginn`. */
    family: z.string(),
    source: z.object({
      kind: z.string(),
      repo: z.string().nullable(),
      revision: z.string().nullable(),
      path: z.string().nullable(),
      preset: z.string().nullable(),
      architecture: z.string(),
    }),
    /** sha256 of the source description and source file hashes: equal for checkpoints cut from one model. */
    source_id: z.string(),
    train_recurrence: z.number().int().nullable(),
    layers: z.object({
      prelude: z.number().int(),
      block: z.number().int(),
      coda: z.number().int(),
    }),
    /** False for a non-recurrent checkpoint (B = 0): the baseline of retrofits from the same source. */
    recurrent: z.boolean(),
    /** `random-s0`, `identity`, `trained`; null without an adapter. */
    adapter: z.string().nullable(),
    total_parameters: z.number().int(),
    /** Weight precision runs of this checkpoint are computed at: results of different ones differ. */
    dtype: DtypeSchema,
    /**
     * A lossy export's agreement with its fp32 reference (top-1, mean/max KL per measured r), as
     * measured at export; null for fp32 and for exports that were not measured.
     */
    fidelity: FidelitySchema.nullable(),
    /**
     * An fp16 export's fp16-compute graphs (`webgpu_f16`, run by WebGPU runners whose adapter has
     * shader-f16): their own agreement with fp32 and where it was computed (`computed_on`); null
     * without such graphs or a measurement.
     */
    f16_fidelity: FidelitySchema.nullable(),
    /** Flavour, source (`repo@revision`, preset or folder name), adapter, train and config default r. */
    provenance: CheckpointProvenanceSchema,
  })
  .meta({ id: "PublicCheckpoint" });
export type PublicCheckpoint = z.infer<typeof PublicCheckpointSchema>;

export const PublicCheckpointListSchema = z.object({
  checkpoints: z.array(PublicCheckpointSchema),
});

const runDocument = createRoute({
  method: "get",
  path: "/runs/{id}/docs/{task}/{doc_index}",
  summary: "One document of a run: prompt, gold and its samples across r (public when published)",
  request: {
    params: z.object({
      id: z.string().max(200),
      task: z.string().max(100),
      doc_index: z.coerce.number().int().nonnegative(),
    }),
  },
  responses: {
    200: { description: "document", content: jsonContent(RunDocumentSchema) },
    ...errorResponses(400, 401, 404),
  },
});

const runOutcomes = createRoute({
  method: "get",
  path: "/runs/{id}/outcomes",
  summary: "Correctness (primary metric) of every document at every r, for comparisons",
  request: {
    params: z.object({ id: z.string().max(200) }),
    query: z.object({ task: z.string().max(100).optional() }),
  },
  responses: {
    200: { description: "doc × r matrix", content: jsonContent(RunOutcomesSchema) },
    ...errorResponses(400, 401, 404),
  },
});

export const RunSearchSchema = z
  .object({ task: z.string(), q: z.string(), doc_indices: z.array(z.number().int()) })
  .meta({ id: "RunSearch" });

const runSearch = createRoute({
  method: "get",
  path: "/runs/{id}/search",
  summary: "Documents of one task whose prompt, gold or any completion contains `q` (any case)",
  request: {
    params: z.object({ id: z.string().max(200) }),
    query: z.object({ task: z.string().max(100), q: z.string().min(1).max(200) }),
  },
  responses: {
    200: { description: "matching documents", content: jsonContent(RunSearchSchema) },
    ...errorResponses(400, 401, 404),
  },
});

const publishedCheckpoints = createRoute({
  method: "get",
  path: "/leaderboard/checkpoints",
  summary: "Checkpoints with published runs: family, source, training recurrence (public)",
  responses: {
    200: { description: "checkpoints", content: jsonContent(PublicCheckpointListSchema) },
  },
});

export const publicReadRoutes = createRouter()
  .openapi(runDocument, async function showRunDocument(c) {
    const { id, task, doc_index } = c.req.valid("param");
    const row = await readableRun(c.env, c.get("principal"), id);
    const [docs, samples] = await c.env.DB.batch([
      c.env.DB.prepare(
        "SELECT doc_id, doc_hash, prompt, gold FROM run_docs WHERE run_id = ? AND task = ? AND doc_index = ?",
      ).bind(row.id, task, doc_index),
      c.env.DB.prepare(
        "SELECT record, reused, reused_from_run, runner FROM samples WHERE run_id = ? AND task = ? AND doc_index = ? ORDER BY recurrences",
      ).bind(row.id, task, doc_index),
    ]);
    const doc = docs.results[0] as
      | { doc_id: string; doc_hash: string; prompt: string; gold: string }
      | undefined;
    if (!doc) throw notFound("document", `${task}/${doc_index} in run ${row.id}`);
    const records = (samples.results as StoredSampleRow[]).map(storedSample);
    const cap = generationCap(task, JSON.parse(row.config));
    const seen =
      cap !== null && records.some((r) => r.prompt_truncated)
        ? await promptSeen(c.env, await loadCheckpoint(c.env, row.checkpoint_id), doc.prompt, cap)
        : null;
    return c.json({ task, doc_index, ...doc, samples: records, prompt_seen: seen }, 200);
  })
  .openapi(runOutcomes, async function showRunOutcomes(c) {
    const row = await readableRun(c.env, c.get("principal"), c.req.valid("param").id);
    const only = c.req.valid("query").task;
    const config = JSON.parse(row.config) as RunConfig;
    const recurrences = [...config.recurrences].sort((a, b) => a - b);
    const taskFilter = only ? " AND task = ?" : "";
    const binds = only ? [row.id, only] : [row.id];
    const [docs, samples] = await c.env.DB.batch([
      c.env.DB.prepare(
        `SELECT task, doc_index, doc_id, doc_hash FROM run_docs WHERE run_id = ?${taskFilter} ORDER BY task, doc_index`,
      ).bind(...binds),
      c.env.DB.prepare(
        `SELECT task, doc_index, recurrences, correct, reused,
           json_extract(record, '$.prompt_truncated') AS truncated,
           json_extract(record, '$.generated_tokens') AS generated
         FROM samples WHERE run_id = ?${taskFilter}`,
      ).bind(...binds),
    ]);
    type DocRow = { task: string; doc_index: number; doc_id: string; doc_hash: string };
    type SampleRow = {
      task: string;
      doc_index: number;
      recurrences: number;
      correct: number;
      reused: number;
      truncated: number | null;
      generated: number;
    };
    type Flags = (0 | 1 | null)[];
    type Doc = RunOutcomes["tasks"][number]["docs"][number] & {
      truncated: Flags;
      capped: Flags;
      reused: Flags;
    };
    const byTask = new Map<string, RunOutcomes["tasks"][number]>();
    const slots = new Map<string, Doc>();
    for (const d of docs.results as DocRow[]) {
      let entry = byTask.get(d.task);
      if (!entry) {
        entry = {
          task: d.task,
          primary_metric: primaryMetric(d.task),
          recurrences,
          max_new_tokens: generationCap(d.task, config),
          docs: [],
        };
        byTask.set(d.task, entry);
      }
      const empty = () => recurrences.map(() => null);
      const doc: Doc = {
        doc_index: d.doc_index,
        doc_id: d.doc_id,
        doc_hash: d.doc_hash,
        correct: empty(),
        truncated: empty(),
        capped: empty(),
        reused: empty(),
      };
      slots.set(`${d.task}\u0000${d.doc_index}`, doc);
      entry.docs.push(doc);
    }
    const bit = (value: unknown) => (value ? 1 : 0);
    for (const s of samples.results as SampleRow[]) {
      const doc = slots.get(`${s.task}\u0000${s.doc_index}`);
      const at = recurrences.indexOf(s.recurrences);
      if (!doc || at < 0) continue;
      const cap = byTask.get(s.task)?.max_new_tokens ?? null;
      doc.correct[at] = bit(s.correct);
      doc.truncated[at] = bit(s.truncated);
      doc.capped[at] = bit(cap !== null && s.generated >= cap);
      doc.reused[at] = bit(s.reused);
    }
    return c.json({ tasks: [...byTask.values()] }, 200);
  })
  .openapi(runSearch, async function searchRun(c) {
    const row = await readableRun(c.env, c.get("principal"), c.req.valid("param").id);
    const { task, q } = c.req.valid("query");
    const needle = q.toLowerCase();
    const { results } = await c.env.DB.prepare(
      `SELECT d.doc_index FROM run_docs d WHERE d.run_id = ?1 AND d.task = ?2 AND (
         instr(lower(d.prompt), ?3) > 0 OR instr(lower(d.gold), ?3) > 0 OR EXISTS (
           SELECT 1 FROM samples s WHERE s.run_id = d.run_id AND s.task = d.task
             AND s.doc_index = d.doc_index
             AND instr(lower(json_extract(s.record, '$.completion')), ?3) > 0))
       ORDER BY d.doc_index`,
    )
      .bind(row.id, task, needle)
      .all<{ doc_index: number }>();
    return c.json({ task, q, doc_indices: results.map((r) => r.doc_index) }, 200);
  })
  .openapi(publishedCheckpoints, async function listPublishedCheckpoints(c) {
    const { results } = await c.env.DB.prepare(
      "SELECT DISTINCT checkpoint_id FROM runs WHERE published = 1 ORDER BY checkpoint_id",
    ).all<{ checkpoint_id: string }>();
    const checkpoints = await Promise.all(
      results.map(async ({ checkpoint_id }) => {
        const checkpoint = await loadCheckpoint(c.env, checkpoint_id);
        return publicCheckpoint(checkpoint.id, checkpoint.total_parameters, checkpoint.manifest);
      }),
    );
    return c.json({ checkpoints }, 200);
  });

/** What anyone may know about a checkpoint with a published run (no file list, no weights). */
export async function publicCheckpoint(
  id: string,
  totalParameters: number,
  manifest: Manifest,
): Promise<PublicCheckpoint> {
  const { kind, repo, revision, path, preset, files, architecture } = manifest.source;
  return {
    id,
    name: manifest.name,
    family: manifest.architecture.flavour,
    // A submitter's local directory is theirs: only its last component is public.
    source: { kind, repo, revision, path: lastPathComponent(path), preset, architecture },
    source_id: await sha256Hex(canonicalJson({ kind, repo, revision, path, preset, files })),
    train_recurrence: manifest.train_recurrence,
    layers: {
      prelude: manifest.layers.prelude.length,
      block: manifest.layers.block.length,
      coda: manifest.layers.coda.length,
    },
    recurrent: manifest.layers.block.length > 0,
    adapter: adapterLabel(manifest.adapter),
    total_parameters: totalParameters,
    dtype: manifest.dtype,
    fidelity: manifest.fidelity ?? null,
    f16_fidelity: manifest.variants?.webgpu_f16?.fidelity ?? null,
    provenance: checkpointProvenance(manifest),
  };
}
