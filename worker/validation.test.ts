// Bad requests: each gets a 4xx with `{error, detail}` naming the field, none a 5xx, and together
// they change nothing in D1 or R2.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ADMIN, call, sha256Hex, uploadBlob } from "./testing/api.ts";
import { checkpointFixture } from "./testing/checkpoint-fixture.ts";
import { CAPABILITIES, completions, createRun, lease, setupWorld } from "./testing/world.ts";

interface Case {
  name: string;
  method: string;
  path: string;
  token?: string | null;
  json?: unknown;
  body?: string;
  headers?: Record<string, string>;
  status: number;
  /** Text the detail must contain (for 400s: the field path). */
  detail?: string;
}

const TABLES = [
  "tokens",
  "blobs",
  "uploads",
  "upload_parts",
  "checkpoints",
  "datasets",
  "runs",
  "run_tasks",
  "run_docs",
  "shards",
  "leases",
  "shard_failures",
  "samples",
];

async function snapshot(): Promise<string> {
  const tables = await env.DB.batch(
    TABLES.map((t) => env.DB.prepare(`SELECT * FROM ${t} ORDER BY rowid`)),
  );
  const objects = await env.BLOBS.list();
  return JSON.stringify([tables.map((t) => t.results), objects.objects.map((o) => o.key)]);
}

describe("malformed requests", () => {
  it("answer 4xx with the field, never 5xx, and change nothing", async () => {
    const world = await setupWorld();
    const run = await createRun(world, { limit: 2, shard_size: 2, recurrences: [1] });
    const held = (await lease(world.runner))!;
    const notJsonl = await uploadBlob(world.submit, "this is not json\n");
    const { manifest } = await checkpointFixture("unuploaded");
    const good = completions(held, () => "1")[0];
    const stranger = await sha256Hex("never uploaded");
    const runBody = { checkpoint: world.checkpoint, tasks: ["gsm8k_cot_sean"], recurrences: [1] };
    const S = world.submit;
    const R = world.runner;
    const results = `/api/leases/${held.lease_id}/results`;
    const huge = "x".repeat(2 ** 20 + 10);

    const cases: Case[] = [
      {
        name: "tokens without a token",
        method: "POST",
        path: "/api/tokens",
        json: { role: "runner", name: "x" },
        status: 401,
      },
      {
        name: "tokens with a submit token",
        method: "POST",
        path: "/api/tokens",
        token: S,
        json: { role: "runner", name: "x" },
        status: 403,
      },
      {
        name: "tokens with a runner token",
        method: "GET",
        path: "/api/tokens",
        token: R,
        status: 403,
      },
      {
        name: "unknown role",
        method: "POST",
        path: "/api/tokens",
        token: ADMIN,
        json: { role: "root", name: "x" },
        status: 400,
        detail: "role",
      },
      {
        name: "empty token name",
        method: "POST",
        path: "/api/tokens",
        token: ADMIN,
        json: { role: "runner", name: "" },
        status: 400,
        detail: "name",
      },
      {
        name: "broken JSON",
        method: "POST",
        path: "/api/tokens",
        token: ADMIN,
        body: "{role:",
        headers: { "content-type": "application/json" },
        status: 400,
      },
      {
        name: "basic auth",
        method: "GET",
        path: "/api/tokens",
        headers: { authorization: "Basic eDp5" },
        status: 401,
      },
      {
        name: "unknown bearer",
        method: "GET",
        path: "/api/tokens",
        token: "evt_unknown",
        status: 401,
      },
      {
        name: "revoke unknown token",
        method: "DELETE",
        path: "/api/tokens/tok_nope",
        token: ADMIN,
        status: 404,
      },
      {
        name: "blob name not a sha256",
        method: "PUT",
        path: "/api/blobs/abc",
        token: S,
        body: "x",
        status: 400,
        detail: "sha256",
      },
      {
        name: "blob body with another hash",
        method: "PUT",
        path: `/api/blobs/${stranger}`,
        token: S,
        body: "other bytes",
        status: 400,
        detail: stranger,
      },
      {
        name: "blob upload by a runner",
        method: "PUT",
        path: `/api/blobs/${stranger}`,
        token: R,
        body: "x",
        status: 403,
      },
      {
        name: "blob over the single-PUT cap",
        method: "PUT",
        path: `/api/blobs/${stranger}`,
        token: S,
        body: "x",
        headers: { "content-length": String(200 * 2 ** 20) },
        status: 413,
      },
      {
        name: "unknown blob",
        method: "GET",
        path: `/api/blobs/${stranger}`,
        token: R,
        status: 404,
      },
      {
        name: "blob read without a token",
        method: "GET",
        path: `/api/blobs/${stranger}`,
        status: 401,
      },
      {
        name: "upload of negative size",
        method: "POST",
        path: "/api/uploads",
        token: S,
        json: { sha256: stranger, bytes: -1 },
        status: 400,
        detail: "bytes",
      },
      {
        name: "upload parts too small",
        method: "POST",
        path: "/api/uploads",
        token: S,
        json: { sha256: stranger, bytes: 10, part_size: 1 },
        status: 400,
        detail: "part_size",
      },
      {
        name: "unknown upload",
        method: "GET",
        path: "/api/uploads/upl_nope",
        token: S,
        status: 404,
      },
      {
        name: "part of unknown upload",
        method: "PUT",
        path: "/api/uploads/upl_nope/parts/1",
        token: S,
        body: "x",
        status: 404,
      },
      {
        name: "complete unknown upload",
        method: "POST",
        path: "/api/uploads/upl_nope/complete",
        token: S,
        status: 404,
      },
      {
        name: "checkpoint without manifest",
        method: "POST",
        path: "/api/checkpoints",
        token: S,
        json: {},
        status: 400,
        detail: "manifest",
      },
      {
        name: "manifest of another format",
        method: "POST",
        path: "/api/checkpoints",
        token: S,
        json: { manifest: { ...manifest, format_version: 2 } },
        status: 400,
        detail: "manifest.format_version",
      },
      {
        name: "manifest with a bad graph hash",
        method: "POST",
        path: "/api/checkpoints",
        token: S,
        json: {
          manifest: {
            ...manifest,
            graphs: { ...manifest.graphs, coda: { ...manifest.graphs.coda, sha256: "XYZ" } },
          },
        },
        status: 400,
        detail: "manifest.graphs.coda.sha256",
      },
      {
        name: "manifest whose files are not uploaded",
        method: "POST",
        path: "/api/checkpoints",
        token: S,
        json: { manifest },
        status: 409,
        detail: "prelude.onnx",
      },
      {
        name: "checkpoint by a runner",
        method: "POST",
        path: "/api/checkpoints",
        token: R,
        json: { manifest },
        status: 403,
      },
      {
        name: "unknown checkpoint",
        method: "GET",
        path: "/api/checkpoints/nope",
        token: S,
        status: 404,
      },
      {
        name: "dataset of unknown name",
        method: "POST",
        path: "/api/datasets",
        token: S,
        json: { name: "imagenet", files: {} },
        status: 400,
        detail: "name",
      },
      {
        name: "dataset file name with a path",
        method: "POST",
        path: "/api/datasets",
        token: S,
        json: { name: "gsm8k", files: { "../x": stranger } },
        status: 400,
        detail: "files",
      },
      {
        name: "dataset of unuploaded files",
        method: "POST",
        path: "/api/datasets",
        token: S,
        json: { name: "gsm8k", files: { "test.jsonl": stranger } },
        status: 409,
        detail: "test.jsonl",
      },
      {
        name: "dataset file that is not JSONL",
        method: "POST",
        path: "/api/datasets",
        token: S,
        json: { name: "gsm8k", files: { "bad.jsonl": notJsonl } },
        status: 400,
        detail: "files.bad.jsonl:1",
      },
      {
        name: "run without tasks",
        method: "POST",
        path: "/api/runs",
        token: S,
        json: { ...runBody, tasks: [] },
        status: 400,
        detail: "tasks",
      },
      {
        name: "run with r = 0",
        method: "POST",
        path: "/api/runs",
        token: S,
        json: { ...runBody, recurrences: [1, 0] },
        status: 400,
        detail: "recurrences.1",
      },
      {
        name: "run of an unknown task",
        method: "POST",
        path: "/api/runs",
        token: S,
        json: { ...runBody, tasks: ["gsm8k_cot_sean", "mmlu_pro"] },
        status: 400,
        detail: "tasks.1",
      },
      {
        name: "run of an unknown checkpoint",
        method: "POST",
        path: "/api/runs",
        token: S,
        json: { ...runBody, checkpoint: "nope" },
        status: 404,
        detail: "nope",
      },
      {
        name: "run with an unknown kv strategy",
        method: "POST",
        path: "/api/runs",
        token: S,
        json: { ...runBody, kv: "partial" },
        status: 400,
        detail: "kv",
      },
      {
        name: "run with shard_size 0",
        method: "POST",
        path: "/api/runs",
        token: S,
        json: { ...runBody, shard_size: 0 },
        status: 400,
        detail: "shard_size",
      },
      {
        name: "run in another dtype",
        method: "POST",
        path: "/api/runs",
        token: S,
        json: { ...runBody, dtype: "fp16" },
        status: 400,
        detail: "dtype",
      },
      {
        name: "run whose dataset lacks a file",
        method: "POST",
        path: "/api/runs",
        token: S,
        json: { ...runBody, tasks: ["gsm8k"] },
        status: 409,
        detail: "train.jsonl",
      },
      {
        name: "run by a runner",
        method: "POST",
        path: "/api/runs",
        token: R,
        json: runBody,
        status: 403,
      },
      {
        name: "run without a token",
        method: "POST",
        path: "/api/runs",
        json: runBody,
        status: 401,
      },
      {
        name: "run body over 1 MiB",
        method: "POST",
        path: "/api/runs",
        token: S,
        json: { ...runBody, note: huge },
        status: 413,
      },
      { name: "unknown run", method: "GET", path: "/api/runs/run_nope", token: S, status: 404 },
      {
        name: "unpublished run without a token",
        method: "GET",
        path: `/api/runs/${run.id}`,
        status: 404,
      },
      {
        name: "cancel unknown run",
        method: "POST",
        path: "/api/runs/run_nope/cancel",
        token: S,
        status: 404,
      },
      {
        name: "publish an active run",
        method: "POST",
        path: `/api/runs/${run.id}/publish`,
        token: S,
        status: 409,
        detail: "active",
      },
      {
        name: "cancel by a runner",
        method: "POST",
        path: `/api/runs/${run.id}/cancel`,
        token: R,
        status: 403,
      },
      {
        name: "samples limit 0",
        method: "GET",
        path: `/api/runs/${run.id}/samples?limit=0`,
        token: S,
        status: 400,
        detail: "limit",
      },
      {
        name: "samples with a forged cursor",
        method: "GET",
        path: `/api/runs/${run.id}/samples?cursor=abc`,
        token: S,
        status: 400,
        detail: "cursor",
      },
      {
        name: "export of an r the run lacks",
        method: "GET",
        path: `/api/runs/${run.id}/export?r=7`,
        token: S,
        status: 400,
        detail: "r",
      },
      {
        name: "lease without capabilities",
        method: "POST",
        path: "/api/leases",
        token: R,
        json: { runner_version: "x" },
        status: 400,
        detail: "capabilities",
      },
      {
        name: "lease for an unknown backend",
        method: "POST",
        path: "/api/leases",
        token: R,
        json: {
          ...CAPABILITIES,
          capabilities: { ...CAPABILITIES.capabilities, backends: ["cuda"] },
        },
        status: 400,
        detail: "capabilities.backends.0",
      },
      {
        name: "lease as text/plain",
        method: "POST",
        path: "/api/leases",
        token: R,
        body: JSON.stringify(CAPABILITIES),
        headers: { "content-type": "text/plain" },
        status: 415,
      },
      {
        name: "lease by a submitter",
        method: "POST",
        path: "/api/leases",
        token: S,
        json: CAPABILITIES,
        status: 403,
      },
      {
        name: "no results",
        method: "POST",
        path: results,
        token: R,
        json: { results: [] },
        status: 400,
        detail: "results",
      },
      {
        name: "result for a doc outside the shard",
        method: "POST",
        path: results,
        token: R,
        json: { results: [{ ...good, doc_id: "gsm8k/999" }] },
        status: 400,
        detail: "results.0.doc_id",
      },
      {
        name: "result for another r",
        method: "POST",
        path: results,
        token: R,
        json: { results: [{ ...good, recurrences: 8 }] },
        status: 400,
        detail: "results.0.recurrences",
      },
      {
        name: "negative token count",
        method: "POST",
        path: results,
        token: R,
        json: { results: [good, { ...good, prompt_tokens: -1 }] },
        status: 400,
        detail: "results.1.prompt_tokens",
      },
      {
        name: "result without timings",
        method: "POST",
        path: results,
        token: R,
        json: { results: [{ ...good, timings: undefined }] },
        status: 400,
        detail: "results.0.timings",
      },
      {
        name: "generated tokens beyond max_new_tokens (inflated FLOPs)",
        method: "POST",
        path: results,
        token: R,
        json: { results: [{ ...good, generated_tokens: 1e12 }] },
        status: 400,
        detail: "results.0.generated_tokens",
      },
      {
        name: "more prompt tokens than the prompt has bytes",
        method: "POST",
        path: results,
        token: R,
        json: { results: [good, { ...good, prompt_tokens: 100_000 }] },
        status: 400,
        detail: "results.1.prompt_tokens",
      },
      {
        name: "an implausible timing",
        method: "POST",
        path: results,
        token: R,
        json: { results: [{ ...good, timings: { ms: 1e15 } }] },
        status: 400,
        detail: "results.0.timings",
      },
      {
        name: "results for a shard another runner holds",
        method: "POST",
        path: results,
        token: world.runner2,
        json: { results: [good] },
        status: 409,
      },
      {
        name: "results for an unknown lease",
        method: "POST",
        path: "/api/leases/lease_nope/results",
        token: R,
        json: { results: [good] },
        status: 404,
      },
      {
        name: "results by a submitter",
        method: "POST",
        path: results,
        token: S,
        json: { results: [good] },
        status: 403,
      },
      {
        name: "results over 8 MiB",
        method: "POST",
        path: results,
        token: R,
        json: { results: [{ ...good, completion: "y".repeat(9 * 2 ** 20) }] },
        status: 413,
      },
      {
        name: "failure without a reason",
        method: "POST",
        path: `/api/leases/${held.lease_id}/fail`,
        token: R,
        json: { reason: "" },
        status: 400,
        detail: "reason",
      },
      { name: "unknown route", method: "GET", path: "/api/nope", status: 404 },
    ];
    expect(cases.length).toBeGreaterThanOrEqual(40);

    const before = await snapshot();
    for (const c of cases) {
      const res = await call(c.method, c.path, {
        token: c.token,
        json: c.json,
        body: c.body,
        headers: c.headers,
      });
      const body = (await res.json()) as { error: string; detail: string };
      expect({ case: c.name, status: res.status }).toEqual({ case: c.name, status: c.status });
      expect(typeof body.error, c.name).toBe("string");
      expect(body.detail, c.name).toContain(c.detail ?? "");
    }
    expect(await snapshot()).toBe(before);
  });
});
