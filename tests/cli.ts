// Runs the `evals` command line two ways: `runCli` spawns the real `bin/evals.js` as a user would
// (a few tests per file, to prove the binary's wiring), `runCliInProcess` calls the same program in
// this process with its stdout, stderr, environment and working directory swapped for the call,
// so the many parsing and bad-input cases do not each pay for a Node start and the imports.
import { spawn } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runEvals } from "../evals/cli/program.ts";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface CliOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [resolve(repoRoot, "bin/evals.js"), ...args], {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, ...options.env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ code, stdout, stderr }));
  });
}

// Calls share the process's streams and environment, so they take turns.
let turn: Promise<unknown> = Promise.resolve();

/** `runCli` without the child process: same arguments, same result. */
export function runCliInProcess(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const run = turn.then(() => runOnce(args, options));
  turn = run.catch(() => undefined);
  return run;
}

async function runOnce(args: string[], options: CliOptions): Promise<CliResult> {
  const output = { stdout: "", stderr: "" };
  const restore = [
    swapEnv(options.env ?? {}),
    swapCwd(options.cwd ?? repoRoot),
    capture(process.stdout, (text) => {
      output.stdout += text;
    }),
    capture(process.stderr, (text) => {
      output.stderr += text;
    }),
  ];
  const exitCode = process.exitCode;
  process.exitCode = undefined;
  try {
    const code = await runEvals([process.execPath, resolve(repoRoot, "bin/evals.js"), ...args]);
    return { code, ...output };
  } finally {
    process.exitCode = exitCode;
    for (const undo of restore.reverse()) undo();
  }
}

function swapEnv(env: NodeJS.ProcessEnv): () => void {
  const saved = { ...process.env };
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  return () => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  };
}

function swapCwd(cwd: string): () => void {
  const saved = process.cwd();
  process.chdir(cwd);
  return () => process.chdir(saved);
}

/** Sends what is written to `stream` to `sink` instead; the stream reads as a pipe, not a terminal. */
function capture(stream: NodeJS.WriteStream, sink: (text: string) => void): () => void {
  const write = stream.write;
  const isTTY = Object.getOwnPropertyDescriptor(stream, "isTTY");
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    sink(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
    const done = rest.find((arg) => typeof arg === "function") as (() => void) | undefined;
    if (done) queueMicrotask(done);
    return true;
  }) as typeof stream.write;
  Object.defineProperty(stream, "isTTY", { value: false, configurable: true, writable: true });
  return () => {
    stream.write = write;
    if (isTTY) Object.defineProperty(stream, "isTTY", isTTY);
    else delete (stream as { isTTY?: boolean }).isTTY;
  };
}
