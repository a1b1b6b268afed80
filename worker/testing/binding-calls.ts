// Counts the calls one request makes to its D1 and R2 bindings. Cloudflare caps them per Worker
// invocation (D1: 50 queries on the Free plan, 1,000 on Paid; R2 and other bindings count towards
// the same subrequest budget), so a request whose count grows with its input eventually fails.
import { env } from "cloudflare:test";
import app from "../index.ts";

/** One call that reached a binding: `D1 all SELECT …`, `D1 batch (3)`, `R2 get`. */
export type BindingCall = string;

/** An env whose DB and BLOBS record every call into `calls`, forwarding it to the real binding. */
export function countingEnv(calls: BindingCall[]): Cloudflare.Env {
  return { ...env, DB: countingD1(env.DB, calls), BLOBS: countingR2(env.BLOBS, calls) };
}

function countingD1(db: D1Database, calls: BindingCall[]): D1Database {
  // D1's batch takes its own statement objects, so wrapped ones are unwrapped on the way in.
  const real = new WeakMap<object, D1PreparedStatement>();
  const wrap = (statement: D1PreparedStatement, sql: string): D1PreparedStatement => {
    const wrapped = new Proxy(statement, {
      get(target, property) {
        const value = Reflect.get(target, property, target);
        if (typeof value !== "function") return value;
        if (property === "bind") {
          return (...params: unknown[]) => wrap(target.bind(...params), sql);
        }
        return (...args: unknown[]) => {
          calls.push(`D1 ${String(property)} ${sql.replace(/\s+/g, " ").slice(0, 60)}`);
          return value.apply(target, args);
        };
      },
    });
    real.set(wrapped, statement);
    return wrapped;
  };
  return new Proxy(db, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (property === "prepare") return (sql: string) => wrap(target.prepare(sql), sql);
      if (property === "batch") {
        return (statements: D1PreparedStatement[]) => {
          calls.push(`D1 batch (${statements.length})`);
          return target.batch(statements.map((s) => real.get(s) ?? s));
        };
      }
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls.push(`D1 ${String(property)}`);
        return value.apply(target, args);
      };
    },
  });
}

function countingR2(bucket: R2Bucket, calls: BindingCall[]): R2Bucket {
  return new Proxy(bucket, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls.push(`R2 ${String(property)}`);
        return value.apply(target, args);
      };
    },
  });
}

/** `call` from api.ts, against `countingEnv(calls)`. */
export function countedCall(
  calls: BindingCall[],
  method: string,
  path: string,
  token: string,
  json?: unknown,
): Promise<Response> {
  const body = json === undefined ? undefined : JSON.stringify(json);
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) {
    headers["content-type"] = "application/json";
    headers["content-length"] = String(new TextEncoder().encode(body).length);
  }
  return Promise.resolve(app.request(path, { method, headers, body }, countingEnv(calls)));
}
