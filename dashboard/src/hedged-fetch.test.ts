// hedgedFetch against a real HTTP server on this machine that can leave chosen requests
// unanswered, as a proxy that lost a request does: the copy sent after the delay is answered, the
// lost one is given up, a prompt answer is never duplicated, a slow one is still taken.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { unusedPort } from "../../worker/dev.ts";
import { hedgedFetch } from "./hedged-fetch.ts";

interface Seen {
  copy: number;
  closedUnanswered: boolean;
}

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

/** A server whose `answer(copy, res)` decides, per request (1, 2, …), whether and when to answer. */
async function server(answer: (copy: number, res: ServerResponse) => void) {
  const seen: Seen[] = [];
  const http = createServer((_req: IncomingMessage, res: ServerResponse) => {
    const entry = { copy: seen.length + 1, closedUnanswered: false };
    seen.push(entry);
    res.on("close", () => {
      entry.closedUnanswered = !res.writableFinished;
    });
    answer(entry.copy, res);
  });
  await new Promise<void>((done) => http.listen(0, "127.0.0.1", done));
  close = () =>
    new Promise((done) => {
      http.closeAllConnections();
      http.close(() => done());
    });
  const { port } = http.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/api/runs`, seen };
}

const reply = (res: ServerResponse, body: string) =>
  res.writeHead(200, { "content-type": "application/json" }).end(body);

/** Resolves once `check` holds (the server's side of an abort arrives a moment later). */
async function eventually(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe("hedgedFetch", () => {
  it("sends a copy when the first request gets no answer, takes the copy's, and drops the first", async () => {
    const { url, seen } = await server((copy, res) => {
      if (copy === 2) reply(res, '{"copy":2}');
    });
    // The third copy would go out long after the second is answered.
    const res = await hedgedFetch(url, {}, [50, 60_000]);
    expect(await res.json()).toEqual({ copy: 2 });
    await eventually(() => seen[0].closedUnanswered);
    expect(seen.map((s) => s.copy)).toEqual([1, 2]);
    expect(seen[0].closedUnanswered).toBe(true);
  });

  it("sends a prompt request once", async () => {
    const { url, seen } = await server((copy, res) => reply(res, `{"copy":${copy}}`));
    const res = await hedgedFetch(url, {}, [1000]);
    expect(await res.json()).toEqual({ copy: 1 });
    // Past the moment the copy would have gone out.
    await new Promise((r) => setTimeout(r, 1200));
    expect(seen).toHaveLength(1);
  });

  it("still takes a slow first answer: copies run beside it, none replaces it", async () => {
    // The first request is answered only once both copies have arrived; the copies never are.
    let first: ServerResponse | undefined;
    const { url, seen } = await server((copy, res) => {
      if (copy === 1) first = res;
      if (copy === 3 && first) reply(first, '{"copy":1}');
    });
    const res = await hedgedFetch(url, {}, [30, 30]);
    expect(await res.json()).toEqual({ copy: 1 });
    expect(seen.map((s) => s.copy)).toEqual([1, 2, 3]);
    await eventually(() => seen[1].closedUnanswered && seen[2].closedUnanswered);
    expect(seen.slice(1).every((s) => s.closedUnanswered)).toBe(true);
  });

  it("resolves with an error status as fetch does (the caller reads it)", async () => {
    const { url } = await server((_copy, res) => res.writeHead(404).end('{"error":"not_found"}'));
    expect((await hedgedFetch(url, {}, [50])).status).toBe(404);
  });

  it("rejects at once when nothing listens, without waiting for copies", async () => {
    const port = await unusedPort();
    let copiesDue = false;
    const timer = setTimeout(() => (copiesDue = true), 5_000);
    await expect(hedgedFetch(`http://127.0.0.1:${port}/api/runs`, {}, [5_000])).rejects.toThrow(
      /fetch failed/,
    );
    clearTimeout(timer);
    expect(copiesDue).toBe(false);
  });

  it("gives up every copy when the caller aborts", async () => {
    const { url, seen } = await server(() => {});
    const caller = new AbortController();
    const pending = hedgedFetch(url, { signal: caller.signal }, [30, 30]);
    await eventually(() => seen.length === 3);
    caller.abort(new Error("page left"));
    await expect(pending).rejects.toThrow("page left");
    await eventually(() => seen.every((s) => s.closedUnanswered));
    expect(seen.map((s) => s.closedUnanswered)).toEqual([true, true, true]);
  });
});
