// Admin: create, list and revoke bearer tokens (stored hashed).
import { createRoute, z } from "@hono/zod-openapi";
import { clearPrincipalCache, requireRole } from "../auth/middleware.ts";
import { generateToken, hashToken } from "../auth/token-hash.ts";
import { notFound } from "../http-error.ts";
import {
  type Role,
  TokenCreatedSchema,
  TokenCreateSchema,
  type TokenInfo,
  TokenInfoSchema,
  TokenListSchema,
} from "../protocol.ts";
import { bearerSecurity, createRouter, errorResponses, jsonContent } from "../router.ts";

const create = createRoute({
  method: "post",
  path: "/tokens",
  summary: "Create a token (admin); the token is shown once",
  security: bearerSecurity,
  request: { body: { content: jsonContent(TokenCreateSchema) } },
  responses: {
    201: {
      description: "created",
      content: jsonContent(TokenCreatedSchema),
    },
    ...errorResponses(400, 401, 403, 413),
  },
});

const list = createRoute({
  method: "get",
  path: "/tokens",
  summary: "List tokens (admin)",
  security: bearerSecurity,
  responses: {
    200: { description: "tokens", content: jsonContent(TokenListSchema) },
    ...errorResponses(401, 403),
  },
});

const revoke = createRoute({
  method: "delete",
  path: "/tokens/{id}",
  summary: "Revoke a token (admin)",
  security: bearerSecurity,
  request: { params: z.object({ id: z.string().max(200) }) },
  responses: {
    200: { description: "revoked", content: jsonContent(TokenInfoSchema) },
    ...errorResponses(401, 403, 404),
  },
});

interface TokenRow {
  id: string;
  role: Role;
  name: string;
  trusted: number;
  created_at: string;
  revoked_at: string | null;
}

const toInfo = (row: TokenRow): TokenInfo => ({ ...row, trusted: row.trusted === 1 });

export const tokenRoutes = createRouter()
  .openapi(create, async function createToken(c) {
    requireRole(c, "admin");
    const body = c.req.valid("json");
    const token = generateToken();
    const row: TokenRow = {
      id: `tok_${crypto.randomUUID()}`,
      role: body.role,
      name: body.name,
      trusted: body.trusted ? 1 : 0,
      created_at: new Date().toISOString(),
      revoked_at: null,
    };
    await c.env.DB.prepare(
      "INSERT INTO tokens (id, token_hash, role, trusted, name, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    )
      .bind(row.id, await hashToken(token), row.role, row.trusted, row.name, row.created_at)
      .run();
    return c.json({ ...toInfo(row), token }, 201);
  })
  .openapi(list, async function listTokens(c) {
    requireRole(c, "admin");
    const { results } = await c.env.DB.prepare(
      "SELECT id, role, name, trusted, created_at, revoked_at FROM tokens ORDER BY created_at",
    ).all<TokenRow>();
    return c.json({ tokens: results.map(toInfo) }, 200);
  })
  .openapi(revoke, async function revokeToken(c) {
    requireRole(c, "admin");
    const { id } = c.req.valid("param");
    const row = await c.env.DB.prepare(
      "UPDATE tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? RETURNING id, role, name, trusted, created_at, revoked_at",
    )
      .bind(new Date().toISOString(), id)
      .first<TokenRow>();
    if (!row) throw notFound("token", id);
    clearPrincipalCache();
    return c.json(toInfo(row), 200);
  });
