// Where the time of a general-suite run through the API goes: the ten loglikelihood tasks (MMLU as
// its 57 subjects) on stories260k at r = 1, 4, through a real local API (wrangler dev) and a WASM
// browser runner, then the same documents through `evals local`. Prints one line per phase and,
// per API route, the count, total and mean time and the bytes sent and received; no assertions.
//
//   npx tsx bench/general-api.ts [--limit 8] [--pages 2] [--batch-size 8] [--shard-size 8]
//                                [--backend wasm|node] [--threads 1]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { apiTasks, ensureDatasets } from "../evals/api-client/datasets.ts";
import { runLocal } from "../evals/run/local-run.ts";
import { exportModel } from "../model/export-model.ts";
import { stories260kDir } from "../model/testing/stories.ts";
import { CheckpointCache } from "../runner/cache/checkpoint-cache.ts";
import { Runner } from "../runner/runner.ts";
import type { RunnerEvent } from "../runner/runner-log.ts";
import { GENERAL_SUITE, generalDataDir } from "../tests/general-data.ts";
import { startTestStack, uploadCheckpoint } from "../tests/local-stack.ts";
import { EvalsClient } from "../worker/client.ts";

const { values } = parseArgs({
  options: {
    limit: { type: "string", default: "8" },
    pages: { type: "string", default: "2" },
    "batch-size": { type: "string", default: "8" },
    "shard-size": { type: "string", default: "8" },
    backend: { type: "string", default: "wasm" },
    threads: { type: "string" },
  },
});
const limit = Number(values.limit);
const recurrences = [1, 4];

interface RouteTimes {
  count: number;
  ms: number;
  sent: number;
  received: number;
}
const routes = new Map<string, RouteTimes>();
/** fetch, timed per route (ids replaced by ':id'), with request and response body sizes. */
const timedFetch: typeof fetch = async (input, init) => {
  const url = new URL(String(input));
  const route = `${init?.method ?? "GET"} ${url.pathname.replace(/\/(lease|run)_[^/]+/g, "/:id").replace(/\/[0-9a-f]{64}/, "/:sha")}`;
  const t0 = performance.now();
  const res = await fetch(input, init);
  const body = await res.arrayBuffer();
  const entry = routes.get(route) ?? { count: 0, ms: 0, sent: 0, received: 0 };
  entry.count++;
  entry.ms += performance.now() - t0;
  entry.sent += typeof init?.body === "string" ? Buffer.byteLength(init.body) : 0;
  entry.received += body.byteLength;
  routes.set(route, entry);
  return new Response(res.status === 204 ? null : body, {
    status: res.status,
    headers: res.headers,
  });
};

const phases: [string, number][] = [];
async function phase<T>(name: string, work: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await work();
  } finally {
    phases.push([name, (performance.now() - t0) / 1000]);
  }
}

const work = mkdtempSync(join(tmpdir(), "evals-bench-general-"));
const checkpointDir = join(work, "ckpt");
await exportModel({ from: stories260kDir, out: checkpointDir, split: [1, 3, 1], seed: 7 });
const stack = await phase("start wrangler dev", () => startTestStack());
try {
  const submit = new EvalsClient({
    baseUrl: stack.api.url,
    token: stack.submitToken,
    fetch: timedFetch,
  });
  const checkpoint = await phase("upload checkpoint", () =>
    uploadCheckpoint(submit, checkpointDir),
  );
  const dataDir = generalDataDir(join(work, "general-data"), limit);
  await phase("register datasets", async () => {
    const tasks = await apiTasks(submit, stack.api.url, GENERAL_SUITE);
    await ensureDatasets(submit, tasks, (await submit.listDatasets()).datasets, dataDir);
  });
  const run = await phase("create run", () =>
    submit.createRun({
      checkpoint,
      tasks: GENERAL_SUITE,
      recurrences,
      limit,
      shard_size: Number(values["shard-size"]),
    }),
  );
  const events: (RunnerEvent & { at: number })[] = [];
  const started = performance.now();
  const runner = new Runner({
    client: new EvalsClient({
      baseUrl: stack.api.url,
      token: stack.runnerToken,
      fetch: timedFetch,
    }),
    cache: new CheckpointCache({
      dir: join(work, "cache"),
      maxBytes: 2 ** 30,
      headers: { authorization: `Bearer ${stack.runnerToken}` },
    }),
    log: (event) => events.push({ ...event, at: (performance.now() - started) / 1000 }),
    pages: Number(values.pages),
    backend: values.backend as "wasm" | "node",
    once: true,
    batchSize: Number(values["batch-size"]),
    threads: values.threads === undefined ? undefined : Number(values.threads),
    shardTimeoutMs: 600_000,
  });
  const summary = await phase("runner (--once)", () => runner.run());
  const samples = await phase("fetch samples", () => submit.allSamples(run.id));
  await phase("evals local (node)", () =>
    runLocal({
      model: checkpointDir,
      tasks: GENERAL_SUITE,
      recurrences,
      limit,
      kv: "full",
      stateInit: "zeros",
      seed: 0,
      batchSize: Number(values["batch-size"]),
      dataDir,
    }),
  );

  const engineMs = samples.reduce((n, s) => n + (s.ms ?? 0), 0);
  const firstLoad = events.find((e) => e.event === "load")?.at ?? 0;
  const requests = samples.reduce((n, s) => n + (s.loglikelihoods?.length ?? 0), 0);
  console.log(
    `general suite, limit ${limit}, r ${recurrences.join(",")}: ${samples.length} samples, ${requests} requests, ` +
      `${summary.shards} shards, ${values.pages} pages on ${values.backend}, batch ${values["batch-size"]}`,
  );
  for (const [name, seconds] of phases)
    console.log(`${name.padEnd(22)} ${seconds.toFixed(1).padStart(7)} s`);
  console.log(
    `  runner: first page loaded at ${firstLoad.toFixed(1)} s; engine time (Σ per-sample ms) ${(engineMs / 1000).toFixed(1)} s over ${values.pages} pages`,
  );
  console.log(
    "route                                   calls   total s   mean ms   sent KiB   recv KiB",
  );
  for (const [route, t] of [...routes].sort((a, b) => b[1].ms - a[1].ms)) {
    console.log(
      `${route.padEnd(40)}${String(t.count).padStart(5)}${(t.ms / 1000).toFixed(1).padStart(10)}` +
        `${(t.ms / t.count).toFixed(0).padStart(10)}${(t.sent / 1024).toFixed(0).padStart(11)}${(t.received / 1024).toFixed(0).padStart(11)}`,
    );
  }
} finally {
  await stack.stop();
  rmSync(work, { recursive: true, force: true });
}
