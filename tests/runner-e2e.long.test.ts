// End to end, all real: `wrangler dev` with local D1/R2, the `evals runner` command driving
// headless Chromium with onnxruntime-web, and stories260k exported as a recurrent checkpoint.
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiTasks, ensureDatasets } from "../evals/api-client/datasets.ts";
import { runLocal } from "../evals/run/local-run.ts";
import type { RunCreate } from "../worker/protocol.ts";
import { type CliResult, repoRoot, runCli, runCliInProcess } from "./cli.ts";
import { GENERAL_SUITE, generalDataDir } from "./general-data.ts";
import { referenceRun, type StoriesStack, startStoriesStack } from "./local-stack.ts";

const TASK = "gsm8k_cot_sean";
// Documents per task of the general-suite run (the figure): `mmlu` alone is 57 subjects,
// so 528 documents per r.
const GENERAL_LIMIT = 8;
/**
 * A summed log-probability from wasm against node's: 1e-3, plus float32's few ulps of the sum's
 * size (a 95-token HellaSwag ending sums to −822 nats and differs by 1.1e-3, 1.4e-6 relative).
 */
function expectSameLogprob(got: number, want: number, label: string): void {
  expect(Math.abs(got - want), label).toBeLessThan(1e-3 + 4e-6 * Math.abs(want));
}
const MAX_GEN_TOKS = 24;

let stack: StoriesStack;
let wasmRunId: string;

beforeAll(async () => {
  // Short leases, so that a killed runner's shard returns to the queue within the test.
  stack = await startStoriesStack({ LEASE_SECONDS: "4" });
});

afterAll(async () => {
  await stack?.stop();
});

function createRun(overrides: Partial<RunCreate>) {
  return stack.submit.createRun({
    checkpoint: stack.checkpointId,
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

/**
 * The r's of the leases the runner ran, from its progress events (one per r and batch): a
 * bundled lease names all its r's in each.
 */
function leasedRs(log: Record<string, unknown>[]): number[][] {
  const progress = log.filter((e) => e.event === "progress");
  const bundles = new Map(progress.map((e) => [e.shard, (e.bundle as number[]) ?? [e.r]]));
  return [...new Set([...bundles.values()].map((rs) => rs.join(",")))].map((rs) =>
    rs.split(",").map(Number),
  );
}

/** The same documents through `evals local` (onnxruntime-node in-process, no API). */
function localRun(limit: number, recurrences: number[], maxGenToks = MAX_GEN_TOKS) {
  return referenceRun(stack, { limit, recurrences, maxGenToks });
}

/** `evals local`'s records by "doc_id@r". */
async function localSamples(limit: number, recurrences: number[], maxGenToks = MAX_GEN_TOKS) {
  const local = await localRun(limit, recurrences, maxGenToks);
  return new Map(local.samples.map((s) => [`${s.doc_id}@${s.recurrences}`, s]));
}

// Generous: these start Chromium and generate for real, and CI machines can be slow and shared.
describe("evals runner against a local API", { timeout: 300_000 }, () => {
  it("completes a run with 2 wasm pages; every completion equals the node engine's", async () => {
    const run = await createRun({ limit: 6 });
    wasmRunId = run.id;
    const cacheDir = join(stack.work, "cache-wasm");
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
    // Every lease was a bundle of both r: one prefill at r = 4 served r = 1 too.
    expect(leasedRs(log)).toEqual([[1, 4]]);

    const detail = await stack.submit.getRun(run.id);
    expect(detail.state).toBe("finished");
    const samples = await stack.submit.allSamples(run.id);
    expect(samples).toHaveLength(12);
    const expected = await localSamples(6, [1, 4]);
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
    const local = join(stack.work, "local.json");
    const results = await localRun(6, [1, 4]);
    writeFileSync(local, JSON.stringify(results));
    const api = ["--api", stack.api.url, "--token", stack.submitToken];
    for (const baseline of [wasmRunId, local]) {
      const check = await runCliInProcess([
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
    const missing = await runCliInProcess([
      "check",
      "--run",
      "run_nope",
      "--baseline",
      local,
      ...api,
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/run_nope/);
  });

  it(`runs the ten general tasks (--limit ${GENERAL_LIMIT}, r = 1, 4) on wasm; log-probs and metrics equal evals local's`, async () => {
    const dataDir = generalDataDir(join(stack.work, "general-data"), GENERAL_LIMIT);
    const tasks = await apiTasks(stack.submit, stack.api.url, GENERAL_SUITE);
    const held = (await stack.submit.listDatasets()).datasets;
    await ensureDatasets(stack.submit, tasks, held, dataDir);
    const run = await stack.submit.createRun({
      checkpoint: stack.checkpointId,
      tasks: GENERAL_SUITE,
      recurrences: [1, 4],
      limit: GENERAL_LIMIT,
      shard_size: 8,
    });
    // evals local (node, in this process) runs while the runner (its own process) works the API.
    const reference = runLocal({
      model: stack.checkpointDir,
      tasks: GENERAL_SUITE,
      recurrences: [1, 4],
      limit: GENERAL_LIMIT,
      kv: "full",
      stateInit: "zeros",
      seed: 0,
      batchSize: 8,
      dataDir,
    });
    // Awaited after the runner; until then a failure must not count as unhandled.
    reference.catch(() => {});
    const result = await runCli(
      runnerArgs(join(stack.work, "cache-wasm"), [
        "--pages",
        "2",
        "--backend",
        "wasm",
        "--batch-size",
        "8",
        "--once",
      ]),
    );
    expect(result.stderr).not.toContain("shard_failed");
    expect(result.code, result.stderr).toBe(0);
    expect((await stack.submit.getRun(run.id)).state).toBe("finished");
    expect(leasedRs(events(result))).toEqual([[1, 4]]);

    const local = await reference;
    const expected = new Map(local.samples.map((s) => [`${s.doc_id}@${s.recurrences}`, s]));
    const samples = await stack.submit.allSamples(run.id);
    // 9 tasks + 57 MMLU subjects, GENERAL_LIMIT documents each, at two r.
    expect(samples).toHaveLength((9 + 57) * GENERAL_LIMIT * 2);
    expect(samples).toHaveLength(local.samples.length);
    for (const sample of samples) {
      const twin = expected.get(`${sample.doc_id}@${sample.recurrences}`)!;
      expect(twin, `${sample.doc_id} r=${sample.recurrences}`).toBeDefined();
      expect(sample.backend).toBe("wasm");
      // Decisions equal; lambada's per-document perplexity value is the log-probability itself.
      expect(Object.keys(sample.metrics).sort()).toEqual(Object.keys(twin.metrics).sort());
      for (const [metric, value] of Object.entries(sample.metrics)) {
        if (metric === "perplexity")
          expectSameLogprob(value, twin.metrics[metric], `${sample.doc_id} perplexity`);
        else expect(value, `${sample.doc_id} ${metric}`).toBe(twin.metrics[metric]);
      }
      expect(sample.extracted).toEqual(twin.extracted);
      expect(sample.prompt_tokens).toBe(twin.prompt_tokens);
      expect(sample.flops).toBe(twin.flops);
      expect(sample.loglikelihoods).toHaveLength(twin.loglikelihoods!.length);
      sample.loglikelihoods!.forEach((ll, i) => {
        const want = twin.loglikelihoods![i];
        expectSameLogprob(
          ll.logprob,
          want.logprob,
          `${sample.doc_id} r=${sample.recurrences} #${i}`,
        );
        expect([ll.is_greedy, ll.tokens]).toEqual([want.is_greedy, want.tokens]);
      });
    }
  }, 600_000);

  it("detects a corrupted cached checkpoint file by its hash and fetches it again", async () => {
    const cacheDir = join(stack.work, "cache-wasm");
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
    const cacheDir = join(stack.work, "cache-kill");
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

    const samples = await stack.submit.allSamples(run.id);
    expect(samples.map((s) => s.doc_index).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // The killed runner's expired lease is recorded as such, never as a failure of the shard.
    const reasons = (await stack.submit.getRun(run.id)).failures.flatMap((f) => f.reasons);
    expect(reasons.filter((r) => r.kind !== "vanished")).toEqual([]);
  });

  it("runs a shard on webgpu and says so in every record", async () => {
    // Few tokens: each longer cache is new shapes, which SwiftShader compiles kernels for again.
    const run = await createRun({ limit: 1, recurrences: [4], max_gen_toks: 2 });
    const result = await runCli(
      runnerArgs(join(stack.work, "cache-webgpu"), ["--backend", "webgpu", "--once"]),
    );
    expect(result.code, result.stderr).toBe(0);
    const samples = await stack.submit.allSamples(run.id);
    expect(samples).toHaveLength(1);
    const expected = await localSamples(1, [4], 2);
    for (const sample of samples) {
      expect(sample.backend).toBe("webgpu");
      expect(sample.device).toMatch(/^webgpu /);
      expect(sample.completion).toBe(
        expected.get(`${sample.doc_id}@${sample.recurrences}`)?.completion,
      );
    }
  });
});

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
