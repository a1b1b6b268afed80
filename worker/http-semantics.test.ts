// HTTP status semantics beyond the routes' own checks, through app.request in workerd: Range on
// blob downloads (RFC 9110 §14), 415 naming the expected type, 405 with Allow for known paths.
import { describe, expect, it } from "vitest";
import { parseByteRange } from "./byte-range.ts";
import { call, makeToken, uploadBlob } from "./testing/api.ts";

describe("parseByteRange (RFC 9110 §14.1.2 forms, single range)", () => {
  it.each([
    ["bytes=0-3", 10, { offset: 0, length: 4 }],
    ["bytes=2-", 10, { offset: 2, length: 8 }],
    ["bytes=-3", 10, { offset: 7, length: 3 }],
    // A last byte past the end is clipped; a suffix longer than the file is the whole file.
    ["bytes=5-100", 10, { offset: 5, length: 5 }],
    ["bytes=-100", 10, { offset: 0, length: 10 }],
  ])("%s of a %i-byte file", (header, size, expected) => {
    expect(parseByteRange(header, size)).toEqual(expected);
  });

  it.each([
    ["bytes=10-", "starts past the end"],
    ["bytes=5-2", "before the first"],
    ["bytes=-0", "selects no bytes"],
    ["bytes=-", "expected one range"],
    ["bytes=0-1,4-5", "expected one range"],
    ["items=0-1", "expected one range"],
    ["bytes=a-b", "expected one range"],
  ])("refuses %s", (header, reason) => {
    const result = parseByteRange(header, 10);
    expect(result).toHaveProperty("refused");
    expect((result as { refused: string }).refused).toContain(reason);
  });
});

describe("blob downloads honour Range", () => {
  const content = "0123456789";
  const bytesOf = async (res: Response) => new TextDecoder().decode(await res.arrayBuffer());
  // Storage is reset before every test, so each stores its own blob.
  const stored = async () => {
    const token = await makeToken("submit");
    return { token, path: `/api/blobs/${await uploadBlob(token, content)}` };
  };

  it("206 with the asked bytes and Content-Range", async () => {
    const { token, path } = await stored();
    const res = await call("GET", path, { token, headers: { range: "bytes=2-5" } });
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe("bytes 2-5/10");
    expect(res.headers.get("content-length")).toBe("4");
    expect(await bytesOf(res)).toBe("2345");
    const tail = await call("GET", path, { token, headers: { range: "bytes=-3" } });
    expect(tail.status).toBe(206);
    expect(tail.headers.get("content-range")).toBe("bytes 7-9/10");
    expect(await bytesOf(tail)).toBe("789");
  });

  it.each(["bytes=20-30", "bytes=5-2", "bytes=abc", "bytes=0-1,4-5"])(
    "416 with Content-Range bytes */10 for %s, never the whole file",
    async (range) => {
      const { token, path } = await stored();
      const res = await call("GET", path, { token, headers: { range } });
      expect(res.status).toBe(416);
      expect(res.headers.get("content-range")).toBe("bytes */10");
      const body = (await res.json()) as { error: string; detail: string };
      expect(body.error).toBe("range_not_satisfiable");
      expect(body.detail).toContain(range);
    },
  );

  it("200 with the whole file without Range", async () => {
    const { token, path } = await stored();
    const res = await call("GET", path, { token });
    expect(res.status).toBe(200);
    expect(await bytesOf(res)).toBe(content);
  });
});

describe("415 and 405", () => {
  it("415 names the expected content type and the one sent", async () => {
    const runner = await makeToken("runner");
    const res = await call("POST", "/api/leases", {
      token: runner,
      body: "{}",
      headers: { "content-type": "text/plain" },
    });
    expect(res.status).toBe(415);
    const body = (await res.json()) as { error: string; detail: string };
    expect(body.error).toBe("unsupported_media_type");
    expect(body.detail).toBe("Content-Type must be application/json (got text/plain)");
  });

  it("a wrong method on a known path is 405 with Allow; an unknown path stays 404", async () => {
    const submit = await makeToken("submit");
    const blob = `/api/blobs/${"a".repeat(64)}`;
    const wrong = await call("DELETE", blob, { token: submit });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET, HEAD, PUT");
    expect(((await wrong.json()) as { error: string }).error).toBe("method_not_allowed");

    const tokens = await call("PUT", "/api/tokens", { token: submit });
    expect(tokens.status).toBe(405);
    expect(tokens.headers.get("allow")).toBe("GET, HEAD, POST");

    const unknown = await call("GET", "/api/nowhere", { token: submit });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("allow")).toBeNull();
  });
});
