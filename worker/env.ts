// Bindings and variables of the coordinator worker (wrangler.toml), and what middleware adds.
/// <reference types="@cloudflare/workers-types/experimental" />
import type { Principal } from "./auth/principal.ts";

export interface Env {
  DB: D1Database;
  BLOBS: R2Bucket;
  /** First admin token (a secret; locally from .dev.vars or the dev script). */
  EVALS_ADMIN_TOKEN?: string;
  LEASE_SECONDS?: string;
  MAX_SHARD_FAILURES?: string;
  MAX_LEASE_EXPIRIES?: string;
  /** Commit the deployed worker was built from, for exports' `git_hash` (a wrangler var). */
  EVALS_GIT_HASH?: string;
}

export interface AppEnv {
  Bindings: Env;
  Variables: { principal: Principal | null };
}

export function leaseMillis(env: Env): number {
  return Number(env.LEASE_SECONDS ?? "300") * 1000;
}

export function maxShardFailures(env: Env): number {
  return Number(env.MAX_SHARD_FAILURES ?? "3");
}

/** Leases that may run out (runner vanished) before a shard is given up; apart from failures. */
export function maxLeaseExpiries(env: Env): number {
  return Number(env.MAX_LEASE_EXPIRIES ?? "10");
}
