// Checkpoint files on the runner's disk: downloaded once, verified against their sha256, shared by
// every page, evicted least-recently-used when the cache outgrows its budget.
//
// Layout: <dir>/<checkpoint id>/<file name> (a plain checkpoint directory the engines open: the
// manifest the API sent is written as recurrent.json beside the downloaded files), plus
// <dir>/<checkpoint id>/.last-used touched on every use. A file is trusted only after it was hashed
// (or written from a download whose hash matched); later uses, and the engines that open the
// directory, compare size and mtime with what was hashed (.verified.json, model/verified-files.ts),
// so a file changed on disk is hashed again and fetched again when it no longer matches.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { isAbsolute, join, normalize, sep } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { EvalsError } from "../../evals/errors.ts";
import { VerifiedFiles } from "../../model/verified-files.ts";

export class CheckpointDownloadError extends EvalsError {}

export interface CachedFile {
  name: string;
  sha256: string;
  bytes: number;
  /** Absolute URL to GET the file from. */
  url: string;
}

export interface CacheEvents {
  /** A file was missing or failed its hash and is being (re)downloaded. */
  onFetch?(event: { checkpoint: string; file: string; bytes: number; reason: string }): void;
}

export interface CheckpointCacheOptions extends CacheEvents {
  dir: string;
  /** Budget for the whole cache; checkpoints in use are never evicted. */
  maxBytes: number;
  /** Headers for every download (the runner's bearer token). */
  headers?: Record<string, string>;
  fetch?: typeof fetch;
}

/** `$XDG_CACHE_HOME/evals/checkpoints`, else `~/.cache/evals/checkpoints`. */
export function defaultCheckpointCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "evals", "checkpoints");
}

const LAST_USED = ".last-used";
const MANIFEST = "recurrent.json";

export class CheckpointCache {
  private readonly pending = new Map<string, Promise<string>>();
  private readonly inUse = new Map<string, number>();

  constructor(private readonly options: CheckpointCacheOptions) {}

  /**
   * Makes every file of the checkpoint present and verified; returns its directory. The caller
   * holds it until `release(id)`, so that eviction leaves it alone.
   */
  async acquire(id: string, files: readonly CachedFile[], manifest: object): Promise<string> {
    const safeId = safeName(id, "checkpoint id");
    this.inUse.set(safeId, (this.inUse.get(safeId) ?? 0) + 1);
    try {
      let ready = this.pending.get(safeId);
      if (!ready) {
        ready = this.materialize(safeId, files, manifest).finally(() =>
          this.pending.delete(safeId),
        );
        this.pending.set(safeId, ready);
      }
      const dir = await ready;
      await this.evict();
      return dir;
    } catch (error) {
      this.release(safeId);
      throw error;
    }
  }

  release(id: string): void {
    const count = (this.inUse.get(id) ?? 0) - 1;
    if (count > 0) this.inUse.set(id, count);
    else this.inUse.delete(id);
  }

  private async materialize(
    id: string,
    files: readonly CachedFile[],
    manifest: object,
  ): Promise<string> {
    const dir = join(this.options.dir, id);
    await mkdir(dir, { recursive: true });
    const manifestPath = join(dir, MANIFEST);
    await writeFile(
      `${manifestPath}.${process.pid}.part`,
      `${JSON.stringify(manifest, null, 2)}\n`,
    );
    await rename(`${manifestPath}.${process.pid}.part`, manifestPath);
    const verified = VerifiedFiles.open(dir);
    try {
      for (const file of files) {
        const path = join(dir, safeName(file.name, "checkpoint file name"));
        const problem = await this.check(path, file, verified);
        if (problem) {
          await this.download(id, path, file, problem);
          verified.remember(file.name, file.sha256, await stat(path));
        }
      }
    } finally {
      verified.save();
    }
    const now = new Date();
    await writeFile(join(dir, LAST_USED), "");
    await utimes(join(dir, LAST_USED), now, now);
    return dir;
  }

  /** Why the file on disk cannot be used as is, or null when it can. */
  private async check(
    path: string,
    file: CachedFile,
    verified: VerifiedFiles,
  ): Promise<string | null> {
    const info = await stat(path).catch(() => null);
    if (!info) return "not cached";
    if (info.size !== file.bytes)
      return `cached copy has ${info.size} bytes, expected ${file.bytes}`;
    if (verified.trusts(file.name, file.sha256, info)) return null;
    const actual = await sha256OfFile(path);
    if (actual !== file.sha256) return `cached copy fails its sha256 (${actual.slice(0, 12)}…)`;
    verified.remember(file.name, file.sha256, info);
    return null;
  }

  private async download(id: string, path: string, file: CachedFile, reason: string) {
    this.options.onFetch?.({ checkpoint: id, file: file.name, bytes: file.bytes, reason });
    const fetcher = this.options.fetch ?? fetch;
    const response = await fetcher(file.url, { headers: this.options.headers }).catch(
      (error: Error) => {
        throw new CheckpointDownloadError(`GET ${file.url}: ${error.message}`);
      },
    );
    if (!response.ok || !response.body) {
      throw new CheckpointDownloadError(
        `GET ${file.url} for ${file.name} answered HTTP ${response.status}`,
      );
    }
    // Written beside the target and renamed only once the hash matched: a crash mid-download
    // leaves a .part file, never a wrong file under the real name.
    const partial = `${path}.${process.pid}.part`;
    const hash = createHash("sha256");
    let bytes = 0;
    const source = Readable.fromWeb(response.body as import("node:stream/web").ReadableStream);
    source.on("data", (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    try {
      await pipeline(source, createWriteStream(partial));
      const actual = hash.digest("hex");
      if (bytes !== file.bytes || actual !== file.sha256) {
        throw new CheckpointDownloadError(
          `${file.name} from ${file.url}: got ${bytes} bytes with sha256 ${actual}, ` +
            `expected ${file.bytes} bytes with ${file.sha256}`,
        );
      }
      await rename(partial, path);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }

  /** Removes least-recently-used checkpoints not in use until the cache fits its budget. */
  private async evict(): Promise<void> {
    const entries = await readdir(this.options.dir, { withFileTypes: true });
    const checkpoints = await Promise.all(
      entries
        .filter((entry) => entry.isDirectory())
        .map(async (entry) => {
          const dir = join(this.options.dir, entry.name);
          const names = await readdir(dir);
          let bytes = 0;
          for (const name of names)
            bytes += (await stat(join(dir, name)).catch(() => null))?.size ?? 0;
          const lastUsed = (await stat(join(dir, LAST_USED)).catch(() => null))?.mtimeMs ?? 0;
          return { id: entry.name, dir, bytes, lastUsed };
        }),
    );
    let total = checkpoints.reduce((sum, c) => sum + c.bytes, 0);
    for (const candidate of checkpoints.sort((a, b) => a.lastUsed - b.lastUsed)) {
      if (total <= this.options.maxBytes) break;
      if (this.inUse.has(candidate.id) || this.pending.has(candidate.id)) continue;
      await rm(candidate.dir, { recursive: true, force: true });
      total -= candidate.bytes;
    }
  }
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(path), hash);
  return hash.digest("hex");
}

/** A name from the API used as a path part: one plain segment, never `..` or absolute. */
function safeName(name: string, what: string): string {
  const normal = normalize(name);
  if (
    !name ||
    isAbsolute(name) ||
    normal !== name ||
    name.includes(sep) ||
    name.includes("/") ||
    name.startsWith(".") ||
    name === MANIFEST
  ) {
    throw new CheckpointDownloadError(
      `${what} "${name}" is not a plain file name; refusing to write it into the cache`,
    );
  }
  return name;
}
