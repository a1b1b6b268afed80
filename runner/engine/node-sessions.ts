// Opens a checkpoint's graphs with onnxruntime-node (external data resolves beside each graph).
import { availableParallelism } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import type { Checkpoint } from "../../model/checkpoint.ts";
import { graphSet } from "../../model/graph-sets.ts";
import type { GraphVariantName } from "../../model/manifest.ts";
import { checkGraphContract } from "./graph-contract.ts";
import { kvTypeOf, RecurrentModel } from "./recurrent-model.ts";

export interface NodeThreadOptions {
  /** Intra-op threads; default NODE_DEFAULT_THREADS. */
  threads?: number;
  /**
   * Whether idle pool threads busy-wait for work (ORT's default). Off by default: between the many
   * small kernels of a decode step the spinning threads take the cores the working thread needs
   * (bench/threads.ts measures it).
   */
  spinning?: boolean;
}

/**
 * 2 threads without spinning decode 1.4–2.4× faster than 1 thread on a loaded 2-core machine
 * (bench/threads.ts, interleaved runs); spinning 2 threads are 0.27–0.48× of 1.
 */
export const NODE_DEFAULT_THREADS = Math.min(2, availableParallelism());

export function nodeSessionOptions(
  options: NodeThreadOptions = {},
): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: options.threads ?? NODE_DEFAULT_THREADS,
    graphOptimizationLevel: "all",
    // onnxruntime_session_options_config_keys.h: "session.intra_op.allow_spinning".
    extra: { session: { intra_op: { allow_spinning: options.spinning ? "1" : "0" } } },
  };
}

export async function openNodeModel(
  checkpoint: Checkpoint,
  options: NodeThreadOptions & {
    variant?: GraphVariantName;
    /** Decode in place where the graphs allow it (default true; false: growing caches). */
    decodeInPlace?: boolean;
  } = {},
): Promise<RecurrentModel> {
  const sessionOptions = nodeSessionOptions(options);
  const open = (file: string) =>
    ort.InferenceSession.create(join(checkpoint.dir, file), sessionOptions);
  const variant = options.variant ?? null;
  const graphs = graphSet(checkpoint.manifest, variant);
  const [prelude, block, coda] = await Promise.all([
    open(graphs.prelude.file),
    graphs.block ? open(graphs.block.file) : Promise.resolve(null),
    open(graphs.coda.file),
  ]);
  checkGraphContract(checkpoint.manifest, { prelude, block, coda }, variant);
  return new RecurrentModel(
    ort,
    checkpoint.manifest,
    { prelude, block, coda },
    kvTypeOf(checkpoint.manifest, variant),
    // The fp16 variant's graphs use plain operators: no in-place decode there.
    { bindsOutputsInPlace: variant === null && options.decodeInPlace !== false },
  );
}
