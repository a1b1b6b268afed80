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
import { type NodeWebGpu, nodeWebGpu } from "../runner/engine/node-webgpu.ts";
import type { RecurrentModel } from "../runner/engine/recurrent-model.ts";
import { PromptTokenizer } from "../runner/engine/tokenizer.ts";
import { type Checkpoint, readCheckpoint } from "./checkpoint.ts";
import { type ExportOptions, exportCheckpoint } from "./export.ts";
import { FIDELITY_RECURRENCES, measureFidelity } from "./fidelity.ts";
import { type Fidelity, MANIFEST_FILE, type Manifest, ManifestSchema } from "./manifest.ts";
import type { RecurrentWeights } from "./weights.ts";

export interface FidelityRequest {
  /** GSM8K test prompts (the first N, zero-shot `Question: …\nAnswer:`); 0 skips the gate. */
  prompts: number;
  /** Tokens of the fp32 greedy continuation scored per prompt. */
  tokens: number;
  /** Dataset root holding gsm8k/test.jsonl (default: the usual data roots). */
  dataDir?: string;
  /** Where fp16-compute graphs are measured (`f16FidelityBackend`); default `auto`. */
  f16On?: F16FidelityChoice;
}

/**
 * `node`: onnxruntime-node, whose CPU kernels run several fp16 operators in fp32 and so lose less
 * than a GPU's half-precision shaders. `webgpu`: onnxruntime-web's WebGPU provider in this process
 * on an adapter with shader-f16 (a GPU, or lavapipe on a CPU: real fp16 arithmetic, slowly).
 * `auto`: webgpu on a hardware adapter with shader-f16, else node.
 */
export type F16FidelityChoice = "auto" | "node" | "webgpu";

/** The WebGPU to measure fp16-compute graphs on, or null for onnxruntime-node. */
export async function f16FidelityBackend(choice: F16FidelityChoice): Promise<NodeWebGpu | null> {
  return choice === "node" ? null : chooseF16FidelityBackend(choice, await nodeWebGpu());
}

/** `f16FidelityBackend`'s choice, given what this process's WebGPU is. */
export function chooseF16FidelityBackend(
  choice: F16FidelityChoice,
  gpu: NodeWebGpu | { unavailable: string },
): NodeWebGpu | null {
  if (choice === "node") return null;
  if ("unavailable" in gpu || !gpu.shaderF16) {
    if (choice === "auto") return null;
    const lacking =
      "unavailable" in gpu
        ? gpu.unavailable
        : `the WebGPU adapter (${gpu.adapter}) lacks shader-f16`;
    throw new EvalsError(
      `--f16-fidelity-on webgpu: ${lacking}; run on a machine with a GPU (or Mesa's lavapipe ≥ 23), or use --f16-fidelity-on node`,
    );
  }
  // A CPU adapter computes the same fp16 arithmetic, but a 1B model's gate would take days there.
  return choice === "webgpu" || !gpu.software ? gpu : null;
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

/** The gate's prompts as `checkpoint`'s tokenizer encodes them (zero-shot GSM8K questions). */
export function fidelityPrompts(checkpoint: Checkpoint, docs: readonly TaskDoc[]): number[][] {
  const read = (name: string) => JSON.parse(readFileSync(join(checkpoint.dir, name), "utf8"));
  const tokenizer = new PromptTokenizer(
    read("tokenizer.json"),
    read("tokenizer_config.json"),
    checkpoint.manifest.tokens,
  );
  const { docToText } = getTask(FIDELITY_TASK);
  return docs.map((doc) => tokenizer.encodePrompt(fillTemplate(docToText, doc)));
}

export async function addExportFidelity(
  weights: RecurrentWeights,
  options: ExportOptions,
  docs: readonly TaskDoc[],
  request: FidelityRequest,
  onNote: (line: string) => void = () => {},
): Promise<Manifest> {
  const { tokens } = request;
  const outDir = resolve(options.outDir);
  const task = getTask(FIDELITY_TASK);
  const lossy = await readCheckpoint(outDir);
  const prompts = fidelityPrompts(lossy, docs);

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
    const measure = async (model: RecurrentModel, computedOn?: string) =>
      measureFidelity(reference, model, prompts, {
        tokens,
        recurrences: weights.block.length > 0 ? FIDELITY_RECURRENCES : [1],
        promptSource: `${FIDELITY_TASK} ${task.dataset.split}[0:${docs.length}] (${task.docToText.replace(/\n/g, "\\n")})`,
        computedOn,
      });
    const fidelity = await measure(await openNodeModel(lossy));
    const variants = lossy.manifest.variants;
    const f16 = variants?.webgpu_f16;
    const measuredVariants = f16
      ? {
          ...variants,
          webgpu_f16: { ...f16, fidelity: await measureF16(lossy, request, measure, onNote) },
        }
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

/**
 * The fp16-compute graphs' fidelity, measured where `request.f16On` says. On onnxruntime-node the
 * figure flatters them: its CPU kernels run several fp16 operators in fp32, while a GPU rounds
 * every operation to half precision (stories260k 1,3,1 on lavapipe: 17–25× node's mean KL at r = 1
 * and 4; model/graphs.md), so the note says so.
 */
async function measureF16(
  lossy: Checkpoint,
  request: FidelityRequest,
  measure: (model: RecurrentModel, computedOn?: string) => Promise<Fidelity>,
  onNote: (line: string) => void,
): Promise<Fidelity> {
  const gpu = await f16FidelityBackend(request.f16On ?? "auto");
  if (gpu) {
    const computedOn = `onnxruntime-web webgpu (${gpu.adapter})`;
    return measure(await gpu.open(lossy, { variant: "webgpu_f16" }), computedOn);
  }
  onNote(
    "the webgpu_f16 graphs' fidelity is measured on onnxruntime-node, whose CPU kernels keep several fp16 operators in fp32: " +
      "a GPU's half-precision shaders lose more (--f16-fidelity-on webgpu measures with them, on a GPU or Mesa's lavapipe)",
  );
  return measure(await openNodeModel(lossy, { variant: "webgpu_f16" }));
}
