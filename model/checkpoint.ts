// Opens a checkpoint directory: validates recurrent.json and checks every file against its hash,
// so a corrupted or hand-edited checkpoint is refused before any graph is run. A file is hashed
// once and then trusted while its size and mtime stay the same (verified-files.ts).
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { CheckpointError } from "./errors.ts";
import { allGraphFiles } from "./graph-sets.ts";
import { MANIFEST_FILE, type Manifest, ManifestSchema } from "./manifest.ts";
import { sha256File } from "./source.ts";
import { VerifiedFiles } from "./verified-files.ts";

export interface Checkpoint {
  dir: string;
  manifest: Manifest;
}

/** Reads and validates `<dir>/recurrent.json`; with `verify`, hashes every file it lists. */
export async function readCheckpoint(
  dir: string,
  options: { verify?: boolean } = {},
): Promise<Checkpoint> {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) {
    throw new CheckpointError(
      `${dir} is not a checkpoint (no ${MANIFEST_FILE}); create one with \`evals export --from <model> --out ${dir}\``,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new CheckpointError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CheckpointError(
      `${path}: field ${issue.path.join(".") || "(root)"}: ${issue.message}; re-export the checkpoint`,
    );
  }
  const manifest = parsed.data;
  if (options.verify !== false) await verifyFiles(dir, manifest);
  return { dir, manifest };
}

/** Every file the manifest names, with its expected hash and size. */
export function checkpointFiles(
  manifest: Manifest,
): { file: string; sha256: string; bytes: number | null }[] {
  const files: { file: string; sha256: string; bytes: number | null }[] = allGraphFiles(manifest);
  for (const [file, sha256] of Object.entries(manifest.tokenizer.files))
    files.push({ file, sha256, bytes: null });
  return files;
}

/** Hashes each file unless it was hashed to the manifest's value and is unchanged since. */
async function verifyFiles(dir: string, manifest: Manifest): Promise<void> {
  const verified = VerifiedFiles.open(dir);
  try {
    for (const { file, sha256, bytes } of checkpointFiles(manifest)) {
      const path = join(dir, file);
      if (!existsSync(path))
        throw new CheckpointError(`${path} is missing; the checkpoint is incomplete`);
      const info = statSync(path);
      if (bytes !== null && info.size !== bytes) {
        throw new CheckpointError(
          `${path} has ${info.size} bytes, the manifest says ${bytes}; re-export or re-download`,
        );
      }
      if (verified.trusts(file, sha256, info)) continue;
      const actual = await sha256File(path);
      if (actual !== sha256) {
        throw new CheckpointError(
          `${path} does not match its sha256 in ${"recurrent.json"}; the file is corrupt or was changed`,
        );
      }
      verified.remember(file, sha256, info);
    }
  } finally {
    verified.save();
  }
}
