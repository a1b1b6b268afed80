// Everything the API would refuse, checked before a byte is uploaded: the manifest's schema, every
// file present with its size and sha256 (model/checkpoint.ts), and each graph's input and output
// names against what the manifest's layer counts imply (runner/engine/graph-contract.ts), and the
// manifest's numeric check on onnxruntime-node (NaN weights are refused here, not by a runner).

import { statSync } from "node:fs";
import { join } from "node:path";
import { type Checkpoint, checkpointFiles, readCheckpoint } from "../../model/checkpoint.ts";
import { graphSet } from "../../model/graph-sets.ts";
import type { GraphVariantName } from "../../model/manifest.ts";
import { checkGraphContract } from "../../runner/engine/graph-contract.ts";
import { verifyNumericCheck } from "../../runner/engine/numeric-check.ts";
import { type GraphIo, readGraphIo } from "./graph-io.ts";

export interface CheckpointUploadFile {
  name: string;
  path: string;
  sha256: string;
  bytes: number;
}

export interface ValidCheckpoint extends Checkpoint {
  /** Every file the API needs (graphs, external data, tokenizer), with its verified hash. */
  files: CheckpointUploadFile[];
}

/** Example: `const { manifest, files } = await validateCheckpoint("ckpt")`. */
export async function validateCheckpoint(dir: string): Promise<ValidCheckpoint> {
  const checkpoint = await readCheckpoint(dir, { verify: true });
  const { manifest } = checkpoint;
  const io = (graph: { file: string }): Promise<GraphIo> => readGraphIo(join(dir, graph.file));
  // The default graphs and every variant's (fp16-compute graphs have the same names).
  const variants = Object.keys(manifest.variants ?? {}) as GraphVariantName[];
  for (const variant of [null, ...variants]) {
    const { prelude, block, coda } = graphSet(manifest, variant);
    checkGraphContract(
      manifest,
      { prelude: await io(prelude), block: block ? await io(block) : null, coda: await io(coda) },
      variant,
    );
  }
  await verifyNumericCheck(checkpoint);
  const files = checkpointFiles(manifest).map(({ file, sha256 }) => {
    const path = join(dir, file);
    return { name: file, path, sha256, bytes: statSync(path).size };
  });
  return { ...checkpoint, files };
}
