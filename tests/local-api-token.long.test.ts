// `npm run api` keeps the admin token off every command line: no process on the machine shows it
// in its arguments (what `ps` prints), the env file that carries it is the user's alone, and the
// API still honours it.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type LocalApi, startLocalApi, unusedPort } from "../worker/dev.ts";

const persistTo = mkdtempSync(join(tmpdir(), "evals-api-token-"));
let api: LocalApi | undefined;
afterAll(async () => {
  await api?.stop();
  rmSync(persistTo, { recursive: true, force: true });
});

// Every process's arguments as `ps -eo args` reads them (/proc/<pid>/cmdline).
function allCommandLines(): string[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((pid) => {
      try {
        return [readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ")];
      } catch {
        return []; // exited while we looked
      }
    });
}

describe("npm run api and the admin token", () => {
  it("no command line holds the token; the API accepts it", async () => {
    api = await startLocalApi({ port: await unusedPort(), persistTo, quiet: true });
    const lines = allCommandLines();
    expect(lines.some((line) => line.includes("wrangler") && line.includes(" dev "))).toBe(true);
    expect(lines.filter((line) => line.includes(api!.adminToken))).toEqual([]);

    const envFile = join(persistTo, "evals-admin.env");
    expect(statSync(envFile).mode & 0o777).toBe(0o600);

    const tokens = await fetch(`${api.url}/api/tokens`, {
      headers: { authorization: `Bearer ${api.adminToken}` },
    });
    expect(tokens.status).toBe(200);
    const wrong = await fetch(`${api.url}/api/tokens`, {
      headers: { authorization: "Bearer evt_admin_wrong" },
    });
    expect(wrong.status).toBe(401);
  }, 240_000);
});
