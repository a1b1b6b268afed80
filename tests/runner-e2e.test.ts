// End to end, all real: `wrangler dev` with local D1/R2, the `evals runner` command driving
// headless Chromium with onnxruntime-web, and stories260k exported as a recurrent checkpoint.
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runLocal } from "../evals/run/local-run.ts";
import { exportModel } from "../model/export-model.ts";
import { stories260kDir } from "../model/testing/stories.ts";
import type { RunCreate, Sample } from "../worker/protocol.ts";
import { type CliResult, repoRoot, runCli } from "./cli.ts";
import { registerGsm8k, startTestStack, type TestStack, uploadCheckpoint } from "./local-stack.ts";

const TASK = "gsm8k_cot_sean";
const MAX_GEN_TOKS = 24;

let stack: TestStack;
let work: string;
let checkpointDir: string;
let checkpointId: string;
let wasmRunId: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "evals-runner-e2e-"));
  checkpointDir = join(work, "ckpt");
  await exportModel({ from: stories260kDir, out: checkpointDir, split: [1, 3, 1], seed: 7 });
  // Short leases, so that a killed runner's shard returns to the queue within the test.
  stack = await startTestStack({ LEASE_SECONDS: "4" });
  checkpointId = await uploadCheckpoint(stack.submit, checkpointDir);
  await registerGsm8k(stack.submit);
});

afterAll(async () => {
  await stack?.stop();
  rmSync(work, { recursive: true, force: true });
});

function createRun(overrides: Partial<RunCreate>) {
  return stack.submit.createRun({
    checkpoint: checkpointId,
    tasks: [TASK],
    recurrences: [1, 4],
    shard_size: 2,
    max_gen_toks: MAX_GEN_TOKS,
    ...overrides,
  });
}

function runnerArgs(cacheDir: string, extra: string[]): string[] {
  return [
    "runner",
    "--api",
    stack.api.url,
    "--token",
    stack.runnerToken,
    "--cache-dir",
    cacheDir,
    "--json",
    ...extra,
  ];
}

function events(result: Pick<CliResult, "stderr">): Record<string, unknown>[] {
  return result.stderr
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line));
}

async function allSamples(runId: string): Promise<Sample[]> {
  const samples: Sample[] = [];
  let cursor: string | undefined;
  do {
    const page = await stack.submit.samples(runId, { limit: 500, cursor });
    samples.push(...page.samples);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return samples;
}

/** The same documents through `evals local` (onnxruntime-node in-process, no API). */
async function nodeCompletions(limit: number, recurrences: number[]) {
  const local = await runLocal({
    model: checkpointDir,
    tasks: [TASK],
    recurrences,
    limit,
    kv: "full",
    stateInit: "zeros",
    seed: 0,
    batchSize: 1,
    maxGenToks: MAX_GEN_TOKS,
    dataDir: resolve(repoRoot, "../shared/datasets"),
  });
  return new Map(local.samples.map((s) => [`${s.doc_id}@${s.recurrences}`, s]));
}

describe("evals runner against a local API", () => {
  it("completes a run with 2 wasm pages; every completion equals the node engine's", async () => {
    const run = await createRun({ limit: 6 });
    wasmRunId = run.id;
    const cacheDir = join(work, "cache-wasm");
    const result = await runCli(
      runnerArgs(cacheDir, ["--pages", "2", "--backend", "wasm", "--once"]),
    );
    expect(result.stderr).not.toContain("shard_failed");
    expect(result.code).toBe(0);
    const log = events(result);
    expect(log[0]).toMatchObject({ event: "start", backend: "wasm", pages: 2 });
    expect(new Set(log.filter((e) => e.event === "load").map((e) => e.page))).toEqual(
      new Set([1, 2]),
    );

    const detail = await stack.submit.getRun(run.id);
    expect(detail.state).toBe("finished");
    const samples = await allSamples(run.id);
    expect(samples).toHaveLength(12);
    const expected = await nodeCompletions(6, [1, 4]);
    for (const sample of samples) {
      expect(sample.backend).toBe("wasm");
      expect(sample.device).toMatch(/^wasm threads=/);
      expect(sample.runner_version).toMatch(/^evals-runner\//);
      const twin = expected.get(`${sample.doc_id}@${sample.recurrences}`);
      expect(twin, `${sample.doc_id} r=${sample.recurrences}`).toBeDefined();
      expect(sample.completion).toBe(twin?.completion);
      expect(sample.generated_tokens).toBe(twin?.generated_tokens);
      expect(sample.prompt_tokens).toBe(twin?.prompt_tokens);
      expect(sample.metrics).toEqual(twin?.metrics);
    }
    const byR = detail.progress.map((p) => [p.recurrences, p.samples_done]);
    expect(byR).toEqual(
      expect.arrayContaining([
        [1, 6],
        [4, 6],
      ]),
    );
  });

  it("evals check compares an API run by id with itself and with evals local's file", async () => {
    const local = join(work, "local.json");
    const results = await runLocal({
      model: checkpointDir,
      tasks: [TASK],
      recurrences: [1, 4],
      limit: 6,
      kv: "full",
      stateInit: "zeros",
      seed: 0,
      batchSize: 1,
      maxGenToks: MAX_GEN_TOKS,
      dataDir: resolve(repoRoot, "../shared/datasets"),
    });
    writeFileSync(local, JSON.stringify(results));
    const api = ["--api", stack.api.url, "--token", stack.submitToken];
    for (const baseline of [wasmRunId, local]) {
      const check = await runCli([
        "check",
        "--run",
        wasmRunId,
        "--baseline",
        baseline,
        "--json",
        ...api,
      ]);
      expect(check.code, check.stderr).toBe(0);
      const report = JSON.parse(check.stdout);
      expect(report.regressions).toBe(0);
      expect(report.rows.map((r: { paired: number }) => r.paired)).toEqual([6, 6]);
      expect(report.rows.every((r: { deltaPoints: number }) => r.deltaPoints === 0)).toBe(true);
    }
    const missing = await runCli(["check", "--run", "run_nope", "--baseline", local, ...api]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/run_nope/);
  });

  it("detects a corrupted cached checkpoint file by its hash and fetches it again", async () => {
    const cacheDir = join(work, "cache-wasm");
    const [cached] = readdirSync(cacheDir);
    const target = join(cacheDir, cached, "block.onnx.data");
    const good = readFileSync(target);
    const bad = Buffer.from(good);
    bad[bad.length >> 1] ^= 0xff;
    writeFileSync(target, bad);

    await createRun({ limit: 2, recurrences: [2] });
    const result = await runCli(runnerArgs(cacheDir, ["--backend", "wasm", "--once"]));
    expect(result.code).toBe(0);
    const fetches = events(result).filter((e) => e.event === "fetch");
    expect(fetches).toEqual([
      expect.objectContaining({ file: "block.onnx.data", reason: expect.stringMatching(/sha256/) }),
    ]);
    const sha = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
    expect(sha(readFileSync(target))).toBe(sha(good));
  });

  it("finishes a run after its runner is killed mid-shard; one result per (doc, r)", async () => {
    const run = await createRun({ limit: 8, recurrences: [1], shard_size: 4 });
    const cacheDir = join(work, "cache-kill");
    const first = spawnRunner(runnerArgs(cacheDir, ["--backend", "wasm", "--batch-size", "1"]));
    // Kill it once it has posted part of a shard: some results stored, the shard still leased.
    await waitFor(async () => {
      const done = (await stack.submit.getRun(run.id)).progress.reduce(
        (n, p) => n + p.samples_done,
        0,
      );
      return done >= 1 && done % 4 !== 0;
    }, 120_000);
    first.kill("SIGKILL");
    await new Promise((done) => first.once("exit", done));

    // The dead runner's lease expires after LEASE_SECONDS; a new runner picks the shard up.
    await waitFor(async () => {
      await runCli(runnerArgs(cacheDir, ["--backend", "wasm", "--once"]));
      return (await stack.submit.getRun(run.id)).state === "finished";
    }, 180_000);

    const samples = await allSamples(run.id);
    expect(samples.map((s) => s.doc_index).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect((await stack.submit.getRun(run.id)).failures).toEqual([]);
  });

  it("runs a shard on webgpu and says so in every record", async () => {
    const run = await createRun({ limit: 1, recurrences: [1, 4], max_gen_toks: 8 });
    const result = await runCli(
      runnerArgs(join(work, "cache-webgpu"), ["--backend", "webgpu", "--once"]),
    );
    expect(result.code, result.stderr).toBe(0);
    const samples = await allSamples(run.id);
    expect(samples).toHaveLength(2);
    const expected = await nodeCompletionsWith(1, [1, 4], 8);
    for (const sample of samples) {
      expect(sample.backend).toBe("webgpu");
      expect(sample.device).toMatch(/^webgpu /);
      expect(sample.completion).toBe(expected.get(`${sample.doc_id}@${sample.recurrences}`));
    }
  });
});

async function nodeCompletionsWith(limit: number, recurrences: number[], maxGenToks: number) {
  const local = await runLocal({
    model: checkpointDir,
    tasks: [TASK],
    recurrences,
    limit,
    kv: "full",
    stateInit: "zeros",
    seed: 0,
    batchSize: 1,
    maxGenToks,
    dataDir: resolve(repoRoot, "../shared/datasets"),
  });
  return new Map(local.samples.map((s) => [`${s.doc_id}@${s.recurrences}`, s.completion]));
}

function spawnRunner(args: string[]): ChildProcess {
  return spawn(process.execPath, [resolve(repoRoot, "bin/evals.js"), ...args], {
    cwd: repoRoot,
    stdio: "ignore",
  });
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((done) => setTimeout(done, 250));
  }
}
