// Bytes of weights one decode step streams, read from a checkpoint's graphs: every initializer of
// prelude, block and coda, except tables only gathered from (the token embedding: a step reads a
// row per token, not the table). With the KV geometry they give what bench/scale-math.ts needs.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readCheckpoint } from "../model/checkpoint.ts";
import { DataType, onnx } from "../model/onnx/proto.ts";
import type { StepBytes } from "./scale-math.ts";

const ELEMENT_BYTES: Partial<Record<number, number>> = {
  [DataType.FLOAT]: 4,
  [DataType.FLOAT16]: 2,
  [DataType.BFLOAT16]: 2,
  [DataType.DOUBLE]: 8,
  [DataType.INT64]: 8,
  [DataType.INT32]: 4,
  [DataType.UINT8]: 1,
  [DataType.INT8]: 1,
};
const GATHERS = new Set(["Gather", "GatherBlockQuantized"]);

/** Streamed initializer bytes of one graph file (gathered tables left out). */
export function streamedBytes(path: string): number {
  const { graph } = onnx.ModelProto.decode(readFileSync(path));
  if (!graph) throw new Error(`${path} has no graph`);
  // A table is gathered when every node reading it is a gather reading it as its data input;
  // GatherBlockQuantized's scales and zero points are gathered alongside it.
  const readers = new Map<string, boolean>();
  for (const node of graph.node ?? []) {
    (node.input ?? []).forEach((name, i) => {
      const gathered = GATHERS.has(node.opType ?? "") && (i === 0 || node.opType !== "Gather");
      readers.set(name, (readers.get(name) ?? true) && gathered);
    });
  }
  let total = 0;
  for (const tensor of graph.initializer ?? []) {
    if (readers.get(tensor.name ?? "")) continue;
    const size = ELEMENT_BYTES[tensor.dataType ?? 0];
    if (size === undefined)
      throw new Error(`${path}: ${tensor.name} has data type ${tensor.dataType}`);
    total += (tensor.dims ?? []).reduce((n: number, d) => n * Number(d), 1) * size;
  }
  return total;
}

export async function stepBytesOf(dir: string): Promise<StepBytes> {
  const { manifest } = await readCheckpoint(dir, { verify: false });
  const { prelude, block, coda } = manifest.graphs;
  const { num_key_value_heads: kv, head_dim: d } = manifest.architecture;
  return {
    weights: {
      prelude: streamedBytes(join(dir, prelude.file)),
      block: block ? streamedBytes(join(dir, block.file)) : 0,
      coda: streamedBytes(join(dir, coda.file)),
    },
    // Keys and values in float32 (the default graphs' cache type).
    kvPerPositionPerLayer: 2 * kv * d * 4,
    layers: {
      prelude: manifest.layers.prelude.length,
      block: manifest.layers.block.length,
      coda: manifest.layers.coda.length,
    },
  };
}
