// Test helpers: call the app in-process against the real bindings of the test's workerd.
import { env } from "cloudflare:test";
import app from "../index.ts";
import type { TokenCreated } from "../protocol.ts";

export const ADMIN = "test-admin-token";

export interface CallOptions {
  token?: string | null;
  json?: unknown;
  body?: BodyInit;
  headers?: Record<string, string>;
}

/** `call("POST", "/api/runs", { token, json })` → Response. */
export function call(method: string, path: string, options: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body = options.body;
  if (options.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(options.json);
  }
  // As an HTTP client would; in-process requests carry no Content-Length by themselves.
  const length =
    typeof body === "string"
      ? new TextEncoder().encode(body).length
      : body instanceof Uint8Array
        ? body.length
        : null;
  if (length !== null && !Object.keys(headers).some((h) => h.toLowerCase() === "content-length")) {
    headers["content-length"] = String(length);
  }
  return Promise.resolve(app.request(path, { method, headers, body }, env));
}

/** Like `call`, but fails the test unless the status is `status`; returns the parsed body. */
// biome-ignore lint/suspicious/noExplicitAny: tests read fields and assert on them.
export async function expectJson<T = any>(
  status: number,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<T> {
  const res = await call(method, path, options);
  const text = await res.text();
  if (res.status !== status) {
    throw new Error(`${method} ${path}: expected ${status}, got ${res.status}: ${text}`);
  }
  return text ? JSON.parse(text) : (null as T);
}

export async function makeToken(
  role: "admin" | "submit" | "runner",
  name: string = role,
  trusted = false,
): Promise<string> {
  const created = await expectJson<TokenCreated>(201, "POST", "/api/tokens", {
    token: ADMIN,
    json: { role, name, trusted },
  });
  return created.token;
}

export async function sha256Hex(bytes: Uint8Array<ArrayBuffer> | string): Promise<string> {
  const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  const digest = await crypto.subtle.digest("SHA-256", data);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export async function uploadBlob(
  token: string,
  content: Uint8Array<ArrayBuffer> | string,
): Promise<string> {
  const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
  const sha = await sha256Hex(bytes);
  const res = await call("PUT", `/api/blobs/${sha}`, {
    token,
    body: bytes,
    headers: { "content-length": String(bytes.length), "content-type": "application/octet-stream" },
  });
  if (res.status !== 201 && res.status !== 200)
    throw new Error(`upload: ${res.status} ${await res.text()}`);
  return sha;
}
