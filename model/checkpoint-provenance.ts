// What a checkpoint is, in the words every display uses: its flavour, the model it was cut from
// (hub repo at its revision, a preset, or a local folder's name, never the submitter's full path),
// its adapter and the raven config's default r (not the training r: retrofits inherit Huginn's 32).
import { z } from "zod";
import type { Manifest } from "./manifest.ts";

export const CheckpointProvenanceSchema = z.object({
  /** The manifest's flavour as is: a `huginn` checkpoint reads `huginn`, never `llama`. */
  flavour: z.enum(["llama", "olmo2", "retrofit-llama", "retrofit-olmo2", "huginn"]),
  /** `org/name@revision`, `random preset <name>`, or `<folder> (local)`. */
  source: z.string(),
  /** `trained`, `random seed=N`, `identity`, or `none` for a non-recurrent checkpoint. */
  adapter: z.string(),
  train_recurrence: z.number().int().nullable(),
  /** A raven config's `mean_recurrence`; shown as "config default r", never as the training r. */
  config_default_recurrence: z.number().int().nullable(),
});
export type CheckpointProvenance = z.infer<typeof CheckpointProvenanceSchema>;

export function checkpointProvenance(manifest: Manifest): CheckpointProvenance {
  return {
    flavour: manifest.architecture.flavour,
    source: publicSourceLabel(manifest.source),
    adapter: adapterDescription(manifest.adapter),
    train_recurrence: manifest.train_recurrence,
    config_default_recurrence: manifest.config_default_recurrence ?? null,
  };
}

export function publicSourceLabel(
  source: Pick<Manifest["source"], "kind" | "repo" | "revision" | "path" | "preset">,
): string {
  if (source.kind === "hf") {
    return `${source.repo ?? "unknown repo"}@${source.revision ?? "unknown revision"}`;
  }
  if (source.kind === "random") return `random preset ${source.preset ?? "unknown"}`;
  return `${lastPathComponent(source.path) ?? "unnamed folder"} (local)`;
}

export function adapterDescription(adapter: Manifest["adapter"]): string {
  if (!adapter) return "none";
  if (adapter.init === "random") return `random seed=${adapter.seed ?? "unknown"}`;
  return adapter.init;
}

/** A submitter's local directory is theirs: only its last component is shown. */
export function lastPathComponent(path: string | null): string | null {
  return path?.split(/[\\/]/).filter(Boolean).at(-1) ?? null;
}
