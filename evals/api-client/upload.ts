// Uploads a checkpoint's files as content-addressed blobs: blobs the server holds are skipped,
// large files go through resumable multipart uploads read from disk part by part (a 3 GB weights
// file is never in memory at once), then the manifest is registered.
import { open, readFile } from "node:fs/promises";
import type { EvalsClient } from "../../worker/client.ts";
import { MAX_SINGLE_PUT_BYTES } from "../../worker/protocol.ts";
import type { CheckpointUploadFile } from "./validate-checkpoint.ts";

export interface UploadProgress {
  /** Bytes of all files, and bytes done so far (skipped files count as done). */
  onStart?(totalBytes: number): void;
  onBytes?(doneBytes: number, file: string): void;
}

export interface UploadSummary {
  uploaded: string[];
  present: string[];
  bytesSent: number;
}

/** Reads `[offset, offset + length)` of a file. */
async function readRange(path: string, offset: number, length: number) {
  const handle = await open(path, "r");
  try {
    const bytes = new Uint8Array(new ArrayBuffer(length));
    let done = 0;
    while (done < length) {
      const { bytesRead } = await handle.read(bytes, done, length - done, offset + done);
      if (bytesRead === 0) throw new Error(`${path} ended at byte ${offset + done}`);
      done += bytesRead;
    }
    return bytes;
  } finally {
    await handle.close();
  }
}

/** Example: `await uploadCheckpointFiles(client, files, { onBytes: (n) => bar.update(n) })`. */
export async function uploadCheckpointFiles(
  client: EvalsClient,
  files: readonly CheckpointUploadFile[],
  progress: UploadProgress = {},
): Promise<UploadSummary> {
  const summary: UploadSummary = { uploaded: [], present: [], bytesSent: 0 };
  const total = files.reduce((sum, f) => sum + f.bytes, 0);
  progress.onStart?.(total);
  let done = 0;
  const seen = new Set<string>();
  for (const file of files) {
    if (seen.has(file.sha256) || (await client.hasBlob(file.sha256))) {
      seen.add(file.sha256);
      done += file.bytes;
      summary.present.push(file.name);
      progress.onBytes?.(done, file.name);
      continue;
    }
    seen.add(file.sha256);
    const before = done;
    if (file.bytes <= MAX_SINGLE_PUT_BYTES) {
      const bytes = new Uint8Array(await readFile(file.path));
      await client.putBlob(file.sha256, bytes);
      summary.bytesSent += file.bytes;
    } else {
      // The client skips parts the server already holds (a resumed upload). A part counts as sent when the next one is read; parts the server holds count as done.
      let pending = 0;
      await client.uploadLargeBlob(file.sha256, file.bytes, async (offset, length) => {
        summary.bytesSent += pending;
        pending = length;
        progress.onBytes?.(before + offset, file.name);
        return readRange(file.path, offset, length);
      });
      summary.bytesSent += pending;
    }
    done = before + file.bytes;
    summary.uploaded.push(file.name);
    progress.onBytes?.(done, file.name);
  }
  return summary;
}
