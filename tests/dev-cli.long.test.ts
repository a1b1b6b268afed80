// `evals dev` as a user runs it: one command brings up the API, a runner and the dashboard; a run
// submitted through the printed token completes; Ctrl-C (SIGINT) stops everything it started.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { exportModel } from "../model/export-model.ts";
import { stories260kDir } from "../model/testing/stories.ts";
import { EvalsClient } from "../worker/client.ts";
import { unusedPort } from "../worker/dev.ts";
import { repoRoot } from "./cli.ts";
import { registerGsm8k, uploadCheckpoint } from "./local-stack.ts";

const work = mkdtempSync(join(tmpdir(), "evals-dev-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("evals dev", { timeout: 300_000 }, () => {
  it("serves the API and the dashboard, runs a submitted run, and stops on SIGINT", async () => {
    const port = await unusedPort();
    const child = spawn(
      process.execPath,
      [
        resolve(repoRoot, "bin/evals.js"),
        "dev",
        "--port",
        String(port),
        "--persist-to",
        join(work, "state"),
        "--cache-dir",
        join(work, "cache"),
        "--backend",
        "wasm",
      ],
      { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((done) => child.once("exit", done));

    const token = await new Promise<string>((done, fail) => {
      const timer = setInterval(() => {
        const match = /EVALS_TOKEN=(\S+)/.exec(stdout);
        if (match) {
          clearInterval(timer);
          done(match[1]);
        }
        if (child.exitCode !== null) {
          clearInterval(timer);
          fail(new Error(`evals dev exited: ${stderr}`));
        }
      }, 100);
    });
    const url = `http://127.0.0.1:${port}`;
    expect(stdout).toContain(`dashboard  ${url}/`);
    expect((await fetch(`${url}/`)).status).toBe(200);

    const client = new EvalsClient({ baseUrl: url, token });
    const checkpointDir = join(work, "ckpt");
    await exportModel({ from: stories260kDir, out: checkpointDir, split: [1, 3, 1], seed: 7 });
    const checkpoint = await uploadCheckpoint(client, checkpointDir);
    await registerGsm8k(client);
    const run = await client.createRun({
      checkpoint,
      tasks: ["gsm8k_cot_sean"],
      recurrences: [1, 2],
      limit: 2,
      max_gen_toks: 8,
    });
    const deadline = Date.now() + 120_000;
    while ((await client.getRun(run.id)).state !== "finished") {
      if (Date.now() > deadline) throw new Error(`run not finished; runner said:\n${stderr}`);
      await new Promise((done) => setTimeout(done, 500));
    }
    expect((await client.getRun(run.id)).progress.map((p) => p.samples_done)).toEqual([2, 2]);

    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(stderr).toContain("stopped:");
    await expect(fetch(`${url}/api/runs`)).rejects.toThrow();
  });
});
