import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import app from "../index.ts";

describe("tokens", () => {
  it("creates a token with the admin secret", async () => {
    const res = await app.request(
      "/api/tokens",
      {
        method: "POST",
        headers: { authorization: "Bearer test-admin-token", "content-type": "application/json" },
        body: JSON.stringify({ role: "runner", name: "r1" }),
      },
      env,
    );
    expect(res.status).toBe(201);
  });
});
