// Runs that stay complete through faults (issue 13), all real: `wrangler dev` with local D1/R2,
// `evals runner --backend node` (child processes where they are killed, else in this process),
// stories260k. A runner SIGKILLed five times mid-run and the API restarted twice under a working
// runner still end with every (doc, r) scored exactly once, equal to `evals local`; a runner slower
// than its lease keeps it by heartbeats. Cheap on purpose (onnxruntime-node, 2-second leases, 16
// new tokens), but most of a minute long: `*.long.test.ts`.
import { type ChildProcess, spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunCreate, RunDetail, Sample } from "../worker/protocol.ts";
import { repoRoot, runCliInProcess } from "./cli.ts";
import { referenceRun, type StoriesStack, startStoriesStack } from "./local-stack.ts";

const TASK = "gsm8k_cot_sean";
const MAX_GEN_TOKS = 16;

let stack: StoriesStack;

beforeAll(async () => {
  stack = await startStoriesStack({ LEASE_SECONDS: "2" });
});

afterAll(async () => {
  await stack?.stop();
});

function createRun(overrides: Partial<RunCreate> & { recurrences: number[] }) {
  return stack.submit.createRun({
    checkpoint: stack.checkpointId,
    tasks: [TASK],
    shard_size: 2,
    max_gen_toks: MAX_GEN_TOKS,
    ...overrides,
  });
}

function runnerArgs(cacheDir: string, extra: string[] = []): string[] {
  return [
    "runner",
    ...["--api", stack.api.url, "--token", stack.runnerToken, "--cache-dir", cacheDir],
    ...["--backend", "node", "--batch-size", "1", "--json", ...extra],
  ];
}

function spawnRunner(args: string[]): ChildProcess {
  return spawn(process.execPath, [resolve(repoRoot, "bin/evals.js"), ...args], {
    cwd: repoRoot,
    stdio: "ignore",
  });
}

/** Samples stored so far; the last answer while the API is down. */
let lastDone = 0;
async function samplesDone(runId: string): Promise<number> {
  try {
    const run = await stack.submit.getRun(runId);
    lastDone = run.progress.reduce((n, p) => n + p.samples_done, 0);
  } catch {}
  return lastDone;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

/**
 * Runs `--once` runners until the run leaves `active` (a killed runner's lease must expire first).
 * In this process: only the killed runners need a process of their own.
 */
async function finishWithOnceRunners(runId: string, cacheDir: string): Promise<RunDetail> {
  await waitFor(async () => {
    const result = await runCliInProcess(runnerArgs(cacheDir, ["--once"]));
    expect(result.code, result.stderr).toBe(0);
    return (await stack.submit.getRun(runId)).state !== "active";
  }, 300_000);
  return stack.submit.getRun(runId);
}

/** Every (doc, r) exactly once, each equal to `evals local`'s record for it. */
async function expectEqualToLocal(
  samples: Sample[],
  limit: number,
  recurrences: number[],
  seed = 0,
) {
  const local = await referenceRun(stack, { limit, recurrences, maxGenToks: MAX_GEN_TOKS, seed });
  const pairs = samples.map((s) => `${s.doc_id}@${s.recurrences}`);
  expect(new Set(pairs).size).toBe(samples.length);
  expect(samples).toHaveLength(limit * recurrences.length);
  const expected = new Map(local.samples.map((s) => [`${s.doc_id}@${s.recurrences}`, s]));
  for (const sample of samples) {
    const twin = expected.get(`${sample.doc_id}@${sample.recurrences}`);
    expect(twin, `${sample.doc_id} r=${sample.recurrences}`).toBeDefined();
    expect(sample.completion).toBe(twin?.completion);
    expect(sample.generated_tokens).toBe(twin?.generated_tokens);
    expect(sample.prompt_tokens).toBe(twin?.prompt_tokens);
    expect(sample.metrics).toEqual(twin?.metrics);
  }
}

describe("faults", { timeout: 900_000 }, () => {
  it("SIGKILL ×5 and two API restarts: every (doc, r) scored exactly once", async () => {
    const started = performance.now();
    const recurrences = [1, 2, 4, 8];
    const run = await createRun({ limit: 8, recurrences });
    const cacheDir = join(stack.work, "cache-faults");
    let restarts = 0;
    for (let kill = 1; kill <= 5; kill++) {
      const base = await samplesDone(run.id);
      // One r per lease: a bundle posts every r of a document at once, and 32 samples in 8 posts
      // would end the run before the fifth kill. The runners that finish it take bundles, over
      // shards the kills left part-done at some r.
      const runner = spawnRunner(runnerArgs(cacheDir, ["--no-sweep"]));
      await waitFor(async () => (await samplesDone(run.id)) > base, 240_000);
      if (kill === 2 || kill === 4) {
        // The runner keeps its shard through the outage: posts and heartbeats are retried.
        await stack.restartApi();
        restarts++;
        const after = await samplesDone(run.id);
        await waitFor(async () => (await samplesDone(run.id)) > after, 240_000);
      }
      expect(runner.exitCode).toBeNull();
      runner.kill("SIGKILL");
      await new Promise((done) => runner.once("exit", done));
    }
    expect(restarts).toBe(2);
    expect(await samplesDone(run.id)).toBeLessThan(32);

    const detail = await finishWithOnceRunners(run.id, cacheDir);
    expect(detail.state).toBe("finished");
    expect(detail.missing).toEqual([]);
    const reasons = detail.failures.flatMap((f) => f.reasons);
    // A kill while a shard was held leaves one expired lease; nothing is ever a shard failure.
    expect(reasons.filter((r) => r.kind === "threw")).toEqual([]);
    // Each kill can leave one; a restart that outlasts the 2 s lease can lapse the working
    // runner's lease too (seen once in CI: 6 with 5 kills and 2 restarts).
    expect(reasons.length).toBeLessThanOrEqual(5 + restarts);
    expect(detail.failures.every((f) => f.state === "done")).toBe(true);
    const samples = await stack.submit.allSamples(run.id);
    expect(samples.filter((s) => s.reused)).toEqual([]);
    await expectEqualToLocal(samples, 8, recurrences);
    console.log(
      `fault test: 5 kills, ${restarts} API restarts, ${samples.length} samples (32 expected), ` +
        `${reasons.length} expired leases, 0 shard failures, ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  });

  it("a runner slower than its lease keeps it by heartbeats: no expiry, each (doc, r) once", async () => {
    // One shard of 8 documents at r = 8: several times the 2-second lease on onnxruntime-node.
    // Seed 1: a new result key, so nothing is reused from the run above (zeros state: same text).
    const run = await createRun({ limit: 8, recurrences: [8], shard_size: 8, seed: 1 });
    const result = await runCliInProcess(runnerArgs(join(stack.work, "cache-faults"), ["--once"]));
    expect(result.code, result.stderr).toBe(0);
    const events = result.stderr
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line));
    const progress = events.filter((e) => e.event === "progress");
    expect(progress.length).toBe(8);
    const done = events.find((e) => e.event === "shard_done");
    console.log(`slow runner: one shard of 8 samples in ${done?.seconds.toFixed(1)} s, lease 2 s`);
    const detail = await stack.submit.getRun(run.id);
    expect(detail.state).toBe("finished");
    expect(detail.failures).toEqual([]);
    await expectEqualToLocal(await stack.submit.allSamples(run.id), 8, [8], 1);
  });
});
