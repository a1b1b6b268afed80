// What `evals export` does: resolve the source (a directory, a hub id or a random preset), apply
// the surgery and write the checkpoint.
import { basename, resolve } from "node:path";
import type { TaskDoc } from "../evals/tasks/types.ts";
import { defaultCheckpointName } from "./checkpoint-name.ts";
import { SurgeryError } from "./errors.ts";
import {
  adapterRecord,
  type ExportDtype,
  type ExportOptions,
  exportCheckpoint,
  quantSpecOf,
} from "./export.ts";
import {
  addExportFidelity,
  type FidelityRequest,
  f16FidelityBackend,
  fidelityDocs,
} from "./export-fidelity.ts";
import { resolveHubModel } from "./hub.ts";
import type { Manifest } from "./manifest.ts";
import type { OperatorSet } from "./onnx/graph-builder.ts";
import { randomLlamaSource, randomPreset } from "./random.ts";
import { byteTokenizerFiles } from "./random-tokenizer.ts";
import { hashSourceFiles, loadSourceModel } from "./source.ts";
import { type AdapterInit, buildRecurrentWeights, recurrentFromLlama } from "./surgery.ts";
import { readRavenTokenIds, readTokenIds } from "./tokenizer-info.ts";
import type { LayerProvenance, RecurrentWeights } from "./weights.ts";

export interface ExportRequest {
  /** A Hugging Face model directory or `hf:org/name[@revision]`. */
  from?: string;
  /** A random preset name instead of `from`. */
  random?: string;
  out: string;
  split?: [number, number, number];
  layers?: LayerProvenance;
  adapter?: AdapterInit;
  seed?: number;
  dtype?: ExportDtype;
  /** q8/q4: weights per quantization block (default 32). */
  quantBlockSize?: number;
  /** q8/q4: MatMulNBits' accuracy_level (default 0). */
  accuracyLevel?: number;
  /** `fused`: onnxruntime's fused norm and RoPE operators; default `plain`. */
  operators?: OperatorSet;
  /** Receives one line per thing the export read but chose not to use (the export log). */
  onNote?: (line: string) => void;
  /**
   * Measure a lossy export (fp16, q8, q4) against the fp32 graphs and record it in the manifest
   * (model/fidelity.ts); absent or 0 prompts: not measured.
   */
  fidelity?: FidelityRequest;
  /** The manifest's name; default `<source> P·B·C <adapter>` (`defaultCheckpointName`). */
  name?: string;
}

export async function exportModel(request: ExportRequest): Promise<Manifest> {
  const surgery = {
    split: request.split,
    layers: request.layers,
    adapter: request.adapter ?? "random",
    seed: request.seed ?? 0,
  };
  const dtype = request.dtype ?? "fp32";
  // Refuse bad quantization options before reading gigabytes of weights.
  quantSpecOf(dtype, request.quantBlockSize, request.accuracyLevel);
  const fidelityPrompts =
    dtype !== "fp32" && request.fidelity && request.fidelity.prompts > 0
      ? await fidelityDocs(request.fidelity)
      : null;
  // Only fp16 writes fp16-compute graphs; a WebGPU asked for and missing fails before the export.
  if (fidelityPrompts && dtype === "fp16" && request.fidelity?.f16On === "webgpu") {
    await f16FidelityBackend("webgpu");
  }
  // What every export takes from the request, whatever the source.
  const graphOptions = {
    outDir: request.out,
    dtype,
    quantBlockSize: request.quantBlockSize,
    accuracyLevel: request.accuracyLevel,
    operators: request.operators,
  };
  if (request.random) {
    randomPreset(request.random);
    const seed = request.seed ?? 0;
    const weights = recurrentFromLlama(randomLlamaSource(request.random, seed), surgery);
    const adapter = adapterRecord(weights, surgery.adapter, surgery.seed);
    return exportWithFidelity(weights, fidelityPrompts, request, {
      ...graphOptions,
      name:
        request.name ??
        defaultCheckpointName(`random-${request.random}-seed${seed}`, weights.layers, adapter),
      source: {
        kind: "random",
        repo: null,
        revision: null,
        path: null,
        preset: request.random,
        files: {},
        architecture: "LlamaForCausalLM",
      },
      tokenizer: { files: byteTokenizerFiles(weights.dims.vocabSize) },
      tokens: { bosTokenId: 1, eosTokenIds: [2], padTokenId: null, addBosToken: true },
      adapter,
    });
  }

  const hub = request.from?.startsWith("hf:") ? await resolveHubModel(request.from) : null;
  const dir = hub ? hub.dir : resolve(request.from ?? ".");
  const source = loadSourceModel(dir);
  const raven = source.config.family === "raven";
  if (raven && (request.split || request.layers)) {
    throw new SurgeryError(
      `${dir} is a raven checkpoint, already split into prelude, block and coda; drop --split/--layers`,
    );
  }
  const weights = buildRecurrentWeights(source, surgery);
  const adapter: Manifest["adapter"] = raven
    ? weights.adapter
      ? { init: "trained", std: null, seed: null }
      : null
    : adapterRecord(weights, surgery.adapter, surgery.seed);
  const tokens = raven
    ? readRavenTokenIds(dir, { ...source.config, vocabSize: weights.dims.vocabSize })
    : { tokens: readTokenIds(dir, source.config.eosTokenIds), notes: [] };
  for (const note of [...source.config.notes, ...tokens.notes]) request.onNote?.(note);
  return exportWithFidelity(weights, fidelityPrompts, request, {
    ...graphOptions,
    name:
      request.name ??
      defaultCheckpointName(hub ? hub.repo : basename(dir), weights.layers, adapter),
    source: {
      kind: hub ? "hf" : "path",
      repo: hub?.repo ?? null,
      revision: hub?.revision ?? null,
      path: hub ? null : dir,
      preset: null,
      files: await hashSourceFiles(dir),
      architecture: source.config.architecture,
    },
    tokenizer: { dir },
    tokens: tokens.tokens,
    adapter,
    stateInit:
      raven && source.config.stateInitStd
        ? { kind: "trunc_normal", std: source.config.stateInitStd }
        : undefined,
    configDefaultRecurrence: source.config.configDefaultRecurrence,
    flavour: source.config.flavour,
  });
}

async function exportWithFidelity(
  weights: RecurrentWeights,
  fidelityPrompts: TaskDoc[] | null,
  request: ExportRequest,
  options: ExportOptions,
): Promise<Manifest> {
  const manifest = await exportCheckpoint(weights, options);
  if (!fidelityPrompts || !request.fidelity) return manifest;
  return addExportFidelity(weights, options, fidelityPrompts, request.fidelity, request.onNote);
}
