// Blobs and resumable multipart uploads against real R2: hashes verified by the server,
// duplicates skipped, interrupted uploads resumed, wrong bytes never registered.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MIN_PART_BYTES } from "../protocol.ts";
import { call, expectJson, makeToken, sha256Hex } from "../testing/api.ts";

function bytesOf(length: number, seed: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed * 7) & 255;
  return bytes;
}

const octets = { "content-type": "application/octet-stream" };

describe("blobs", () => {
  it("stores a file under its sha256 once and serves it back, also by range", async () => {
    const token = await makeToken("submit");
    const data = bytesOf(1000, 1);
    const sha = await sha256Hex(data);
    const first = await call("PUT", `/api/blobs/${sha}`, { token, body: data, headers: octets });
    expect(first.status).toBe(201);
    const again = await call("PUT", `/api/blobs/${sha}`, { token, body: data, headers: octets });
    expect(again.status).toBe(200);
    const got = await call("GET", `/api/blobs/${sha}`, { token });
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(data);
    const head = await call("HEAD", `/api/blobs/${sha}`, { token });
    expect(head.headers.get("content-length")).toBe("1000");
    const part = await call("GET", `/api/blobs/${sha}`, {
      token,
      headers: { range: "bytes=10-19" },
    });
    expect(part.status).toBe(206);
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(data.slice(10, 20));
  });

  it("refuses a body whose hash differs and keeps nothing of it", async () => {
    const token = await makeToken("submit");
    const claimed = await sha256Hex(bytesOf(100, 1));
    const res = await call("PUT", `/api/blobs/${claimed}`, {
      token,
      body: bytesOf(100, 2),
      headers: octets,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "hash_mismatch" });
    expect((await call("GET", `/api/blobs/${claimed}`, { token })).status).toBe(404);
    expect((await env.BLOBS.list()).objects).toHaveLength(0);
  });
});

describe("multipart uploads", () => {
  const size = MIN_PART_BYTES + 1234;
  const partSize = MIN_PART_BYTES;

  it("resumes after an interruption and verifies the whole file", async () => {
    const token = await makeToken("submit");
    const data = bytesOf(size, 3);
    const sha = await sha256Hex(data);
    const upload = await expectJson(201, "POST", "/api/uploads", {
      token,
      json: { sha256: sha, bytes: size, part_size: partSize },
    });
    expect(upload).toMatchObject({ part_count: 2, state: "open", parts: [] });
    const putPart = (n: number, body: Uint8Array<ArrayBuffer>) =>
      call("PUT", `/api/uploads/${upload.id}/parts/${n}`, { token, body, headers: octets });
    expect((await putPart(2, data.slice(partSize))).status).toBe(200);
    // The client went away; it asks what the server has and sends only the rest.
    const resumed = await expectJson(200, "GET", `/api/uploads/${upload.id}`, { token });
    expect(resumed.parts).toEqual([{ part_number: 2, bytes: 1234 }]);
    const early = await call("POST", `/api/uploads/${upload.id}/complete`, { token });
    expect(early.status).toBe(409);
    const wrongSize = await putPart(1, data.slice(0, 100));
    expect(wrongSize.status).toBe(400);
    expect((await putPart(1, data.slice(0, partSize))).status).toBe(200);
    const done = await expectJson(200, "POST", `/api/uploads/${upload.id}/complete`, { token });
    expect(done).toEqual({ sha256: sha, bytes: size });
    const got = await call("GET", `/api/blobs/${sha}`, { token });
    expect(await sha256Hex(new Uint8Array(await got.arrayBuffer()))).toBe(sha);
    // Asking to upload it again: nothing to do.
    const dedupe = await expectJson(200, "POST", "/api/uploads", {
      token,
      json: { sha256: sha, bytes: size },
    });
    expect(dedupe).toMatchObject({ id: null, state: "complete" });
  });

  it("never registers assembled bytes whose hash differs", async () => {
    const token = await makeToken("submit");
    const data = bytesOf(size, 4);
    const claimed = await sha256Hex(bytesOf(size, 5));
    const upload = await expectJson(201, "POST", "/api/uploads", {
      token,
      json: { sha256: claimed, bytes: size, part_size: partSize },
    });
    for (const [n, body] of [
      [1, data.slice(0, partSize)],
      [2, data.slice(partSize)],
    ] as const) {
      await call("PUT", `/api/uploads/${upload.id}/parts/${n}`, { token, body, headers: octets });
    }
    const res = await call("POST", `/api/uploads/${upload.id}/complete`, { token });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "hash_mismatch" });
    expect((await call("GET", `/api/blobs/${claimed}`, { token })).status).toBe(404);
    const after = await expectJson(200, "GET", `/api/uploads/${upload.id}`, { token });
    expect(after.state).toBe("aborted");
  });
});
