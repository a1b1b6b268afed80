// DESIGN §8 owners: a multipart upload belongs to the token that started it. Another submitter
// cannot read, resume, add parts to, complete or abort it (404, as if it did not exist); admins can.
import { describe, expect, it } from "vitest";
import { MIN_PART_BYTES } from "../protocol.ts";
import { ADMIN, call, expectJson, makeToken, sha256Hex } from "../testing/api.ts";

const octets = { "content-type": "application/octet-stream" };
const partSize = MIN_PART_BYTES;
const size = partSize + 1000;

function bytesOf(length: number, seed: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 13 + seed * 5) & 255;
  return bytes;
}

describe("upload owners", () => {
  it("keeps an upload to its owner and admins", async () => {
    const owner = await makeToken("submit", "owner");
    const other = await makeToken("submit", "other");
    const data = bytesOf(size, 1);
    const sha = await sha256Hex(data);
    const request = { sha256: sha, bytes: size, part_size: partSize };
    const upload = await expectJson(201, "POST", "/api/uploads", { token: owner, json: request });
    const first = data.slice(0, partSize);
    const putPart = (token: string, n: number, body: Uint8Array<ArrayBuffer>) =>
      call("PUT", `/api/uploads/${upload.id}/parts/${n}`, { token, body, headers: octets });
    expect((await putPart(owner, 1, first)).status).toBe(200);

    for (const [method, path, body] of [
      ["GET", `/api/uploads/${upload.id}`, undefined],
      ["PUT", `/api/uploads/${upload.id}/parts/2`, data.slice(partSize)],
      ["POST", `/api/uploads/${upload.id}/complete`, undefined],
      ["DELETE", `/api/uploads/${upload.id}`, undefined],
    ] as const) {
      const res = await call(method, path, {
        token: other,
        body,
        headers: body ? octets : undefined,
      });
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 404 });
    }
    // Asking for the same file starts the other submitter's own upload, not the owner's.
    const theirs = await expectJson(201, "POST", "/api/uploads", { token: other, json: request });
    expect(theirs.id).not.toBe(upload.id);
    expect(theirs.parts).toEqual([]);
    // The owner's upload is untouched: it still resumes with its one part and is still open.
    const resumed = await expectJson(200, "POST", "/api/uploads", { token: owner, json: request });
    expect(resumed).toMatchObject({ id: upload.id, state: "open", parts: [{ part_number: 1 }] });

    // An admin reads, completes and aborts anyone's uploads.
    await expectJson(200, "GET", `/api/uploads/${upload.id}`, { token: ADMIN });
    expect((await putPart(ADMIN, 2, data.slice(partSize))).status).toBe(200);
    const done = await expectJson(200, "POST", `/api/uploads/${upload.id}/complete`, {
      token: ADMIN,
    });
    expect(done).toEqual({ sha256: sha, bytes: size });
    const aborted = await expectJson(200, "DELETE", `/api/uploads/${theirs.id}`, { token: ADMIN });
    expect(aborted.state).toBe("aborted");
  });
});
