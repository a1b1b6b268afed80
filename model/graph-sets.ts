// The graph sets of a checkpoint: its default graphs and the variants beside them (model/graphs.md).
// Types only from the manifest module, so the browser page can use this without bundling zod.
import type { GraphVariantName, Manifest } from "./manifest.ts";

/** The files of one graph set: the default graphs, or a variant's. */
export function graphSet(manifest: Manifest, variant: GraphVariantName | null): Manifest["graphs"] {
  if (!variant) return manifest.graphs;
  const set = manifest.variants?.[variant]?.graphs;
  if (!set) throw new Error(`recurrent.json has no graph variant ${variant}`);
  return set;
}

/** Every graph file of every graph set, each named once (variants share external data). */
export function allGraphFiles(
  manifest: Manifest,
): { file: string; sha256: string; bytes: number }[] {
  const sets = [manifest.graphs, ...Object.values(manifest.variants ?? {}).map((v) => v.graphs)];
  const files = new Map<string, { file: string; sha256: string; bytes: number }>();
  for (const set of sets) {
    for (const graph of [set.prelude, set.block, set.coda]) {
      if (!graph) continue;
      files.set(graph.file, { file: graph.file, sha256: graph.sha256, bytes: graph.bytes });
      if (graph.externalData) files.set(graph.externalData.file, { ...graph.externalData });
    }
  }
  return [...files.values()];
}
