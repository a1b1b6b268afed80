// Coordinator API throughput under local `wrangler dev`: simulated runners lease a one-document
// shard, post its completion, and lease again. Reports lease→result cycles per second, p50/p99
// cycle latency, and double leases (a shard granted twice; must be 0).
//
//   npm run bench:api                    # 1 and 32 runners
//   npx tsx bench/api.ts --runners 1,8,32 --cycles 2000
import { rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { EvalsClient } from "../worker/client.ts";
import { startLocalApi } from "../worker/dev.ts";
import type { Capabilities, Lease } from "../worker/protocol.ts";
import { checkpointFixture } from "../worker/testing/manifest-fixture.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    runners: { type: "string", default: "1,32" },
    cycles: { type: "string", default: "1500" },
    port: { type: "string", default: "8797" },
  },
});
const runnerCounts = values.runners.split(",").map(Number);
const cyclesPerPhase = Number(values.cycles);

const capabilities: Capabilities = {
  backends: ["wasm"],
  max_parameters: 1e9,
  max_buffer_bytes: 2 ** 30,
};

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Buffer.from(digest).toString("hex");
}

async function setup(url: string, adminToken: string, docs: number) {
  const admin = new EvalsClient({ baseUrl: url, token: adminToken });
  const submit = new EvalsClient({
    baseUrl: url,
    token: (await admin.createToken({ role: "submit", name: "bench" })).token,
  });
  const fixture = await checkpointFixture("bench");
  for (const bytes of fixture.files.values())
    await submit.uploadBlob(await sha256Hex(bytes), bytes);
  const checkpoint = await submit.registerCheckpoint({ manifest: fixture.manifest });
  const files: Record<string, string> = {};
  for (const name of ["test.jsonl", "fewshot_gsm8k_cot_8shot.jsonl"]) {
    const bytes = new Uint8Array(await readFile(join(root, "../shared/datasets/gsm8k", name)));
    files[name] = await sha256Hex(bytes);
    await submit.uploadBlob(files[name], bytes);
  }
  await submit.registerDataset({ name: "gsm8k", files });
  // One document per shard: every cycle is one lease and one result post, nothing else.
  const recurrences = [1, 2, 4, 8, 16, 32].slice(0, Math.ceil(docs / 1319));
  const run = await submit.createRun({
    checkpoint: checkpoint.id,
    tasks: ["gsm8k_cot_sean"],
    recurrences,
    shard_size: 1,
  });
  return { admin, submit, run };
}

interface Phase {
  runners: number;
  cycles: number;
  seconds: number;
  latencies: number[];
  leaseMs: number[];
  resultMs: number[];
  doubleLeases: number;
  duplicates: number;
}

async function phase(
  url: string,
  admin: EvalsClient,
  runners: number,
  cycles: number,
  granted: Set<string>,
): Promise<Phase> {
  const clients = await Promise.all(
    Array.from({ length: runners }, async (_, i) => {
      const created = await admin.createToken({ role: "runner", name: `bench-${runners}-${i}` });
      return new EvalsClient({ baseUrl: url, token: created.token });
    }),
  );
  const result: Phase = {
    runners,
    cycles: 0,
    seconds: 0,
    latencies: [],
    leaseMs: [],
    resultMs: [],
    doubleLeases: 0,
    duplicates: 0,
  };
  let started = 0;
  const begin = performance.now();
  await Promise.all(
    clients.map(async (client) => {
      while (started < cycles) {
        started++;
        const t0 = performance.now();
        const lease: Lease | null = await client.lease(capabilities, "bench/1");
        const t1 = performance.now();
        if (!lease) break;
        if (granted.has(lease.shard.id)) result.doubleLeases++;
        granted.add(lease.shard.id);
        const accepted = await client.postResults(
          lease.lease_id,
          lease.prompts.map((p) => ({
            doc_id: p.doc_id,
            recurrences: lease.shard.recurrences,
            completion: " Natalia sold 48 clips. The answer is 72.",
            prompt_tokens: 120,
            generated_tokens: 40,
            backend: "wasm",
            runner_version: "bench/1",
            timings: { ms: 1 },
          })),
        );
        const t2 = performance.now();
        result.duplicates += accepted.duplicates;
        result.cycles++;
        result.leaseMs.push(t1 - t0);
        result.resultMs.push(t2 - t1);
        result.latencies.push(t2 - t0);
      }
    }),
  );
  result.seconds = (performance.now() - begin) / 1000;
  for (const list of [result.latencies, result.leaseMs, result.resultMs])
    list.sort((a, b) => a - b);
  return result;
}

const persistTo = join(root, ".wrangler/bench-state");
rmSync(persistTo, { recursive: true, force: true });
const api = await startLocalApi({ port: Number(values.port), persistTo, quiet: true });
try {
  const totalCycles = runnerCounts.length * cyclesPerPhase + 100;
  const { admin, submit, run } = await setup(api.url, api.adminToken, totalCycles);
  const granted = new Set<string>();
  // Warm-up: the first requests bundle and compile the worker.
  await phase(api.url, admin, 4, 100, granted);
  const phases: Phase[] = [];
  for (const runners of runnerCounts) {
    phases.push(await phase(api.url, admin, runners, cyclesPerPhase, granted));
  }
  const detail = await submit.getRun(run.id);
  const stored = detail.progress.reduce((sum, p) => sum + p.samples_done, 0);

  const f = (n: number) => n.toFixed(1);
  console.log(`\nlocal wrangler dev (wrangler 4.86.0, D1 + R2 on disk), ${run.id}`);
  console.log(
    "one document per shard; a cycle = POST /api/leases + POST /api/leases/{id}/results\n",
  );
  console.log(
    "| runners | cycles | seconds | cycles/s | cycle p50 ms | cycle p99 ms | lease p50 ms | results p50 ms | double leases |",
  );
  console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const p of phases) {
    console.log(
      `| ${p.runners} | ${p.cycles} | ${f(p.seconds)} | ${f(p.cycles / p.seconds)} | ${f(percentile(p.latencies, 50))} | ${f(percentile(p.latencies, 99))} | ${f(percentile(p.leaseMs, 50))} | ${f(percentile(p.resultMs, 50))} | ${p.doubleLeases} |`,
    );
  }
  const cycles = phases.reduce((sum, p) => sum + p.cycles, 0) + 100;
  const duplicates = phases.reduce((sum, p) => sum + p.duplicates, 0);
  console.log(
    `\nserver check: ${stored} samples stored for ${cycles} cycles, ${granted.size} distinct shards granted, ${duplicates} results refused as duplicates`,
  );
  if (stored !== cycles || granted.size !== cycles) process.exitCode = 1;
} finally {
  await api.stop();
}
