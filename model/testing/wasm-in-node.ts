// Opens a checkpoint with onnxruntime-web's WASM backend inside Node (no browser): the same
// kernels the browser runner uses, for cheap tests and benches of graphs the browser must run.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Checkpoint } from "../../model/checkpoint.ts";
import { checkGraphContract } from "../../runner/engine/graph-contract.ts";
import { kvTypeOf, type OrtModule, RecurrentModel } from "../../runner/engine/recurrent-model.ts";
import { graphSet } from "../graph-sets.ts";
import type { GraphVariantName } from "../manifest.ts";

export async function openWasmModelInNode(
  checkpoint: Checkpoint,
  options: { threads?: number; variant?: GraphVariantName } = {},
): Promise<RecurrentModel> {
  const ort = await import("onnxruntime-web");
  const dist = join(dirname(createRequire(import.meta.url).resolve("onnxruntime-web")), "/");
  ort.env.wasm.wasmPaths = dist;
  ort.env.wasm.numThreads = options.threads ?? 1;
  const open = async (graph: Checkpoint["manifest"]["graphs"]["prelude"]) => {
    const externalData = graph.externalData
      ? [
          {
            path: graph.externalData.file,
            data: new Uint8Array(readFileSync(join(checkpoint.dir, graph.externalData.file))),
          },
        ]
      : undefined;
    return ort.InferenceSession.create(
      new Uint8Array(readFileSync(join(checkpoint.dir, graph.file))),
      {
        executionProviders: ["wasm"],
        graphOptimizationLevel: "all",
        externalData,
      },
    );
  };
  const variant = options.variant ?? null;
  const graphs = graphSet(checkpoint.manifest, variant);
  const prelude = await open(graphs.prelude);
  const block = graphs.block ? await open(graphs.block) : null;
  const coda = await open(graphs.coda);
  checkGraphContract(checkpoint.manifest, { prelude, block, coda }, variant);
  return new RecurrentModel(
    ort as unknown as OrtModule,
    checkpoint.manifest,
    { prelude, block, coda },
    kvTypeOf(checkpoint.manifest, variant),
  );
}
