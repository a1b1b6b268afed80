// The typed client against the real app in workerd: every URL it builds exists and parses.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ApiError, EvalsClient } from "./client.ts";
import app from "./index.ts";
import { MIN_PART_BYTES } from "./protocol.ts";
import { ADMIN, sha256Hex } from "./testing/api.ts";
import { checkpointFixture } from "./testing/checkpoint-fixture.ts";
import { CAPABILITIES } from "./testing/world.ts";

/** The app in-process; adds the Content-Length a real HTTP client sends with binary bodies. */
const inProcess: typeof fetch = async (input, init) => {
  const headers = new Headers(init?.headers);
  if (init?.body instanceof Uint8Array) headers.set("content-length", String(init.body.length));
  return app.request(String(input), { ...init, headers } as RequestInit, env);
};

function client(token?: string) {
  return new EvalsClient({ baseUrl: "http://api.test", token, fetch: inProcess });
}

describe("EvalsClient", () => {
  it("drives a run from upload to published results", async () => {
    const admin = client(ADMIN);
    const submit = client((await admin.createToken({ role: "submit", name: "cli" })).token);
    const runner = client((await admin.createToken({ role: "runner", name: "r" })).token);
    const fixture = await checkpointFixture();
    for (const bytes of fixture.files.values())
      await submit.uploadBlob(await sha256Hex(bytes), bytes);
    const checkpoint = await submit.registerCheckpoint({ manifest: fixture.manifest });
    const files: Record<string, string> = {};
    for (const [name, text] of [
      ["test.jsonl", env.TEST_GSM8K_TEST],
      ["fewshot_gsm8k_cot_8shot.jsonl", env.TEST_GSM8K_COT_FEWSHOT],
    ]) {
      const bytes = new TextEncoder().encode(text);
      files[name] = await sha256Hex(bytes);
      await submit.uploadBlob(files[name], bytes);
    }
    const dataset = await submit.registerDataset({ name: "gsm8k", files });
    expect((await submit.listDatasets()).datasets).toContainEqual(dataset);
    await expect(runner.listDatasets()).rejects.toMatchObject({ status: 403 });
    expect((await submit.listTasks()).tasks.map((t) => t.name)).toContain("gsm8k_cot_sean");

    const run = await submit.createRun({
      checkpoint: checkpoint.id,
      tasks: ["gsm8k_cot_sean"],
      recurrences: [2],
      limit: 2,
    });
    const lease = (await runner.lease(CAPABILITIES.capabilities, "client-test/1"))!;
    const file = await runner.getBlob(lease.checkpoint.files[0].url);
    expect(await sha256Hex(new Uint8Array(await file.arrayBuffer()))).toBe(
      lease.checkpoint.files[0].sha256,
    );
    await runner.heartbeat(lease.lease_id);
    const accepted = await runner.postResults(
      lease.lease_id,
      lease.prompts.map((p) => ({
        doc_id: p.doc_id,
        recurrences: 2,
        completion: "The answer is 18.",
        prompt_tokens: 50,
        generated_tokens: 6,
        backend: "node",
        runner_version: "client-test/1",
        timings: { ms: 3 },
      })),
    );
    expect(accepted.shard_state).toBe("done");
    expect(await runner.lease(CAPABILITIES.capabilities, "client-test/1")).toBeNull();
    await submit.publishRun(run.id);
    const page = await client().samples(run.id, { correct: true });
    expect(page.samples.map((s) => s.doc_index)).toEqual([0]);
    expect((await client().leaderboard()).tasks[0].entries[0].run_id).toBe(run.id);
    expect(await client().exportRun(run.id)).toHaveProperty("results.gsm8k_cot_sean");
  });

  it("resumes a multipart upload, sending only the missing parts", async () => {
    const submit = client((await client(ADMIN).createToken({ role: "submit", name: "cli" })).token);
    const bytes = new Uint8Array(MIN_PART_BYTES * 2 + 10).map((_, i) => i % 251);
    const sha = await sha256Hex(bytes);
    const reads: number[] = [];
    const read = async (offset: number, length: number) => {
      reads.push(offset);
      if (reads.length === 2) throw new Error("connection dropped");
      return bytes.slice(offset, offset + length);
    };
    await expect(submit.uploadLargeBlob(sha, bytes.length, read, MIN_PART_BYTES)).rejects.toThrow(
      "dropped",
    );
    const done = await submit.uploadLargeBlob(sha, bytes.length, read, MIN_PART_BYTES);
    expect(done).toEqual({ sha256: sha, bytes: bytes.length });
    expect(reads).toEqual([0, MIN_PART_BYTES, MIN_PART_BYTES, 2 * MIN_PART_BYTES]);
  });

  it("turns API errors into ApiError with the server's code", async () => {
    const error = await client()
      .getRun("run_nope")
      .catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 404, error: "not_found" });
  });
});
