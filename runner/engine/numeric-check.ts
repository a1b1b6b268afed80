// The numeric check of a checkpoint: top-5 logits that onnxruntime-node computes for a fixed input,
// stored in the manifest at export and reproduced by every backend before it runs real work.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EvalsError } from "../../evals/errors.ts";
import { type Checkpoint, readCheckpoint } from "../../model/checkpoint.ts";
import { MANIFEST_FILE, type Manifest, quantizesActivations } from "../../model/manifest.ts";
import { NonFiniteValueError } from "./errors.ts";
import { type GenerationConfig, generateBatch } from "./generate.ts";
import { openNodeModel } from "./node-sessions.ts";
import type { RecurrentModel } from "./recurrent-model.ts";

const CHECK_TOKENS = 8;

/** A checkpoint whose weights give NaN/Inf or other logits than its manifest's numeric check. */
export class CheckpointNumericsError extends EvalsError {}

/** Computes the check on onnxruntime-node and writes it into the checkpoint's manifest. */
export async function addNumericCheck(
  dir: string,
): Promise<NonNullable<Manifest["numeric_check"]>> {
  const checkpoint = await readCheckpoint(dir);
  const { vocab_size: vocab } = checkpoint.manifest.architecture;
  const inputIds = Array.from({ length: CHECK_TOKENS }, (_, i) => (i * 7919 + 1) % vocab);
  const recurrences = checkpoint.manifest.layers.block.length > 0 ? 2 : 1;
  const check = {
    input_ids: inputIds,
    recurrences,
    top5: await checkTop5(checkpoint, inputIds, recurrences),
  };
  const path = join(dir, MANIFEST_FILE);
  const raw = JSON.parse(readFileSync(path, "utf8"));
  writeFileSync(path, `${JSON.stringify({ ...raw, numeric_check: check }, null, 2)}\n`);
  return check;
}

export interface NumericTolerance {
  atol: number;
  rtol: number;
}

/** fp32 compute on any backend reproduces onnxruntime-node's logits to this. */
export const FP32_TOLERANCE: NumericTolerance = { atol: 1e-3, rtol: 1e-3 };

/**
 * fp16-compute graphs against the fp32-compute check. fp16 activations and KV move stories260k's
 * logits (up to 16) by at most 0.04 at r = 1 and 0.10 at r = 4 on WASM (model/export.test.ts);
 * wrong fp16 kernels move them by whole units or give other tokens.
 */
export const FP16_COMPUTE_TOLERANCE: NumericTolerance = { atol: 0.25, rtol: 0.02 };

/**
 * The one-token greedy step every numeric check runs: zero s₀, full KV, no stop rule, so the
 * check's logits depend on the graphs alone.
 */
export function numericCheckConfig(recurrences: number): GenerationConfig {
  return {
    recurrences,
    maxNewTokens: 1,
    kv: "full",
    stateInit: "zeros",
    stopIds: [],
    stopStrings: [],
  };
}

/**
 * Graphs that quantize activations to 8 bits: MatMulNBits at `--accuracy-level 4`, which
 * onnxruntime-node honours and onnxruntime-web's WASM kernels ignore (stories260k's logits, up to
 * 16, move by up to 0.28 for q8 and 0.44 for q4 at r = 2), and i8, whose per-token int8 codes
 * flip where node's and WASM's float noise meets a rounding tie (`small` 2,4,2: 0.036 of logits up
 * to 1.8; model/graphs.md). Wrong kernels move logits by whole units or reorder tokens.
 */
export const INT8_ACTIVATION_TOLERANCE: NumericTolerance = { atol: 0.5, rtol: 0.05 };

/** The tolerance a backend computing a checkpoint's default graphs reproduces its check to. */
export function numericToleranceOf(manifest: Manifest): NumericTolerance {
  return quantizesActivations(manifest.quantization) ? INT8_ACTIVATION_TOLERANCE : FP32_TOLERANCE;
}

/** Describes how `top5` departs from the manifest's check, or returns null when it agrees. */
export function numericCheckFailure(
  expected: NonNullable<Manifest["numeric_check"]>,
  top5: readonly (readonly [number, number])[],
  tolerance: NumericTolerance = FP32_TOLERANCE,
): string | null {
  for (const [k, [id, logit]] of expected.top5.entries()) {
    const got = top5[k];
    if (!got) return `missing logit ${k + 1}`;
    const close = Math.abs(got[1] - logit) <= tolerance.atol + tolerance.rtol * Math.abs(logit);
    if (!close || (got[0] !== id && Math.abs(got[1] - logit) > tolerance.atol)) {
      return `top-${k + 1} is token ${got[0]} with logit ${got[1].toFixed(5)}; expected token ${id} with ${logit.toFixed(5)}`;
    }
  }
  return null;
}

/**
 * Runs the manifest's numeric check (or, for a manifest without one, the same fixed input) on
 * onnxruntime-node, so a checkpoint with NaN weights or weights changed since export is refused
 * before anything is uploaded.
 */
export async function verifyNumericCheck(checkpoint: Checkpoint): Promise<void> {
  const { manifest, dir } = checkpoint;
  const { vocab_size: vocab } = manifest.architecture;
  const expected = manifest.numeric_check;
  const inputIds =
    expected?.input_ids ?? Array.from({ length: CHECK_TOKENS }, (_, i) => (i * 7919 + 1) % vocab);
  const recurrences = expected?.recurrences ?? (manifest.layers.block.length > 0 ? 2 : 1);
  let top5: [number, number][];
  try {
    top5 = await checkTop5(checkpoint, inputIds, recurrences);
  } catch (error) {
    if (!(error instanceof NonFiniteValueError)) throw error;
    const graph = [manifest.graphs.prelude, manifest.graphs.block, manifest.graphs.coda].find(
      (g) => g?.file === error.graph,
    );
    const file = join(dir, graph?.externalData?.file ?? graph?.file ?? "");
    throw new CheckpointNumericsError(
      `${file}: the weights give ${error.message.split(";")[0]} on the numeric check; ` +
        "export the checkpoint again from finite weights (evals export) before submitting",
      { cause: error },
    );
  }
  const failure = expected ? numericCheckFailure(expected, top5) : null;
  if (failure) {
    throw new CheckpointNumericsError(
      `${join(dir, MANIFEST_FILE)}: the weights no longer give the numeric check's logits (${failure}); ` +
        "export the checkpoint again (evals export) before submitting",
    );
  }
}

async function checkTop5(
  checkpoint: Checkpoint,
  inputIds: number[],
  recurrences: number,
): Promise<[number, number][]> {
  return numericCheckTop5(await openNodeModel(checkpoint), inputIds, recurrences);
}

/** The top-5 logits of the numeric check's one step on `model`. */
export async function numericCheckTop5(
  model: RecurrentModel,
  inputIds: readonly number[],
  recurrences: number,
): Promise<[number, number][]> {
  const [result] = await generateBatch(
    model,
    [{ promptIds: inputIds, seed: 0 }],
    numericCheckConfig(recurrences),
    () => "",
  );
  return result.top5;
}
