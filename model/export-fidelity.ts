// Runs the fidelity gate at export time: writes the fp32 graphs of the same weights beside the
// lossy checkpoint, compares the two on GSM8K prompts (model/fidelity.ts), records the result in
// the lossy checkpoint's manifest and deletes the fp32 graphs.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { loadTaskData } from "../evals/data/datasets.ts";
import { EvalsError } from "../evals/errors.ts";
import { getTask } from "../evals/tasks/registry.ts";
import { fillTemplate } from "../evals/tasks/render.ts";
import type { TaskDoc } from "../evals/tasks/types.ts";
import { openNodeModel } from "../runner/engine/node-sessions.ts";
import { PromptTokenizer } from "../runner/engine/tokenizer.ts";
import { readCheckpoint } from "./checkpoint.ts";
import { type ExportOptions, exportCheckpoint } from "./export.ts";
import { FIDELITY_RECURRENCES, measureFidelity } from "./fidelity.ts";
import { type GraphVariantName, MANIFEST_FILE, type Manifest, ManifestSchema } from "./manifest.ts";
import type { RecurrentWeights } from "./weights.ts";

export interface FidelityRequest {
  /** GSM8K test prompts (the first N, zero-shot `Question: …\nAnswer:`); 0 skips the gate. */
  prompts: number;
  /** Tokens of the fp32 greedy continuation scored per prompt. */
  tokens: number;
  /** Dataset root holding gsm8k/test.jsonl (default: the usual data roots). */
  dataDir?: string;
}

const FIDELITY_TASK = "gsm8k";

/** The prompt documents, read before the export so missing data fails before any work. */
export async function fidelityDocs(request: FidelityRequest): Promise<TaskDoc[]> {
  if (!Number.isInteger(request.prompts) || request.prompts < 0) {
    throw new EvalsError(`--fidelity-prompts ${request.prompts}: give a whole number ≥ 0`);
  }
  if (!Number.isInteger(request.tokens) || request.tokens < 1) {
    throw new EvalsError(`--fidelity-tokens ${request.tokens}: give a whole number ≥ 1`);
  }
  try {
    const data = await loadTaskData(getTask(FIDELITY_TASK), { dataDir: request.dataDir });
    return data.docs.slice(0, request.prompts);
  } catch (error) {
    throw new EvalsError(
      `the fidelity gate needs GSM8K prompts: ${(error as Error).message}; or skip it with --fidelity-prompts 0`,
      { cause: error },
    );
  }
}

export async function addExportFidelity(
  weights: RecurrentWeights,
  options: ExportOptions,
  docs: readonly TaskDoc[],
  tokens: number,
): Promise<Manifest> {
  const outDir = resolve(options.outDir);
  const task = getTask(FIDELITY_TASK);
  const lossy = await readCheckpoint(outDir);
  const read = (name: string) => JSON.parse(readFileSync(join(outDir, name), "utf8"));
  const tokenizer = new PromptTokenizer(
    read("tokenizer.json"),
    read("tokenizer_config.json"),
    lossy.manifest.tokens,
  );
  const prompts = docs.map((doc) => tokenizer.encodePrompt(fillTemplate(task.docToText, doc)));

  const referenceDir = join(dirname(outDir), `.${basename(outDir)}.fp32-reference-${process.pid}`);
  try {
    await exportCheckpoint(weights, {
      ...options,
      outDir: referenceDir,
      dtype: "fp32",
      quantBlockSize: undefined,
      accuracyLevel: undefined,
      // The reference path: the gate measures the lossy graphs against it, fused or not.
      operators: "plain",
    });
    const reference = await openNodeModel(await readCheckpoint(referenceDir, { verify: false }));
    const measure = async (variant?: GraphVariantName) =>
      measureFidelity(reference, await openNodeModel(lossy, { variant }), prompts, {
        tokens,
        recurrences: weights.block.length > 0 ? FIDELITY_RECURRENCES : [1],
        promptSource: `${FIDELITY_TASK} ${task.dataset.split}[0:${docs.length}] (${task.docToText.replace(/\n/g, "\\n")})`,
      });
    const fidelity = await measure();
    // The fp16-compute graphs are measured on onnxruntime-node too. Its CPU kernels lack fp16 for
    // some operators and run those in fp32 (rounding their outputs back to fp16), so a GPU that
    // also accumulates in fp16 can lose more than this says.
    const variants = lossy.manifest.variants;
    const f16 = variants?.webgpu_f16;
    const measuredVariants = f16
      ? { ...variants, webgpu_f16: { ...f16, fidelity: await measure("webgpu_f16") } }
      : variants;
    const path = join(outDir, MANIFEST_FILE);
    const manifest = ManifestSchema.parse({
      ...JSON.parse(readFileSync(path, "utf8")),
      fidelity,
      variants: measuredVariants,
    });
    writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`);
    return manifest;
  } finally {
    rmSync(referenceDir, { recursive: true, force: true });
  }
}
