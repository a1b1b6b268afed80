// sha256 of a byte stream, computed as it flows (workerd's crypto.DigestStream). Chunks are pumped
// by hand: workerd cannot pipe a JavaScript-made stream into its native writable streams.

export function toHex(buffer: ArrayBuffer): string {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function digestStream(): DigestStream {
  // The DOM lib's Crypto type (tsconfig) hides workerd's DigestStream.
  const { DigestStream: Digest } = crypto as unknown as { DigestStream: typeof DigestStream };
  return new Digest("SHA-256");
}

/** Copies `source` into every sink; resolves when all of them took every chunk. */
export async function pump(
  source: ReadableStream<Uint8Array>,
  sinks: readonly WritableStream<Uint8Array>[],
): Promise<void> {
  const writers = sinks.map((sink) => sink.getWriter());
  const reader = source.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      await Promise.all(writers.map((writer) => writer.write(value)));
    }
    await Promise.all(writers.map((writer) => writer.close()));
  } catch (error) {
    await Promise.all(writers.map((writer) => writer.abort(error).catch(() => {})));
    throw error;
  }
}

/** Hex sha256 of everything `stream` yields; consumes it. */
export async function sha256OfStream(stream: ReadableStream<Uint8Array>): Promise<string> {
  const digest = digestStream();
  await pump(stream, [digest]);
  return toHex(await digest.digest);
}

/**
 * Feeds `body` (exactly `bytes` long) to `store` and to a hash at once. `store` receives a stream
 * of known length, as R2 needs. Returns the hex sha256 of what arrived and the store's error, if any.
 */
export async function hashWhileStoring(
  body: ReadableStream<Uint8Array>,
  bytes: number,
  store: (stream: ReadableStream<Uint8Array>) => Promise<unknown>,
): Promise<{ sha256: string; storeError: Error | null }> {
  const digest = digestStream();
  const sized = new FixedLengthStream(bytes);
  const [pumped, stored] = await Promise.allSettled([
    pump(body, [digest, sized.writable]),
    store(sized.readable),
  ]);
  if (pumped.status === "rejected") {
    throw new Error(`the body is not the ${bytes} bytes Content-Length announced`);
  }
  const storeError = stored.status === "rejected" ? (stored.reason as Error) : null;
  return { sha256: toHex(await digest.digest), storeError };
}

/** A stream of exactly `bytes` from `body` (errors if the body is shorter or longer). */
export function sizedStream(
  body: ReadableStream<Uint8Array>,
  bytes: number,
): ReadableStream<Uint8Array> {
  const sized = new FixedLengthStream(bytes);
  pump(body, [sized.writable]).catch(() => {});
  return sized.readable;
}
