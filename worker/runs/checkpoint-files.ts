// What a registered checkpoint consists of, derived from its manifest alone.

import { allGraphFiles } from "../../model/graph-sets.ts";
import type { Manifest } from "../../model/manifest.ts";

export interface ManifestFile {
  name: string;
  sha256: string;
  /** Known from the manifest for graph files; tokenizer files take theirs from the blob store. */
  bytes: number | null;
}

/** Graph files (every graph set), their external data, and tokenizer files, in a stable order. */
export function manifestFiles(manifest: Manifest): ManifestFile[] {
  const files: ManifestFile[] = allGraphFiles(manifest).map(({ file, sha256, bytes }) => ({
    name: file,
    sha256,
    bytes,
  }));
  for (const [name, sha256] of Object.entries(manifest.tokenizer.files).sort()) {
    files.push({ name, sha256, bytes: null });
  }
  return files;
}

/** sha256 of each graph file, as the result key (DESIGN §7) names the checkpoint. */
export function graphHashes(manifest: Manifest): string[] {
  return [manifest.graphs.prelude, manifest.graphs.block, manifest.graphs.coda].flatMap((graph) =>
    graph ? [graph.sha256] : [],
  );
}

/** The largest single weight a device must hold as one float32 buffer (embedding or MLP). */
export function maxTensorBytes(manifest: Manifest): number {
  const { vocab_size, hidden_size, intermediate_size } = manifest.architecture;
  return Math.max(vocab_size, intermediate_size) * hidden_size * 4;
}
