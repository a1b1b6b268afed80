// Opens a checkpoint's graphs with onnxruntime-node (external data resolves beside each graph).
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import type { Checkpoint } from "../../model/checkpoint.ts";
import { checkGraphContract } from "./graph-contract.ts";
import { RecurrentModel } from "./recurrent-model.ts";

export async function openNodeModel(
  checkpoint: Checkpoint,
  options: { threads?: number } = {},
): Promise<RecurrentModel> {
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: options.threads ?? 0,
    graphOptimizationLevel: "all",
  };
  const open = (file: string) =>
    ort.InferenceSession.create(join(checkpoint.dir, file), sessionOptions);
  const { graphs } = checkpoint.manifest;
  const [prelude, block, coda] = await Promise.all([
    open(graphs.prelude.file),
    graphs.block ? open(graphs.block.file) : Promise.resolve(null),
    open(graphs.coda.file),
  ]);
  checkGraphContract(checkpoint.manifest, { prelude, block, coda });
  return new RecurrentModel(ort, checkpoint.manifest, { prelude, block, coda });
}
