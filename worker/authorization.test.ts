// DESIGN §8 as a table: every endpoint × every kind of caller → the status it must get. A route
// the OpenAPI document lists without a row here fails the test, so new endpoints get a row.
// Callers: no token, a token nobody issued, a revoked one, a runner (the lease holder), the
// submitter owning the run and upload, another submitter, and the admin.
import { describe, expect, it } from "vitest";
import { MIN_PART_BYTES, type TokenCreated } from "./protocol.ts";
import { ADMIN, call, expectJson, makeToken, sha256Hex, uploadBlob } from "./testing/api.ts";
import { checkpointFixture } from "./testing/checkpoint-fixture.ts";
import { completions, createRun, lease, setupWorld } from "./testing/world.ts";

const WHO = ["none", "bad", "revoked", "runner", "owner", "other", "admin"] as const;
type Who = (typeof WHO)[number];

/** What one column's calls act on: a fresh world each, so one caller's changes never leak. */
async function fixture() {
  const world = await setupWorld();
  const other = await makeToken("submit", "other submitter");
  const doomed = await expectJson<TokenCreated>(201, "POST", "/api/tokens", {
    token: ADMIN,
    json: { role: "submit", name: "revoked submitter" },
  });
  await expectJson(200, "DELETE", `/api/tokens/${doomed.id}`, { token: ADMIN });
  const victim = await expectJson<TokenCreated>(201, "POST", "/api/tokens", {
    token: ADMIN,
    json: { role: "submit", name: "to revoke" },
  });
  const run = await createRun(world, { limit: 3, shard_size: 1, recurrences: [1] });
  const [l1, l2, l3] = [
    await lease(world.runner),
    await lease(world.runner),
    await lease(world.runner),
  ];
  const part = new Uint8Array(MIN_PART_BYTES).fill(7);
  const whole = new Uint8Array(MIN_PART_BYTES + 10).fill(7);
  const upload = await expectJson(201, "POST", "/api/uploads", {
    token: world.submit,
    json: { sha256: await sha256Hex(whole), bytes: whole.length, part_size: MIN_PART_BYTES },
  });
  const datasets = await expectJson(200, "GET", "/api/datasets", { token: world.submit });
  const gsm8k = datasets.datasets[0];
  const blobBytes = new TextEncoder().encode("a blob for the authorization matrix");
  const tokens: Record<Who, string | null> = {
    none: null,
    bad: "not-a-token-anyone-issued",
    revoked: doomed.token,
    runner: world.runner,
    owner: world.submit,
    other,
    admin: ADMIN,
  };
  return {
    world,
    tokens,
    run: run.id,
    leases: [l1!, l2!, l3!],
    victim: victim.id,
    upload: upload.id as string,
    part,
    gsm8k,
    blob: await uploadBlob(world.submit, "a blob every token may read"),
    newBlob: { sha: await sha256Hex(blobBytes), bytes: blobBytes },
    manifest: (await checkpointFixture()).manifest,
  };
}
type Fixture = Awaited<ReturnType<typeof fixture>>;

interface Row {
  method: string;
  /** As the OpenAPI document spells it. */
  path: string;
  url: (f: Fixture) => string;
  body?: (f: Fixture) => unknown;
  bytes?: (f: Fixture) => Uint8Array<ArrayBuffer>;
  /** Status per caller; a list where the outcome past authorization depends on order. */
  expect: Record<Who, number | number[]>;
}

const denied = { none: 401, bad: 401, revoked: 401 } as const;
const adminOnly = { ...denied, runner: 403, owner: 403, other: 403 } as const;
const submitOnly = { ...denied, runner: 403 } as const;
const publicRead = {
  none: 200,
  bad: 401,
  revoked: 401,
  runner: 200,
  owner: 200,
  other: 200,
  admin: 200,
};
/** An unpublished run's reads: its owner and admins; to everyone else it does not exist. */
const ownRunRead = { ...denied, none: 404, runner: 404, owner: 200, other: 404, admin: 200 };
const runnerOnly = { ...denied, owner: 403, other: 403 } as const;
/** A held lease: only its holder acts on it; even an admin holds no lease of a runner's (409). */
const holderOnly = { ...runnerOnly, runner: 200, admin: 409 } as const;

// Rows run top to bottom in each column; changes come after the reads that need their state.
const ROWS: Row[] = [
  { method: "GET", path: "/api/tasks", url: () => "/api/tasks", expect: publicRead },
  { method: "GET", path: "/api/leaderboard", url: () => "/api/leaderboard", expect: publicRead },
  {
    method: "GET",
    path: "/api/leaderboard/checkpoints",
    url: () => "/api/leaderboard/checkpoints",
    expect: publicRead,
  },
  {
    method: "GET",
    path: "/api/tokens",
    url: () => "/api/tokens",
    expect: { ...adminOnly, admin: 200 },
  },
  {
    method: "POST",
    path: "/api/tokens",
    url: () => "/api/tokens",
    body: () => ({ role: "runner", name: "made in the matrix" }),
    expect: { ...adminOnly, admin: 201 },
  },
  {
    method: "DELETE",
    path: "/api/tokens/{id}",
    url: (f) => `/api/tokens/${f.victim}`,
    expect: { ...adminOnly, admin: 200 },
  },
  {
    method: "PUT",
    path: "/api/blobs/{sha256}",
    url: (f) => `/api/blobs/${f.newBlob.sha}`,
    bytes: (f) => f.newBlob.bytes,
    expect: { ...submitOnly, owner: 201, other: 201, admin: 201 },
  },
  {
    method: "GET",
    path: "/api/blobs/{sha256}",
    url: (f) => `/api/blobs/${f.blob}`,
    expect: { ...denied, runner: 200, owner: 200, other: 200, admin: 200 },
  },
  {
    method: "POST",
    path: "/api/uploads",
    url: () => "/api/uploads",
    body: () => ({ sha256: "ab".repeat(32), bytes: MIN_PART_BYTES + 1, part_size: MIN_PART_BYTES }),
    expect: { ...submitOnly, owner: 201, other: 201, admin: 201 },
  },
  {
    method: "GET",
    path: "/api/uploads/{id}",
    url: (f) => `/api/uploads/${f.upload}`,
    expect: { ...submitOnly, owner: 200, other: 404, admin: 200 },
  },
  {
    method: "PUT",
    path: "/api/uploads/{id}/parts/{part}",
    url: (f) => `/api/uploads/${f.upload}/parts/1`,
    bytes: (f) => f.part,
    expect: { ...submitOnly, owner: 200, other: 404, admin: 200 },
  },
  {
    // Part 2 never came: past authorization the upload is incomplete (409).
    method: "POST",
    path: "/api/uploads/{id}/complete",
    url: (f) => `/api/uploads/${f.upload}/complete`,
    expect: { ...submitOnly, owner: 409, other: 404, admin: 409 },
  },
  {
    method: "DELETE",
    path: "/api/uploads/{id}",
    url: (f) => `/api/uploads/${f.upload}`,
    expect: { ...submitOnly, owner: 200, other: 404, admin: 200 },
  },
  {
    method: "POST",
    path: "/api/checkpoints",
    url: () => "/api/checkpoints",
    body: (f) => ({ manifest: f.manifest }),
    expect: { ...submitOnly, owner: [200, 201], other: [200, 201], admin: [200, 201] },
  },
  {
    method: "GET",
    path: "/api/checkpoints",
    url: () => "/api/checkpoints",
    expect: { ...submitOnly, owner: 200, other: 200, admin: 200 },
  },
  {
    method: "GET",
    path: "/api/checkpoints/{id}",
    url: (f) => `/api/checkpoints/${f.world.checkpoint}`,
    expect: { ...denied, runner: 200, owner: 200, other: 200, admin: 200 },
  },
  {
    method: "GET",
    path: "/api/datasets",
    url: () => "/api/datasets",
    expect: { ...submitOnly, owner: 200, other: 200, admin: 200 },
  },
  {
    // The same files again: already registered (200), canonical unchanged.
    method: "POST",
    path: "/api/datasets",
    url: () => "/api/datasets",
    body: (f) => ({ name: "gsm8k", files: f.gsm8k.files }),
    expect: { ...submitOnly, owner: 200, other: 200, admin: 200 },
  },
  {
    method: "PUT",
    path: "/api/datasets/{name}/canonical",
    url: () => "/api/datasets/gsm8k/canonical",
    body: (f) => ({ dataset: f.gsm8k.id }),
    expect: { ...adminOnly, admin: 200 },
  },
  {
    method: "GET",
    path: "/api/runs",
    url: () => "/api/runs",
    expect: publicRead,
  },
  { method: "GET", path: "/api/runs/{id}", url: (f) => `/api/runs/${f.run}`, expect: ownRunRead },
  {
    method: "GET",
    path: "/api/runs/{id}/samples",
    url: (f) => `/api/runs/${f.run}/samples`,
    expect: ownRunRead,
  },
  {
    method: "GET",
    path: "/api/runs/{id}/export",
    url: (f) => `/api/runs/${f.run}/export`,
    expect: ownRunRead,
  },
  {
    method: "GET",
    path: "/api/runs/{id}/docs/{task}/{doc_index}",
    url: (f) => `/api/runs/${f.run}/docs/gsm8k_cot_sean/0`,
    expect: ownRunRead,
  },
  {
    method: "GET",
    path: "/api/runs/{id}/outcomes",
    url: (f) => `/api/runs/${f.run}/outcomes`,
    expect: ownRunRead,
  },
  {
    method: "GET",
    path: "/api/runs/{id}/precision-cost",
    url: (f) => `/api/runs/${f.run}/precision-cost`,
    expect: ownRunRead,
  },
  {
    method: "GET",
    path: "/api/runs/{id}/search",
    url: (f) => `/api/runs/${f.run}/search?task=gsm8k_cot_sean&q=eggs`,
    expect: ownRunRead,
  },
  {
    method: "GET",
    path: "/api/runs/{id}/export/samples",
    url: (f) => `/api/runs/${f.run}/export/samples?task=gsm8k_cot_sean`,
    expect: ownRunRead,
  },
  {
    method: "GET",
    path: "/api/runs/{id}/samples/download",
    url: (f) => `/api/runs/${f.run}/samples/download?format=csv`,
    expect: ownRunRead,
  },
  {
    method: "POST",
    path: "/api/leases",
    url: () => "/api/leases",
    body: () => ({
      capabilities: { backends: ["wasm"], max_parameters: 10_000_000, max_buffer_bytes: 2 ** 30 },
      runner_version: "test-runner/1",
    }),
    expect: { ...runnerOnly, runner: [200, 204], admin: [200, 204] },
  },
  {
    method: "POST",
    path: "/api/leases/{id}/heartbeat",
    url: (f) => `/api/leases/${f.leases[0].lease_id}/heartbeat`,
    expect: holderOnly,
  },
  {
    method: "POST",
    path: "/api/leases/{id}/results",
    url: (f) => `/api/leases/${f.leases[0].lease_id}/results`,
    body: (f) => ({ results: completions(f.leases[0], () => "18") }),
    expect: holderOnly,
  },
  {
    method: "POST",
    path: "/api/leases/{id}/fail",
    url: (f) => `/api/leases/${f.leases[1].lease_id}/fail`,
    body: () => ({ reason: "the matrix says so" }),
    expect: holderOnly,
  },
  {
    method: "POST",
    path: "/api/leases/{id}/release",
    url: (f) => `/api/leases/${f.leases[2].lease_id}/release`,
    expect: holderOnly,
  },
  {
    method: "POST",
    path: "/api/runs",
    url: () => "/api/runs",
    body: (f) => ({
      checkpoint: f.world.checkpoint,
      tasks: ["gsm8k_cot_sean"],
      recurrences: [1],
      limit: 1,
    }),
    expect: { ...submitOnly, owner: 201, other: 201, admin: 201 },
  },
  {
    method: "POST",
    path: "/api/runs/{id}/retry",
    url: (f) => `/api/runs/${f.run}/retry`,
    expect: { ...submitOnly, owner: [200, 409], other: 404, admin: [200, 409] },
  },
  {
    // Still active: past authorization publishing is refused as a conflict.
    method: "POST",
    path: "/api/runs/{id}/publish",
    url: (f) => `/api/runs/${f.run}/publish`,
    expect: { ...submitOnly, owner: 409, other: 404, admin: 409 },
  },
  {
    method: "POST",
    path: "/api/runs/{id}/cancel",
    url: (f) => `/api/runs/${f.run}/cancel`,
    expect: { ...submitOnly, owner: 200, other: 404, admin: 200 },
  },
];

describe("authorization matrix", () => {
  it("has a row for every documented endpoint", async () => {
    const doc = await expectJson(200, "GET", "/api/openapi.json");
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`))
      .filter((route) => !route.startsWith("HEAD "))
      .sort();
    expect(ROWS.map((row) => `${row.method} ${row.path}`).sort()).toEqual(documented);
  });

  for (const who of WHO) {
    it(`answers ${who} as DESIGN §8 says on every endpoint`, async () => {
      const f = await fixture();
      const got: string[] = [];
      const want: string[] = [];
      for (const row of ROWS) {
        const bytes = row.bytes?.(f);
        const res = await call(row.method, row.url(f), {
          token: f.tokens[who],
          json: row.body?.(f),
          body: bytes,
          headers: bytes ? { "content-type": "application/octet-stream" } : undefined,
        });
        await res.arrayBuffer();
        const expected = [row.expect[who]].flat();
        const label = `${row.method} ${row.path}`;
        got.push(`${label} → ${expected.includes(res.status) ? expected.join("|") : res.status}`);
        want.push(`${label} → ${expected.join("|")}`);
      }
      expect(got).toEqual(want);
    });
  }
});
