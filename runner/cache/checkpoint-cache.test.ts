// The cache's rules on a local folder; files are served by a fetch function over in-memory bytes
// (the real HTTP path is covered end to end in tests/runner-e2e.long.test.ts).
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type CachedFile, CheckpointCache, CheckpointDownloadError } from "./checkpoint-cache.ts";

let dir: string;
let served: Map<string, Uint8Array<ArrayBuffer>>;
let requests: string[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "evals-cache-"));
  served = new Map();
  requests = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, size: number, fill: number): CachedFile {
  const bytes = new Uint8Array(size).fill(fill);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  served.set(`http://api/${sha256}`, bytes);
  return { name, sha256, bytes: size, url: `http://api/${sha256}` };
}

function cache(maxBytes = 1e9): CheckpointCache {
  return new CheckpointCache({
    dir,
    maxBytes,
    fetch: async (url) => {
      requests.push(String(url));
      const bytes = served.get(String(url));
      return bytes ? new Response(bytes) : new Response("missing", { status: 404 });
    },
  });
}

describe("CheckpointCache", () => {
  it("downloads once and writes the manifest beside the files", async () => {
    const files = [file("block.onnx", 100, 1), file("tokenizer.json", 10, 2)];
    const store = cache();
    const path = await store.acquire("ck1", files, { name: "m" });
    await store.acquire("ck1", files, { name: "m" });
    expect(requests).toHaveLength(2);
    expect(readdirSync(path).sort()).toEqual([
      ".last-used",
      ".verified.json",
      "block.onnx",
      "recurrent.json",
      "tokenizer.json",
    ]);
    expect(JSON.parse(readFileSync(join(path, "recurrent.json"), "utf8"))).toEqual({ name: "m" });
  });

  it("a restarted cache trusts what was hashed; a file changed on disk is fetched again", async () => {
    const files = [file("block.onnx", 100, 1), file("tokenizer.json", 10, 2)];
    const path = await cache().acquire("ck1", files, {});
    const block = join(path, "block.onnx");
    // Touched with its bytes intact: hashed again by a new process (a new cache), kept.
    const mtime = new Date("2026-01-02T03:04:05Z");
    utimesSync(block, mtime, mtime);
    await cache().acquire("ck1", files, {});
    expect(requests).toHaveLength(2);
    // Same size and mtime: used without being read, so even changed bytes pass.
    writeFileSync(block, new Uint8Array(100).fill(7));
    utimesSync(block, mtime, mtime);
    await cache().acquire("ck1", files, {});
    expect(requests).toHaveLength(2);
    // A new mtime: hashed again, found wrong, downloaded again.
    const later = new Date(mtime.getTime() + 2000);
    utimesSync(block, later, later);
    const reasons: string[] = [];
    const store = new CheckpointCache({
      dir,
      maxBytes: 1e9,
      fetch: async (url) => new Response(served.get(String(url))),
      onFetch: (event) => reasons.push(`${event.file}: ${event.reason}`),
    });
    await store.acquire("ck1", files, {});
    expect(reasons).toEqual([expect.stringMatching(/^block\.onnx: cached copy fails its sha256/)]);
    expect(readFileSync(block)).toEqual(Buffer.from(new Uint8Array(100).fill(1)));
  });

  it("refuses bytes that do not match the sha256 and leaves nothing under the name", async () => {
    const good = file("block.onnx", 100, 1);
    served.set(good.url, new Uint8Array(100).fill(9));
    const error = await cache()
      .acquire("ck1", [good], {})
      .catch((e) => e);
    expect(error).toBeInstanceOf(CheckpointDownloadError);
    expect(error.message).toMatch(/block\.onnx .*expected 100 bytes with [0-9a-f]{64}/);
    expect(readdirSync(join(dir, "ck1")).filter((n) => !n.startsWith("."))).toEqual([
      "recurrent.json",
    ]);
  });

  it("says which file and status when the API refuses a download", async () => {
    const missing = { ...file("coda.onnx", 5, 3), url: "http://api/nothing" };
    await expect(cache().acquire("ck1", [missing], {})).rejects.toThrow(
      /GET http:\/\/api\/nothing for coda\.onnx answered HTTP 404/,
    );
  });

  it.each(["../evil", "/etc/passwd", "a/b.onnx", ".hidden", "recurrent.json", ""])(
    "refuses the file name %j",
    async (name) => {
      await expect(cache().acquire("ck1", [file(name, 1, 1)], {})).rejects.toThrow(
        /not a plain file name/,
      );
    },
  );

  it("refuses a checkpoint id that is not a plain name", async () => {
    await expect(cache().acquire("../up", [], {})).rejects.toThrow(/checkpoint id/);
  });

  it("evicts least-recently-used checkpoints over budget, never one in use", async () => {
    const store = cache(250);
    await store.acquire("old", [file("w", 200, 1)], {});
    store.release("old");
    await store.acquire("held", [file("w", 200, 2)], {});
    expect(existsSync(join(dir, "old"))).toBe(false);
    await store.acquire("new", [file("w", 200, 3)], {});
    // Over budget, but both are held: nothing may go.
    expect(existsSync(join(dir, "held"))).toBe(true);
    expect(existsSync(join(dir, "new"))).toBe(true);
  });
});
