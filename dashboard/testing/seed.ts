// Seeds a running coordinator through its real API (worker/client.ts) with what the dashboard
// shows: two recurrent checkpoints and a non-recurrent baseline cut from the same source as the
// first, three published runs with fabricated completions whose correctness per (doc, r) is
// fixed below, and one unpublished run left half done (for live progress).
//
//   npx tsx dashboard/testing/seed.ts http://127.0.0.1:8787 <admin token>   # by hand, to look
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Manifest } from "../../model/manifest.ts";
import { EvalsClient } from "../../worker/client.ts";
import type { Capabilities, Lease, ResultIn } from "../../worker/protocol.ts";
import {
  type CheckpointFixture,
  checkpointFixture,
} from "../../worker/testing/manifest-fixture.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const gsm8k = join(root, "../shared/datasets/gsm8k");

export const TASK = "gsm8k_cot_sean";
export const DOCS = 8;
export const RECURRENCES = [1, 2, 4, 8];

/** Documents each run answers correctly at each r. */
export const CORRECT: Record<"a" | "b" | "flat" | "live", Record<number, number[]>> = {
  a: { 1: [0, 1], 2: [0, 1, 2], 4: [0, 1, 2, 3, 4], 8: [0, 1, 2, 3, 4] },
  b: { 1: [0, 1], 2: [0, 1], 4: [0, 1], 8: [0, 1, 2, 3, 4, 5, 6, 7] },
  flat: { 1: [0] },
  live: { 16: [0, 1, 2, 3, 4, 5] },
};

export interface Seeded {
  submitToken: string;
  runs: { a: string; b: string; flat: string; live: string };
  checkpoints: { a: string; b: string; flat: string };
  /** Finishes the live run (posts its remaining shard); returns once accepted. */
  finishLive(): Promise<void>;
}

const capabilities: Capabilities = {
  backends: ["wasm"],
  max_parameters: 1e9,
  max_buffer_bytes: 2 ** 30,
};

function golds(): string[] {
  return readFileSync(join(gsm8k, "test.jsonl"), "utf8")
    .split("\n")
    .slice(0, DOCS)
    .map((line) => (JSON.parse(line).answer as string).split("####").at(-1)!.trim());
}

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return Buffer.from(await crypto.subtle.digest("SHA-256", bytes)).toString("hex");
}

async function register(client: EvalsClient, fixture: CheckpointFixture): Promise<string> {
  const needed = new Set(
    [fixture.manifest.graphs.prelude, fixture.manifest.graphs.block, fixture.manifest.graphs.coda]
      .filter((g) => g !== null)
      .map((g) => g.file)
      .concat(Object.keys(fixture.manifest.tokenizer.files)),
  );
  for (const [name, bytes] of fixture.files) {
    if (needed.has(name)) await client.uploadBlob(await sha256Hex(bytes), bytes);
  }
  return (await client.registerCheckpoint({ manifest: fixture.manifest })).id;
}

function nonRecurrent(fixture: CheckpointFixture, name: string): CheckpointFixture {
  const manifest: Manifest = structuredClone(fixture.manifest);
  manifest.name = name;
  manifest.layers.block = [];
  manifest.graphs.block = null;
  manifest.adapter = null;
  manifest.train_recurrence = null;
  manifest.parameters = { ...manifest.parameters, block: 0, adapter: 0 };
  manifest.parameters.total -=
    fixture.manifest.parameters.block + fixture.manifest.parameters.adapter;
  return { manifest, files: fixture.files };
}

function answers(lease: Lease, correct: Record<number, number[]>, gold: string[]): ResultIn[] {
  const r = lease.shard.recurrences;
  return lease.prompts.map((p) => {
    const right = correct[r]?.includes(p.doc_index) ?? false;
    const answer = right ? gold[p.doc_index] : "999999";
    return {
      doc_id: p.doc_id,
      recurrences: r,
      completion: ` Thinking at r=${r} about doc ${p.doc_index}. The answer is ${answer}.`,
      prompt_tokens: 100 + p.doc_index,
      generated_tokens: 24 + 6 * Math.log2(r) + (p.doc_index % 3),
      backend: "wasm",
      device: "seeded",
      runner_version: "dashboard-seed/1",
      timings: { ms: 10 * r },
    };
  });
}

/** Leases and answers shards until none is left (or `max` shards were done). */
async function work(
  runner: EvalsClient,
  correct: Record<number, number[]>,
  gold: string[],
  max = Number.POSITIVE_INFINITY,
): Promise<number> {
  let done = 0;
  while (done < max) {
    const lease = await runner.lease(capabilities, "dashboard-seed/1");
    if (!lease) break;
    await runner.postResults(lease.lease_id, answers(lease, correct, gold));
    done++;
  }
  return done;
}

export async function seed(baseUrl: string, adminToken: string): Promise<Seeded> {
  const admin = new EvalsClient({ baseUrl, token: adminToken });
  const token = async (role: "submit" | "runner", name: string, trusted = false) =>
    new EvalsClient({ baseUrl, token: (await admin.createToken({ role, name, trusted })).token });
  const submitToken = (await admin.createToken({ role: "submit", name: "dashboard-seed" })).token;
  const submit = new EvalsClient({ baseUrl, token: submitToken });
  const trusted = await token("runner", "trusted-runner", true);
  const community = await token("runner", "community-runner");
  const gold = golds();

  const files: Record<string, string> = {};
  for (const name of ["test.jsonl", "fewshot_gsm8k_cot_8shot.jsonl"]) {
    const bytes = new Uint8Array(readFileSync(join(gsm8k, name)));
    files[name] = await sha256Hex(bytes);
    await submit.uploadBlob(files[name], bytes);
  }
  await submit.registerDataset({ name: "gsm8k", files });

  const fixtureA = await checkpointFixture("a");
  fixtureA.manifest.name = "stories260k-retro-1-3-1";
  fixtureA.manifest.train_recurrence = 4;
  const fixtureB = await checkpointFixture("b");
  fixtureB.manifest.name = "olmo-tiny-retro-1-3-1";
  fixtureB.manifest.architecture.flavour = "olmo2";
  fixtureB.manifest.source.path = "../shared/models/olmo-tiny";
  const checkpoints = {
    a: await register(submit, fixtureA),
    b: await register(submit, fixtureB),
    flat: await register(submit, nonRecurrent(fixtureA, "stories260k (non-recurrent)")),
  };
  const base = { tasks: [TASK], limit: DOCS, shard_size: 4 };

  const runA = await submit.createRun({
    ...base,
    checkpoint: checkpoints.a,
    recurrences: RECURRENCES,
  });
  await work(trusted, CORRECT.a, gold);
  const runB = await submit.createRun({
    ...base,
    checkpoint: checkpoints.b,
    recurrences: RECURRENCES,
  });
  await work(community, CORRECT.b, gold);
  const runFlat = await submit.createRun({
    ...base,
    checkpoint: checkpoints.flat,
    recurrences: [1],
  });
  await work(trusted, CORRECT.flat, gold);
  for (const run of [runA, runB, runFlat]) await submit.publishRun(run.id);

  // Left running: one of its two shards answered.
  const live = await submit.createRun({ ...base, checkpoint: checkpoints.a, recurrences: [16] });
  await work(trusted, CORRECT.live, gold, 1);

  return {
    submitToken,
    runs: { a: runA.id, b: runB.id, flat: runFlat.id, live: live.id },
    checkpoints,
    finishLive: async () => {
      await work(trusted, CORRECT.live, gold);
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [baseUrl, adminToken] = process.argv.slice(2);
  if (!baseUrl || !adminToken) {
    console.error("usage: tsx dashboard/testing/seed.ts <api url> <admin token>");
    process.exit(2);
  }
  const seeded = await seed(baseUrl, adminToken);
  console.log(JSON.stringify({ ...seeded, finishLive: undefined }, null, 2));
}
