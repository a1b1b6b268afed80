// DESIGN §7 result key: sha256 over everything that can change a completion. A result is reused
// only when its key matches, so a byte left out here lets one checkpoint's samples leak into
// another's run (two exports that differ only in `block.onnx.data` once did).
import {
  type GraphVariantName,
  type Manifest,
  quantizesActivations,
} from "../../model/manifest.ts";
import { canonicalJson, sha256Hex } from "../tasks/render.ts";

export interface ResultKeyParts {
  /** `checkpointIdentity(manifest)`: files computed with plus computation-relevant fields. */
  checkpoint: string;
  /** `taskHash`: prompt template, few-shot config and count, filters, task version. */
  taskHash: string;
  /** sha256 of each dataset file the prompts were built from (documents and few-shot pool). */
  datasetFiles: readonly string[];
  docHash: string;
  /** sha256 of the exact prompt text (few-shot exemplars included). */
  promptHash: string;
  recurrences: number;
  /** Generation settings, or for loglikelihood tasks whether BOS is prepended. */
  generation:
    | { until: readonly string[]; maxNewTokens: number }
    | { loglikelihood: true; addBos: boolean };
  stateInit: string;
  seed: number;
  kv: string;
  /** Precision the graphs run at (dtype or quantization). */
  dtype: string;
  /**
   * `graphVariantIdentity` when a graph variant of the checkpoint computed the result; absent for
   * the default graphs, so their keys are what they were before variants existed.
   */
  graphVariant?: string;
  /**
   * The backend that computed the result, for checkpoints whose numbers depend on it
   * (`quantizesActivations`): a node result is then never reused for a WASM one. Absent
   * otherwise, so every other key is what it was before.
   */
  backend?: string;
}

export function resultKey(parts: ResultKeyParts): Promise<string> {
  const { graphVariant, backend, ...rest } = parts;
  return sha256Hex(
    canonicalJson({
      ...rest,
      datasetFiles: [...parts.datasetFiles].sort(),
      ...(graphVariant ? { graphVariant } : {}),
      ...(backend ? { backend } : {}),
    }),
  );
}

/** The `backend` part of a result key: the backend's name where the checkpoint needs it. */
export function keyedBackend(manifest: Manifest, backend: string): string | undefined {
  return quantizesActivations(manifest.quantization) ? backend : undefined;
}

/** A graph variant as a result key names it: its name and the hashes of its graph files. */
export function graphVariantIdentity(manifest: Manifest, variant: GraphVariantName): string {
  const graphs = manifest.variants?.[variant]?.graphs;
  if (!graphs) throw new Error(`the checkpoint has no graph variant ${variant}`);
  const files = [graphs.prelude, graphs.block, graphs.coda].flatMap((g) =>
    g ? [g.sha256, ...(g.externalData ? [g.externalData.sha256] : [])] : [],
  );
  return canonicalJson({ variant, files });
}

/**
 * One hash naming a checkpoint as far as its completions go: every file the engine computes with
 * (graphs, their external data, tokenizer files) and the manifest fields that steer computation.
 * Left out on purpose: name, source, created_by, train_recurrence, parameter counts and the
 * numeric check — none of them changes a single generated token.
 */
export function checkpointIdentity(manifest: Manifest): Promise<string> {
  const files: [string, string][] = [];
  for (const part of ["prelude", "block", "coda"] as const) {
    const graph = manifest.graphs[part];
    if (!graph) continue;
    files.push([`${part}:${graph.file}`, graph.sha256]);
    if (graph.externalData)
      files.push([`${part}:${graph.externalData.file}`, graph.externalData.sha256]);
  }
  for (const [name, sha256] of Object.entries(manifest.tokenizer.files).sort()) {
    files.push([`tokenizer:${name}`, sha256]);
  }
  const { architecture, layers, adapter, state_init, tokens, dtype } = manifest;
  return sha256Hex(
    canonicalJson({ files, architecture, layers, adapter, state_init, tokens, dtype }),
  );
}
