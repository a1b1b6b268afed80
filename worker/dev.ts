// `npm run api`: the coordinator on this machine under `wrangler dev`, offline, with D1 migrations
// applied first and state kept under .wrangler/ in the project. Prints the URL and an admin token.
//
//   npm run api                         # http://127.0.0.1:8787, state in .wrangler/state
//   npm run api -- --port 9000 --persist-to .wrangler/other
//
// The admin token comes from $EVALS_ADMIN_TOKEN, else .dev.vars (wrangler reads it), else one is
// generated once per state directory and kept in <persist-to>/evals-admin-token. wrangler gets it
// from an env file readable only by this user, never on its command line, where `ps` shows it.
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildDashboard } from "../dashboard/build.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const wrangler = join(root, "node_modules/.bin/wrangler");

export interface LocalApi {
  url: string;
  adminToken: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** DESIGN §9: no metrics, no network lookups, logs inside the project. */
function offlineEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_LOG_PATH: join(root, ".wrangler/logs"),
    CI: "1",
  };
}

/**
 * One admin token per state directory, kept beside that state, so two stacks with different
 * `--persist-to` never share or overwrite each other's token.
 */
function adminToken(persistTo: string): string {
  if (process.env.EVALS_ADMIN_TOKEN) return process.env.EVALS_ADMIN_TOKEN;
  const devVars = join(root, ".dev.vars");
  const fromVars = existsSync(devVars)
    ? /^EVALS_ADMIN_TOKEN\s*=\s*"?([^"\n]+)"?/m.exec(readFileSync(devVars, "utf8"))?.[1]
    : undefined;
  if (fromVars) return fromVars;
  const saved = join(persistTo, "evals-admin-token");
  if (existsSync(saved)) return readFileSync(saved, "utf8").trim();
  mkdirSync(dirname(saved), { recursive: true });
  const token = `evt_admin_${crypto.randomUUID().replaceAll("-", "")}`;
  writeFileSync(saved, `${token}\n`, { mode: 0o600 });
  return token;
}

/**
 * The env files `wrangler dev` reads its secrets from: the project's .dev.vars when there is one
 * (wrangler skips it once any env file is given), then <persist-to>/evals-admin.env with the token,
 * which wins. Written 0600 each start, so the token never appears in a process's arguments.
 */
function adminEnvFiles(persistTo: string, token: string): string[] {
  const file = join(persistTo, "evals-admin.env");
  mkdirSync(persistTo, { recursive: true });
  writeFileSync(file, `EVALS_ADMIN_TOKEN=${JSON.stringify(token)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  const devVars = join(root, ".dev.vars");
  return existsSync(devVars) ? [devVars, file] : [file];
}

function run(args: string[], quiet: boolean): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(wrangler, args, {
      cwd: root,
      env: offlineEnv(),
      stdio: quiet ? "pipe" : "inherit",
    });
    let output = "";
    child.stdout?.on("data", (chunk) => (output += chunk));
    child.stderr?.on("data", (chunk) => (output += chunk));
    child.on("exit", (code) =>
      code === 0
        ? done()
        : fail(new Error(`wrangler ${args.join(" ")} failed (${code}):\n${output}`)),
    );
  });
}

/** A port nobody listens on now (the OS picks it); the API's, its inspector's, a test's. */
export function unusedPort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

async function waitUntilReady(
  url: string,
  child: ChildProcess,
  stderrTail: () => string,
): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) {
      const said = stderrTail().trim();
      throw new Error(`wrangler dev exited with ${child.exitCode}${said ? `: ${said}` : ""}`);
    }
    try {
      if ((await fetch(`${url}/api/tasks`)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the API at ${url} did not answer within 60 s`);
}

/**
 * wrangler 4.86's dev proxy now and then accepts a request and passes it on only when another
 * request reaches it (30–60 s holds of pages, scripts and API calls; docs/design.md, the
 * dashboard's hedged reads). A cheap read every 2 s bounds such a hold for every client of a local API.
 */
export function keepProxyMoving(url: string): NodeJS.Timeout {
  const timer = setInterval(() => {
    fetch(`${url}/api/tasks`, { signal: AbortSignal.timeout(10_000) })
      .then((res) => res.body?.cancel())
      .catch(() => {});
  }, 2_000);
  timer.unref();
  return timer;
}

/** Calls `onLine` with each non-empty line of `stream` as it arrives. */
function forEachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let rest = "";
  stream.on("data", (chunk: Buffer) => {
    const lines = (rest + chunk.toString()).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) if (line.trim()) onLine(line);
  });
}

/** Applies the D1 migrations to the local state under `persistTo` (a wrangler start: seconds). */
export function applyMigrations(persistTo: string, quiet = true): Promise<void> {
  return run(["d1", "migrations", "apply", "evals", "--local", "--persist-to", persistTo], quiet);
}

/** Applies migrations, starts `wrangler dev`, resolves once the API answers. */
export async function startLocalApi(
  options: {
    port?: number;
    persistTo?: string;
    quiet?: boolean;
    /** Extra worker vars, e.g. `{ LEASE_SECONDS: "5" }` for tests of lease expiry. */
    vars?: Record<string, string>;
    /**
     * The state already holds every migration (an API restart, or a copy of a migrated state):
     * skip applying them.
     */
    migrated?: boolean;
    /** A worker entry to run in place of wrangler.toml's `main` (a probing wrapper in a bench). */
    entry?: string;
    /** wrangler's log level; default `error` when quiet, else `info`. */
    logLevel?: string;
    /** Every line wrangler writes, stdout and stderr, instead of this process's terminal. */
    onOutput?: (line: string) => void;
    /** Send the read that keeps wrangler's dev proxy moving (`keepProxyMoving`); default true. */
    heartbeat?: boolean;
  } = {},
): Promise<LocalApi> {
  const port = options.port ?? 8787;
  const persistTo = resolve(root, options.persistTo ?? ".wrangler/state");
  const quiet = options.quiet ?? false;
  // The worker serves the dashboard from its assets (wrangler.toml); build the page scripts first.
  await buildDashboard();
  if (!options.migrated) await applyMigrations(persistTo, quiet);
  const token = adminToken(persistTo);
  const envFiles = adminEnvFiles(persistTo, token);
  // wrangler's devtools port defaults to 9229 when free: two APIs starting at once (tests run two
  // files at a time) can both take it, and one exits. An unused port of our own avoids that.
  const inspectorPort = await unusedPort();
  const child = spawn(
    wrangler,
    [
      "dev",
      ...(options.entry ? [options.entry] : []),
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      persistTo,
      ...envFiles.flatMap((file) => ["--env-file", file]),
      ...Object.entries(options.vars ?? {}).flatMap(([name, value]) => [
        "--var",
        `${name}:${value}`,
      ]),
      "--show-interactive-dev-session=false",
      "--log-level",
      options.logLevel ?? (quiet ? "error" : "info"),
    ],
    {
      cwd: root,
      // Env files are read only while this is true (its default); a user's false must not win.
      env: { ...offlineEnv(), CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV: "true" },
      // Quiet still keeps stderr's last lines, so a failed start says why.
      stdio: options.onOutput
        ? ["ignore", "pipe", "pipe"]
        : quiet
          ? ["ignore", "ignore", "pipe"]
          : "inherit",
    },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  if (options.onOutput) {
    for (const stream of [child.stdout, child.stderr]) forEachLine(stream!, options.onOutput);
  }
  const url = `http://127.0.0.1:${port}`;
  await waitUntilReady(url, child, () => stderr);
  const heartbeat = options.heartbeat === false ? undefined : keepProxyMoving(url);
  child.once("exit", () => clearInterval(heartbeat));
  return {
    url,
    adminToken: token,
    process: child,
    stop: () =>
      new Promise((done) => {
        clearInterval(heartbeat);
        if (child.exitCode !== null) return done();
        child.once("exit", () => done());
        child.kill("SIGTERM");
      }),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { port: { type: "string" }, "persist-to": { type: "string" } },
  });
  const api = await startLocalApi({
    port: values.port ? Number(values.port) : undefined,
    persistTo: values["persist-to"],
  });
  console.log(`\nevals API at ${api.url}  (OpenAPI: ${api.url}/api/openapi.json)`);
  console.log(`admin token: ${api.adminToken}\n`);
  const stop = () => api.stop().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
