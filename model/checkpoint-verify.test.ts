// A checkpoint's files are hashed on the first load and trusted afterwards while size and mtime
// stay what they were when hashed; a file changed since is hashed again and refused on mismatch.
import {
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { readCheckpoint } from "./checkpoint.ts";
import { exportModel } from "./export-model.ts";
import { VERIFIED_FILE } from "./verified-files.ts";

const work = mkdtempSync(join(tmpdir(), "evals-verify-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const STAMP = new Date("2026-01-02T03:04:05Z");
let dir: string;
let graph: string;

/** Overwrites the file's bytes with others of the same length, keeping or moving its mtime. */
function corrupt(path: string, mtime: Date) {
  const bytes = readFileSync(path);
  bytes[bytes.length - 1] ^= 0xff;
  writeFileSync(path, bytes);
  utimesSync(path, mtime, mtime);
}

beforeEach(async () => {
  dir = mkdtempSync(join(work, "ckpt-"));
  await exportModel({ random: "tiny", out: dir, split: [1, 1, 1], seed: 1 });
  graph = join(dir, "block.onnx");
  utimesSync(graph, STAMP, STAMP);
});

describe("readCheckpoint's hash record", () => {
  it("hashes once, then trusts a file whose size and mtime are unchanged", async () => {
    await readCheckpoint(dir);
    const record = JSON.parse(readFileSync(join(dir, VERIFIED_FILE), "utf8"));
    expect(record.files["block.onnx"]).toEqual({
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      bytes: statSync(graph).size,
      mtimeMs: STAMP.getTime(),
    });
    // Same size, same mtime: not read again, so even changed bytes pass (the runner cache's rule).
    corrupt(graph, STAMP);
    await expect(readCheckpoint(dir)).resolves.toBeDefined();
  });

  it("hashes a file again when its mtime changed, and refuses it on a mismatch", async () => {
    await readCheckpoint(dir);
    corrupt(graph, new Date(STAMP.getTime() + 1000));
    await expect(readCheckpoint(dir)).rejects.toThrow(/block\.onnx does not match its sha256/);
  });

  it("refuses a file whose size changed", async () => {
    await readCheckpoint(dir);
    truncateSync(graph, statSync(graph).size - 1);
    utimesSync(graph, STAMP, STAMP);
    await expect(readCheckpoint(dir)).rejects.toThrow(
      /block\.onnx has \d+ bytes, the manifest says/,
    );
  });

  it("accepts a touched file whose bytes are intact, and records its new mtime", async () => {
    await readCheckpoint(dir);
    const later = new Date(STAMP.getTime() + 5000);
    utimesSync(graph, later, later);
    await readCheckpoint(dir);
    const record = JSON.parse(readFileSync(join(dir, VERIFIED_FILE), "utf8"));
    expect(record.files["block.onnx"].mtimeMs).toBe(later.getTime());
  });

  it("ignores a malformed record and hashes everything", async () => {
    await readCheckpoint(dir);
    writeFileSync(join(dir, VERIFIED_FILE), '{"version": 1, "files": "nope"}');
    corrupt(graph, STAMP);
    await expect(readCheckpoint(dir)).rejects.toThrow(/does not match its sha256/);
  });
});
