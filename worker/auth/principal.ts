// Who is calling: resolved from the bearer token by the auth middleware.
import type { Role } from "../protocol.ts";

export interface Principal {
  /** Token id (`admin:env` for the bootstrap admin token from the secret). */
  tokenId: string;
  role: Role;
  trusted: boolean;
}

/** admin may do everything; submit and runner only their own verbs (DESIGN §8). */
export function hasRole(principal: Principal, allowed: readonly Role[]): boolean {
  return principal.role === "admin" || allowed.includes(principal.role);
}
