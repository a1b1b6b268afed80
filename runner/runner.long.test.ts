// The runner's fault handling with everything real: a local API under wrangler dev, Chromium and
// onnxruntime-web. A shard that outlives its timeout is failed with the reason and its page
// replaced; a browser killed mid-shard is restarted and the shard runs again.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StoriesStack, startStoriesStack } from "../tests/local-stack.ts";
import type { RunCreate } from "../worker/protocol.ts";
import { CheckpointCache } from "./cache/checkpoint-cache.ts";
import { Runner, type RunnerOptions } from "./runner.ts";
import type { RunnerEvent } from "./runner-log.ts";

let stack: StoriesStack;

beforeAll(async () => {
  stack = await startStoriesStack({ MAX_SHARD_FAILURES: "2" });
});

afterAll(async () => {
  await stack?.stop();
});

function createRun(overrides: Partial<RunCreate>) {
  return stack.submit.createRun({
    checkpoint: stack.checkpointId,
    tasks: ["gsm8k_cot_sean"],
    recurrences: [1],
    shard_size: 4,
    ...overrides,
  });
}

function runner(events: RunnerEvent[], options: Partial<RunnerOptions> = {}): Runner {
  return new Runner({
    client: stack.runner,
    cache: new CheckpointCache({
      dir: join(stack.work, "cache"),
      maxBytes: 2 ** 30,
      headers: { authorization: `Bearer ${stack.runnerToken}` },
    }),
    log: (event) => events.push(event),
    pages: 1,
    backend: "wasm",
    once: true,
    batchSize: 1,
    threads: 1,
    shardTimeoutMs: 600_000,
    ...options,
  });
}

/** Chromium's main process, a child of this test process (Playwright launched it from here). */
function browserPids(): number[] {
  const out = execFileSync("ps", ["-o", "pid=,comm=", "--ppid", String(process.pid)], {
    encoding: "utf8",
  });
  return out
    .split("\n")
    .filter((line) => /chrom/i.test(line))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

describe("runner faults", { timeout: 300_000 }, () => {
  it("fails a shard that outlives its timeout, with the reason, and replaces the page", async () => {
    const run = await createRun({ limit: 4, recurrences: [32], max_gen_toks: 256 });
    const events: RunnerEvent[] = [];
    const summary = await runner(events, { shardTimeoutMs: 300 }).run();
    expect(summary.failures).toBe(2);
    const failed = events.filter((e) => e.event === "shard_failed");
    expect(failed).toHaveLength(2);
    expect(events.filter((e) => e.event === "page_replaced")).toHaveLength(2);
    // Each attempt loads the checkpoint on a fresh page.
    expect(events.filter((e) => e.event === "load")).toHaveLength(2);
    const detail = await stack.submit.getRun(run.id);
    expect(detail.failures).toHaveLength(1);
    expect(detail.failures[0].state).toBe("failed");
    expect(detail.failures[0].reasons.map((r) => r.reason)).toEqual([
      expect.stringMatching(/^wasm: shard .* ran past the 0.3 s shard timeout$/),
      expect.stringMatching(/shard timeout/),
    ]);
  });

  it("restarts a browser killed mid-shard and runs the shard again", async () => {
    const run = await createRun({ limit: 4, max_gen_toks: 48 });
    const events: RunnerEvent[] = [];
    let killed = false;
    const log = (event: RunnerEvent) => {
      events.push(event);
      if (event.event === "progress" && !killed) {
        killed = true;
        for (const pid of browserPids()) process.kill(pid, "SIGKILL");
      }
    };
    const r = runner([], { log });
    const summary = await r.run();
    expect(killed).toBe(true);
    expect(summary.failures).toBe(1);
    expect(events.map((e) => e.event)).toEqual(
      expect.arrayContaining(["shard_failed", "page_replaced", "browser_restarted", "shard_done"]),
    );
    const detail = await stack.submit.getRun(run.id);
    expect(detail.state).toBe("finished");
    expect(detail.progress[0]).toMatchObject({ samples_done: 4, samples_total: 4 });
    expect(detail.failures).toEqual([
      expect.objectContaining({ state: "done", reasons: [expect.objectContaining({})] }),
    ]);
  });
});
