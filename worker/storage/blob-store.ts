// Content-addressed blobs. A blob exists for the API once its D1 row does; the row is written only
// after the server hashed the stored bytes itself, and names the R2 object holding them. Uploads
// never write over a registered object: single PUTs go to `blobs/<sha256>` with R2's own sha256
// check, multipart uploads to their own `multipart/<upload id>` key.
import type { Env } from "../env.ts";
import { HttpError } from "../http-error.ts";
import { hashWhileStoring, sha256OfStream } from "./digest.ts";

export interface StoredBlob {
  sha256: string;
  bytes: number;
  r2_key: string;
}

export async function findBlob(env: Env, sha256: string): Promise<StoredBlob | null> {
  return env.DB.prepare("SELECT sha256, bytes, r2_key FROM blobs WHERE sha256 = ?")
    .bind(sha256)
    .first<StoredBlob>();
}

/** The stored ones of `hashes`, by sha256, in one query. */
export async function findBlobs(
  env: Env,
  hashes: readonly string[],
): Promise<Map<string, StoredBlob>> {
  const wanted = [...new Set(hashes)];
  if (wanted.length === 0) return new Map();
  const { results } = await env.DB.prepare(
    "SELECT sha256, bytes, r2_key FROM blobs WHERE sha256 IN (SELECT value FROM json_each(?))",
  )
    .bind(JSON.stringify(wanted))
    .all<StoredBlob>();
  return new Map(results.map((row) => [row.sha256, row]));
}

/** Which of `hashes` are not stored yet. */
export async function missingBlobs(env: Env, hashes: readonly string[]): Promise<string[]> {
  const wanted = [...new Set(hashes)];
  if (wanted.length === 0) return [];
  const { results } = await env.DB.prepare(
    "SELECT sha256 FROM blobs WHERE sha256 IN (SELECT value FROM json_each(?))",
  )
    .bind(JSON.stringify(wanted))
    .all<{ sha256: string }>();
  const present = new Set(results.map((row) => row.sha256));
  return wanted.filter((hash) => !present.has(hash));
}

/** Stores a body of known length under its sha256, hashing it on the way in. */
export async function putBlob(
  env: Env,
  sha256: string,
  bytes: number,
  body: ReadableStream<Uint8Array>,
): Promise<void> {
  const key = `blobs/${sha256}`;
  let stored: Awaited<ReturnType<typeof hashWhileStoring>>;
  try {
    stored = await hashWhileStoring(body, bytes, (stream) =>
      env.BLOBS.put(key, stream, { sha256 }),
    );
  } catch (error) {
    throw new HttpError(400, "upload_failed", (error as Error).message);
  }
  if (stored.sha256 !== sha256) {
    // R2 refuses such a body itself; this covers stores that do not check.
    if (!stored.storeError && !(await findBlob(env, sha256))) await env.BLOBS.delete(key);
    throw hashMismatch(sha256, bytes, stored.sha256);
  }
  if (stored.storeError) {
    throw new HttpError(
      400,
      "upload_failed",
      `storing the body failed: ${stored.storeError.message}`,
    );
  }
  await register(env, { sha256, bytes, r2_key: key });
}

/** After a multipart upload completed under `key`: hash what R2 holds, then register or delete it. */
export async function verifyAndRegister(env: Env, blob: StoredBlob): Promise<void> {
  const object = await env.BLOBS.get(blob.r2_key);
  if (!object) throw new HttpError(409, "upload_incomplete", `no stored object for ${blob.sha256}`);
  const actual = await sha256OfStream(object.body);
  if (actual !== blob.sha256 || object.size !== blob.bytes) {
    await env.BLOBS.delete(blob.r2_key);
    throw hashMismatch(blob.sha256, blob.bytes, actual, object.size);
  }
  await register(env, blob);
}

async function register(env: Env, blob: StoredBlob): Promise<void> {
  await env.DB.prepare(
    "INSERT OR IGNORE INTO blobs (sha256, bytes, r2_key, created_at) VALUES (?, ?, ?, ?)",
  )
    .bind(blob.sha256, blob.bytes, blob.r2_key, new Date().toISOString())
    .run();
}

function hashMismatch(sha256: string, bytes: number, actual: string, got = bytes): HttpError {
  return new HttpError(
    400,
    "hash_mismatch",
    `received ${got} bytes with sha256 ${actual}; expected ${bytes} bytes with sha256 ${sha256}. Re-upload the file`,
  );
}
