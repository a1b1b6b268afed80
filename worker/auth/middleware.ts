// Resolves `Authorization: Bearer <token>` to a Principal; routes then demand roles.
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv, Env } from "../env.ts";
import { HttpError } from "../http-error.ts";
import type { Role } from "../protocol.ts";
import { hasRole, type Principal } from "./principal.ts";
import { hashToken } from "./token-hash.ts";

/** Token rows change rarely; a short per-isolate cache keeps hot paths (leases) to fewer queries. */
const CACHE_MS = 5_000;
const cache = new Map<string, { principal: Principal | null; until: number }>();

export function authenticate(): MiddlewareHandler<AppEnv> {
  return async function authenticateBearer(c, next) {
    const header = c.req.header("authorization");
    if (!header) {
      c.set("principal", null);
      return next();
    }
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new HttpError(401, "unauthorized", "Authorization must be 'Bearer <token>'");
    const principal = await principalFor(c.env, match[1]);
    if (!principal) throw new HttpError(401, "unauthorized", "unknown or revoked token");
    c.set("principal", principal);
    return next();
  };
}

async function principalFor(env: Env, token: string): Promise<Principal | null> {
  const hash = await hashToken(token);
  if (env.EVALS_ADMIN_TOKEN && hash === (await hashToken(env.EVALS_ADMIN_TOKEN))) {
    return { tokenId: "admin:env", role: "admin", trusted: true };
  }
  const cached = cache.get(hash);
  if (cached && cached.until > Date.now()) return cached.principal;
  const row = await env.DB.prepare(
    "SELECT id, role, trusted FROM tokens WHERE token_hash = ? AND revoked_at IS NULL",
  )
    .bind(hash)
    .first<{ id: string; role: Role; trusted: number }>();
  const principal = row ? { tokenId: row.id, role: row.role, trusted: row.trusted === 1 } : null;
  cache.set(hash, { principal, until: Date.now() + CACHE_MS });
  return principal;
}

/** Forget cached principals (after a revocation in this isolate). */
export function clearPrincipalCache(): void {
  cache.clear();
}

/** The caller, who must hold one of `roles` (admin always passes): 401 without a token, else 403. */
export function requireRole(c: Context<AppEnv>, ...roles: Role[]): Principal {
  const principal = c.get("principal");
  if (!principal) throw new HttpError(401, "unauthorized", "this endpoint needs a bearer token");
  if (!hasRole(principal, roles)) {
    throw new HttpError(
      403,
      "forbidden",
      `this endpoint needs a ${roles.join(" or ")} token; yours is ${principal.role}`,
    );
  }
  return principal;
}
