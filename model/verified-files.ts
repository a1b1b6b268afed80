// A checkpoint's files are hashed once; the hash is then trusted while the file keeps the size and
// mtime it had when hashed (the runner cache's rule), so a 2 GB weight file is not read again on
// every load. The record lives beside the files in `.verified.json`; a file edited since (new size
// or mtime), a manifest naming another hash, or a missing or unreadable record means hashing again.
import { readFileSync, renameSync, type Stats, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";

export const VERIFIED_FILE = ".verified.json";

const RecordSchema = z.object({
  version: z.literal(1),
  files: z.record(
    z.string(),
    z.object({ sha256: z.string(), bytes: z.number(), mtimeMs: z.number() }),
  ),
});
type VerifiedRecord = z.infer<typeof RecordSchema>;

export class VerifiedFiles {
  private changed = false;

  private constructor(
    private readonly dir: string,
    private readonly record: VerifiedRecord,
  ) {}

  /** The directory's record; an absent or malformed one is an empty record (everything is hashed). */
  static open(dir: string): VerifiedFiles {
    let record: VerifiedRecord = { version: 1, files: {} };
    try {
      const parsed = RecordSchema.safeParse(
        JSON.parse(readFileSync(join(dir, VERIFIED_FILE), "utf8")),
      );
      if (parsed.success) record = parsed.data;
    } catch {
      // No record yet, or one that cannot be read: hash everything.
    }
    return new VerifiedFiles(dir, record);
  }

  /** True when `file` was hashed to `sha256` and has not changed size or mtime since. */
  trusts(file: string, sha256: string, info: Stats): boolean {
    const known = this.record.files[file];
    return (
      known !== undefined &&
      known.sha256 === sha256 &&
      known.bytes === info.size &&
      known.mtimeMs === info.mtimeMs
    );
  }

  /** Notes that `file`, as `info` describes it, was just hashed to `sha256`. */
  remember(file: string, sha256: string, info: Stats): void {
    this.record.files[file] = { sha256, bytes: info.size, mtimeMs: info.mtimeMs };
    this.changed = true;
  }

  /** Writes the record (temporary file, then rename); a read-only directory just keeps no record. */
  save(): void {
    if (!this.changed) return;
    const path = join(this.dir, VERIFIED_FILE);
    const partial = `${path}.${process.pid}.part`;
    try {
      writeFileSync(partial, `${JSON.stringify(this.record)}\n`);
      renameSync(partial, path);
      this.changed = false;
    } catch {
      // Not writable: the next load hashes again, which is slower but still correct.
    }
  }
}
