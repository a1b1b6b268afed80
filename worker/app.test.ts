// Tokens, the role rules and the OpenAPI document, through app.request in workerd.
import { describe, expect, it } from "vitest";
import { ADMIN, call, expectJson, makeToken } from "./testing/api.ts";

describe("tokens", () => {
  it("stores only a hash, lists tokens and stops honouring a revoked one", async () => {
    const created = await expectJson(201, "POST", "/api/tokens", {
      token: ADMIN,
      json: { role: "submit", name: "ci", trusted: false },
    });
    expect(created.token).toMatch(/^evt_/);
    expect((await call("GET", "/api/checkpoints", { token: created.token })).status).toBe(200);
    const list = await expectJson(200, "GET", "/api/tokens", { token: ADMIN });
    expect(JSON.stringify(list)).not.toContain(created.token);
    await expectJson(200, "DELETE", `/api/tokens/${created.id}`, { token: ADMIN });
    const after = await call("GET", "/api/checkpoints", { token: created.token });
    expect(after.status).toBe(401);
  });

  it("lets an admin token act as submit, but a runner token only lease", async () => {
    const runner = await makeToken("runner");
    expect((await call("GET", "/api/checkpoints", { token: ADMIN })).status).toBe(200);
    expect((await call("GET", "/api/checkpoints", { token: runner })).status).toBe(403);
    expect((await call("GET", "/api/runs", { token: runner })).status).toBe(200);
  });
});

describe("OpenAPI document", () => {
  it("documents every route with its error responses", async () => {
    const doc = await expectJson(200, "GET", "/api/openapi.json");
    const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(routes).toEqual(
      expect.arrayContaining([
        "POST /api/tokens",
        "PUT /api/blobs/{sha256}",
        "PUT /api/uploads/{id}/parts/{part}",
        "POST /api/checkpoints",
        "POST /api/datasets",
        "POST /api/runs",
        "GET /api/runs/{id}/samples",
        "GET /api/runs/{id}/export",
        "GET /api/runs/{id}/export/samples",
        "GET /api/runs/{id}/samples/download",
        "GET /api/runs/{id}/search",
        "POST /api/leases",
        "POST /api/leases/{id}/results",
        "POST /api/leases/{id}/fail",
        "GET /api/leaderboard",
      ]),
    );
    expect(routes.length).toBeGreaterThanOrEqual(28);
    expect(doc.paths["/api/leases/{id}/results"].post.responses).toHaveProperty("409");
    expect(doc.components.schemas).toHaveProperty("Lease");
  });
});
