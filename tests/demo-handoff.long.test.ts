// The demo's hand-off: its last command reopens the demo's state with `evals dev`, and the run it
// names is published and visible on the dashboard that command serves. Also: `evals dev` refuses a
// port another stack holds, and keeps the admin token in the state directory.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportModel } from "../model/export-model.ts";
import { stories260kDir } from "../model/testing/stories.ts";
// @ts-expect-error: a plain ES module of the demo script, without types.
import { handOffArgs } from "../scripts/demo-handoff.mjs";
import { EvalsClient } from "../worker/client.ts";
import { startLocalApi, unusedPort } from "../worker/dev.ts";
import { repoRoot, runCli } from "./cli.ts";
import { answerOneShard, gsm8kGolds } from "./fabricated-runner.ts";
import { registerGsm8k, uploadCheckpoint } from "./local-stack.ts";
import { migratedState } from "./migrated-state.ts";

let work: string;
let state: string;
let runId: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "evals-handoff-"));
  state = await migratedState("evals-handoff-state-");
  const ckpt = join(work, "ckpt");
  await exportModel({ from: stories260kDir, out: ckpt, split: [1, 3, 1] });
  // What the demo leaves behind: a finished, published run in its state directory.
  const api = await startLocalApi({
    port: await unusedPort(),
    persistTo: state,
    quiet: true,
    migrated: true,
  });
  try {
    const admin = new EvalsClient({ baseUrl: api.url, token: api.adminToken });
    const token = (await admin.createToken({ role: "submit", name: "demo" })).token;
    const runnerToken = (await admin.createToken({ role: "runner", name: "demo" })).token;
    const submit = new EvalsClient({ baseUrl: api.url, token });
    const runner = new EvalsClient({ baseUrl: api.url, token: runnerToken });
    const checkpoint = await uploadCheckpoint(submit, ckpt);
    await registerGsm8k(submit);
    const run = await submit.createRun({
      checkpoint,
      tasks: ["gsm8k_cot_sean"],
      recurrences: [1, 4],
      limit: 4,
    });
    runId = run.id;
    while (await answerOneShard(runner, gsm8kGolds(4)));
    const published = await runCli(["runs", "publish", runId, "--api", api.url, "--token", token]);
    expect(published.code, published.stderr).toBe(0);
  } finally {
    await api.stop();
  }
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  if (state) rmSync(state, { recursive: true, force: true });
});

describe("the demo's hand-off", () => {
  it("opens the dashboard on the demo's state with the run visible; a second dev on the port is refused", async () => {
    expect(existsSync(join(state, "evals-admin-token"))).toBe(true);
    const port = await unusedPort();
    const args: string[] = [
      ...handOffArgs(state, runId, repoRoot),
      "--port",
      String(port),
      "--no-runner",
    ];
    expect(resolve(repoRoot, args[2])).toBe(state);
    const dev = spawn(process.execPath, [join(repoRoot, "bin/evals.js"), ...args], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    dev.stdout.on("data", (chunk) => (out += chunk));
    dev.stderr.on("data", (chunk) => (out += chunk));
    const exited = new Promise((done) => dev.once("exit", done));
    try {
      const url = `http://127.0.0.1:${port}`;
      for (let i = 0; i < 1200 && !out.includes("Ctrl-C stops"); i++) {
        if (dev.exitCode !== null) throw new Error(`evals dev exited: ${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(out).toContain(`  run        ${url}/run?id=${runId}`);
      // Visible without any token: published, on the leaderboard, and its page is served.
      const run = await fetch(`${url}/api/runs/${runId}`);
      expect(run.status).toBe(200);
      expect(await run.json()).toMatchObject({ id: runId, state: "finished", published: true });
      const board = (await (await fetch(`${url}/api/leaderboard`)).json()) as {
        tasks: { entries: { run_id: string }[] }[];
      };
      expect(board.tasks.flatMap((t) => t.entries.map((e) => e.run_id))).toContain(runId);
      const page = await fetch(`${url}/run?id=${runId}`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("/js/run.js");

      const second = await runCli(["dev", "--port", String(port), "--persist-to", state]);
      expect(second.code).toBe(2);
      expect(second.stderr.trim()).toBe(
        `error: port ${port} is already in use (another evals dev or npm run api?); stop it, or pass --port <n>`,
      );
    } finally {
      dev.kill("SIGINT");
      await exited;
    }
  });
});
