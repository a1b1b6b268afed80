// Writes a checkpoint directory (DESIGN §3): three ONNX graphs with external weight data, the
// tokenizer files and `recurrent.json`. Everything is written into a temporary sibling directory
// that is renamed into place at the end, so a failed export never leaves a partial checkpoint.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { OutputError, SurgeryError } from "./errors.ts";
import {
  type Dtype,
  FORMAT_VERSION,
  type GraphFile,
  type GraphVariant,
  MANIFEST_FILE,
  type Manifest,
  ManifestSchema,
} from "./manifest.ts";
import type { OperatorSet, QuantSpec } from "./onnx/graph-builder.ts";
import { buildGraph, embeddingQuantizable, type GraphName } from "./onnx/recurrent-graphs.ts";
import { WeightSink } from "./onnx/weight-sink.ts";
import { countParameters } from "./parameters.ts";
import { sha256File, TOKENIZER_FILES } from "./source.ts";
import { adapterStd } from "./surgery.ts";
import type { TokenIds } from "./tokenizer-info.ts";
import type { RecurrentWeights } from "./weights.ts";

export type ExportDtype = Dtype;

/** Block size of q8/q4 exports unless `--quant-block-size` says otherwise. */
export const DEFAULT_QUANT_BLOCK_SIZE = 32;

/**
 * MatMulNBits' `accuracy_level` unless `--accuracy-level` says otherwise: 0 for both. Level 4
 * (int8 activations) is the only packed 8-bit kernel on onnxruntime-node, but it doubles to
 * triples the fidelity gate's KL of q8 on stories260k and moves node's logits 0.3 away from
 * onnxruntime-web's, which ignores the level (bench/accuracy-level.ts; model/graphs.md).
 */
export const DEFAULT_ACCURACY_LEVEL = 0;

export interface ExportOptions {
  outDir: string;
  dtype: ExportDtype;
  /** q8/q4: weights per quantization block along K (default 32). */
  quantBlockSize?: number;
  /** q8/q4: MatMulNBits' accuracy_level, 0–4 (default 0). */
  accuracyLevel?: number;
  /** Standard operators (default) or onnxruntime's fused ones (model/graphs.md). */
  operators?: OperatorSet;
  name: string;
  source: Manifest["source"];
  /** Where tokenizer files are copied from; or generated files (name → JSON) for random models. */
  tokenizer: { dir: string } | { files: Record<string, unknown> };
  tokens: TokenIds;
  adapter: Manifest["adapter"];
  stateInit?: Manifest["state_init"];
  trainRecurrence?: number | null;
  configDefaultRecurrence?: number | null;
  flavour?: Manifest["architecture"]["flavour"];
}

/** Exports `weights` as a checkpoint directory and returns its manifest. */
export async function exportCheckpoint(
  weights: RecurrentWeights,
  options: ExportOptions,
): Promise<Manifest> {
  const outDir = resolve(options.outDir);
  const staging = prepareStaging(outDir);
  try {
    const graphs: Manifest["graphs"] = { prelude: null!, block: null, coda: null! };
    const names: GraphName[] =
      weights.block.length > 0 ? ["prelude", "block", "coda"] : ["prelude", "coda"];
    const quant = quantSpecOf(options.dtype, options.quantBlockSize, options.accuracyLevel);
    const operators = options.operators ?? "plain";
    for (const name of names)
      graphs[name] = await writeGraph(name, weights, staging, options.dtype, quant, operators);
    const variants =
      options.dtype === "fp16"
        ? { webgpu_f16: await writeF16Variant(names, weights, staging, graphs) }
        : undefined;
    const tokenizerFiles = await writeTokenizer(options.tokenizer, staging);
    const manifest = ManifestSchema.parse({
      format_version: FORMAT_VERSION,
      name: options.name,
      source: options.source,
      architecture: architectureOf(weights, options.flavour ?? "llama"),
      layers: weights.layers,
      adapter: options.adapter,
      state_init: options.stateInit ?? { kind: "zeros" },
      train_recurrence: options.trainRecurrence ?? null,
      config_default_recurrence: options.configDefaultRecurrence ?? null,
      tokens: {
        bos_token_id: options.tokens.bosTokenId,
        eos_token_ids: options.tokens.eosTokenIds,
        pad_token_id: options.tokens.padTokenId,
        add_bos_token: options.tokens.addBosToken,
      },
      dtype: options.dtype,
      operators,
      ...(operators === "fused" ? { decode_attention: "GroupQueryAttention" as const } : {}),
      fidelity: null,
      quantization: quant ? quantizationRecord(quant, weights.dims.hiddenSize) : null,
      graphs,
      variants,
      tokenizer: { files: tokenizerFiles },
      parameters: countParameters(weights),
      created_by: "evals export",
      numeric_check: null,
    } satisfies Manifest);
    writeFileSync(join(staging, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    if (existsSync(outDir)) rmSync(outDir, { recursive: true, force: true });
    renameSync(staging, outDir);
    return manifest;
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

/** The manifest's adapter record for a surgery adapter. */
export function adapterRecord(
  weights: RecurrentWeights,
  init: "random" | "identity" | "trained",
  seed: number | null,
): Manifest["adapter"] {
  if (!weights.adapter) return null;
  return {
    init,
    std: init === "random" ? adapterStd(weights.dims.hiddenSize) : null,
    seed: init === "random" ? seed : null,
  };
}

function prepareStaging(outDir: string): string {
  const parent = dirname(outDir);
  if (existsSync(outDir)) {
    if (!statSync(outDir).isDirectory()) {
      throw new OutputError(`--out ${outDir} is a file; give a directory path`);
    }
    const entries = readdirSync(outDir);
    if (entries.length > 0 && !entries.includes(MANIFEST_FILE)) {
      throw new OutputError(
        `--out ${outDir} is a non-empty directory that is not a checkpoint; choose an empty or new path`,
      );
    }
  }
  const staging = join(parent, `.${basename(outDir)}.partial-${process.pid}`);
  try {
    mkdirSync(parent, { recursive: true });
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging);
  } catch (error) {
    throw new OutputError(
      `cannot write to ${parent} (${(error as NodeJS.ErrnoException).code ?? "error"}); choose a writable --out`,
    );
  }
  return staging;
}

/** The quantization of a q8/q4 export; null for fp32/fp16. */
export function quantSpecOf(
  dtype: ExportDtype,
  blockSize?: number,
  accuracyLevel?: number,
): QuantSpec | null {
  if (dtype !== "q8" && dtype !== "q4") {
    if (blockSize !== undefined) {
      throw new SurgeryError(`--quant-block-size applies to --quant q8|q4, not to ${dtype}`);
    }
    if (accuracyLevel !== undefined) {
      throw new SurgeryError(`--accuracy-level applies to --quant q8|q4, not to ${dtype}`);
    }
    // i8: int8 weights per output column; only the embedding is block-quantized, as q8 does.
    if (dtype === "i8") {
      return { linear: "MatMulInteger", bits: 8, blockSize: DEFAULT_QUANT_BLOCK_SIZE };
    }
    return null;
  }
  const level = accuracyLevel ?? DEFAULT_ACCURACY_LEVEL;
  if (!ACCURACY_LEVELS.includes(level)) {
    throw new SurgeryError(
      `--accuracy-level ${level}: MatMulNBits takes 0 (kernel default), 1 (fp32), 2 (fp16), 3 (bf16) or 4 (int8)`,
    );
  }
  const size = blockSize ?? DEFAULT_QUANT_BLOCK_SIZE;
  if (!Number.isInteger(size) || size < 16 || (size & (size - 1)) !== 0) {
    throw new SurgeryError(
      `--quant-block-size ${size}: MatMulNBits needs a power of two ≥ 16 (e.g. 32, 64, 128)`,
    );
  }
  return {
    linear: "MatMulNBits",
    bits: dtype === "q8" ? 8 : 4,
    blockSize: size,
    accuracyLevel: level,
  };
}

/** MatMulNBits' accuracy levels: 0 the kernel's default, 1 fp32, 2 fp16, 3 bf16, 4 int8. */
const ACCURACY_LEVELS: readonly number[] = [0, 1, 2, 3, 4];

/** The manifest's `quantization` of a quantized export (model/graphs.md). */
function quantizationRecord(quant: QuantSpec, hiddenSize: number): Manifest["quantization"] {
  const embedding = embeddingQuantizable(hiddenSize, quant) ? "block" : "fp16";
  if (quant.linear === "MatMulInteger") {
    return {
      bits: 8,
      block_size: quant.blockSize,
      scheme: "symmetric_per_column",
      linear: "MatMulInteger",
      embedding,
    };
  }
  return {
    bits: quant.bits,
    block_size: quant.blockSize,
    scheme: "asymmetric",
    linear: "MatMulNBits",
    embedding,
    accuracy_level: quant.accuracyLevel,
  };
}

/** File name of a graph of the fp16-compute variant: `prelude.f16.onnx`, … */
const F16_SUFFIX = ".f16";

/**
 * The `webgpu_f16` graph set of an fp16 export: the same weights, in the same order, so its
 * graphs point at the default graphs' external data files instead of a second copy. The weights
 * are written once more to a scratch file and compared byte for byte, so a builder change that
 * reorders them fails the export rather than reading wrong offsets. Its operators are always plain:
 * the fused RoPE would need the whole position table cast to fp16 on every call.
 */
async function writeF16Variant(
  names: GraphName[],
  weights: RecurrentWeights,
  dir: string,
  defaults: Manifest["graphs"],
): Promise<GraphVariant> {
  const graphs: Manifest["graphs"] = { prelude: null!, block: null, coda: null! };
  for (const name of names) {
    const shared = defaults[name]!.externalData;
    const file = `${name}${F16_SUFFIX}.onnx`;
    const scratch = join(dir, `.${name}${F16_SUFFIX}-weights`);
    mkdirSync(scratch);
    // The sink names the default graph's data file inside the graph; the bytes go to scratch.
    const sink = new WeightSink(join(scratch, `${name}.onnx.data`));
    try {
      writeFileSync(
        join(dir, file),
        buildGraph(name, weights, sink, "fp16", null, "plain", "fp16").encode(),
      );
    } finally {
      sink.close();
    }
    const same =
      sink.bytesWritten === 0
        ? shared === null
        : shared !== null && (await sha256File(sink.dataPath)) === shared.sha256;
    rmSync(scratch, { recursive: true, force: true });
    if (!same)
      throw new Error(`${file}: its weights differ from ${name}.onnx's; cannot share them`);
    graphs[name] = {
      file,
      sha256: await sha256File(join(dir, file)),
      bytes: statSync(join(dir, file)).size,
      externalData: shared,
    };
  }
  return { compute: "fp16", kv_dtype: "float16", graphs, fidelity: null };
}

async function writeGraph(
  name: GraphName,
  weights: RecurrentWeights,
  dir: string,
  dtype: ExportDtype,
  quant: QuantSpec | null,
  operators: OperatorSet,
): Promise<GraphFile> {
  const file = `${name}.onnx`;
  const sink = new WeightSink(join(dir, `${file}.data`));
  try {
    const storage = dtype === "fp16" ? "fp16" : "fp32";
    const bytes = buildGraph(name, weights, sink, storage, quant, operators).encode();
    writeFileSync(join(dir, file), bytes);
  } finally {
    sink.close();
  }
  const externalData =
    sink.bytesWritten > 0
      ? {
          file: `${file}.data`,
          sha256: await sha256File(sink.dataPath),
          bytes: statSync(sink.dataPath).size,
        }
      : null;
  return {
    file,
    sha256: await sha256File(join(dir, file)),
    bytes: statSync(join(dir, file)).size,
    externalData,
  };
}

async function writeTokenizer(
  tokenizer: ExportOptions["tokenizer"],
  dir: string,
): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  if ("dir" in tokenizer) {
    for (const name of TOKENIZER_FILES) {
      const from = join(tokenizer.dir, name);
      if (!existsSync(from)) continue;
      copyFileSync(from, join(dir, name));
      files[name] = await sha256File(join(dir, name));
    }
  } else {
    for (const [name, json] of Object.entries(tokenizer.files)) {
      writeFileSync(join(dir, name), `${JSON.stringify(json, null, 2)}\n`);
      files[name] = await sha256File(join(dir, name));
    }
  }
  return files;
}

function architectureOf(
  weights: RecurrentWeights,
  flavour: Manifest["architecture"]["flavour"],
): Manifest["architecture"] {
  const d = weights.dims;
  return {
    flavour,
    hidden_size: d.hiddenSize,
    num_attention_heads: d.numHeads,
    num_key_value_heads: d.numKvHeads,
    head_dim: d.headDim,
    intermediate_size: d.intermediateSize,
    vocab_size: d.vocabSize,
    max_position_embeddings: d.maxPositionEmbeddings,
    rms_norm_eps: d.rmsNormEps,
    rope: { theta: d.ropeTheta, scaling: d.ropeScaling },
    embed_scale: d.embedScale,
    tie_word_embeddings: weights.tiedEmbeddings,
  };
}
