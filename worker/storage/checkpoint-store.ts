// Registered checkpoints. Rows never change once written, so an isolate keeps the ones it read.
import { checkpointProvenance } from "../../model/checkpoint-provenance.ts";
import { type Manifest, ManifestSchema } from "../../model/manifest.ts";
import type { Env } from "../env.ts";
import { notFound } from "../http-error.ts";
import type { Checkpoint } from "../protocol.ts";
import { manifestFiles } from "../runs/checkpoint-files.ts";

export interface CheckpointRow {
  id: string;
  name: string;
  manifest: string;
  total_parameters: number;
  max_tensor_bytes: number;
  created_at: string;
}

const cache = new Map<string, Checkpoint>();

/** A checkpoint with its file list (sizes from the blob store); 404 when unknown. */
export async function loadCheckpoint(env: Env, id: string): Promise<Checkpoint> {
  const hit = cache.get(id);
  if (hit) return hit;
  const row = await env.DB.prepare("SELECT * FROM checkpoints WHERE id = ?")
    .bind(id)
    .first<CheckpointRow>();
  if (!row) throw notFound("checkpoint", id);
  const manifest = ManifestSchema.parse(JSON.parse(row.manifest));
  const checkpoint = {
    ...describeCheckpointRow(row, manifest),
    manifest,
    files: await filesWithSizes(env, manifest),
  };
  if (cache.size > 100) cache.clear();
  cache.set(id, checkpoint);
  return checkpoint;
}

async function filesWithSizes(env: Env, manifest: Manifest) {
  const files = manifestFiles(manifest);
  const { results } = await env.DB.prepare(
    "SELECT sha256, bytes FROM blobs WHERE sha256 IN (SELECT value FROM json_each(?))",
  )
    .bind(JSON.stringify(files.map((f) => f.sha256)))
    .all<{ sha256: string; bytes: number }>();
  const sizes = new Map(results.map((r) => [r.sha256, r.bytes]));
  return files.map((f) => ({
    name: f.name,
    sha256: f.sha256,
    bytes: sizes.get(f.sha256) ?? f.bytes ?? 0,
  }));
}

/** The record without its file list; `manifest` is the row's, parsed. */
export function describeCheckpointRow(row: Omit<CheckpointRow, "manifest">, manifest: Manifest) {
  const { id, name, total_parameters, max_tensor_bytes, created_at } = row;
  return {
    id,
    name,
    provenance: checkpointProvenance(manifest),
    total_parameters,
    max_tensor_bytes,
    created_at,
  };
}
