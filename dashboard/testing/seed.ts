// Seeds a running coordinator through its real API (worker/client.ts) with what the dashboard
// shows: two recurrent checkpoints and a non-recurrent baseline cut from the same source as the
// first, three published runs with fabricated completions whose correctness per (doc, r) is
// fixed below, and one unpublished run left half done (for live progress). The first checkpoint
// is a real stories260k export, so its general-task run is scored by the node runner.
//
//   npx tsx dashboard/testing/seed.ts http://127.0.0.1:8787 <admin token>   # by hand, to look
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { apiTasks, ensureDatasets } from "../../evals/api-client/datasets.ts";
import { readCheckpoint } from "../../model/checkpoint.ts";
import { exportModel } from "../../model/export-model.ts";
import type { Manifest } from "../../model/manifest.ts";
import { stories260kDir } from "../../model/testing/stories.ts";
import { CheckpointCache } from "../../runner/cache/checkpoint-cache.ts";
import { Runner } from "../../runner/runner.ts";
import type { RunnerEvent } from "../../runner/runner-log.ts";
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
  const { graphs, tokenizer } = fixture.manifest;
  const needed = new Set(
    [graphs.prelude, graphs.block, graphs.coda]
      .flatMap((g) => (g ? [g.file, ...(g.externalData ? [g.externalData.file] : [])] : []))
      .concat(Object.keys(tokenizer.files)),
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

/** The real gsm8k files, uploaded and registered (the same version, whichever seed runs first). */
async function registerGsm8k(submit: EvalsClient): Promise<void> {
  const files: Record<string, string> = {};
  for (const name of ["test.jsonl", "fewshot_gsm8k_cot_8shot.jsonl"]) {
    const bytes = new Uint8Array(readFileSync(join(gsm8k, name)));
    files[name] = await sha256Hex(bytes);
    await submit.uploadBlob(files[name], bytes);
  }
  await submit.registerDataset({ name: "gsm8k", files });
}

/** `fixtureA`: checkpoint A (default: `retrofitCheckpoint()`, the one `seedGeneral` runs). */
export async function seed(
  baseUrl: string,
  adminToken: string,
  fixtureA?: CheckpointFixture,
): Promise<Seeded> {
  const admin = new EvalsClient({ baseUrl, token: adminToken });
  const token = async (role: "submit" | "runner", name: string, trusted = false) =>
    new EvalsClient({ baseUrl, token: (await admin.createToken({ role, name, trusted })).token });
  const submitToken = (await admin.createToken({ role: "submit", name: "dashboard-seed" })).token;
  const submit = new EvalsClient({ baseUrl, token: submitToken });
  const trusted = await token("runner", "trusted-runner", true);
  const community = await token("runner", "community-runner");
  const gold = golds();

  await registerGsm8k(submit);

  fixtureA ??= await retrofitCheckpoint();
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

// ── Comparable and non-comparable runs, a second baseline, general tasks (issue 15 items 2–4,
// issue 14 item 4). Run before `seed` (its live run must keep its unanswered shard).

/** Documents each extra run answers correctly at each r. */
export const CORRECT_EXTRA: Record<"unrolled" | "capped", Record<number, number[]>> = {
  // A deeper non-recurrent model cut from A's source: its FLOPs lie between A's r = 1 and r = 2.
  unrolled: { 1: [] },
  // Checkpoint B again, with a lower token cap: not ranked with the runs at the task's cap.
  capped: { 8: [0, 1, 2, 3] },
};
export const CAPPED_MAX_GEN_TOKS = 128;

export interface SeededExtras {
  runs: { unrolled: string; capped: string };
  checkpoints: { unrolled: string };
}

/** The stories260k fixture with its block unrolled twice into the prelude, no recurrence. */
function unrolled(fixture: CheckpointFixture, name: string): CheckpointFixture {
  const flat = nonRecurrent(fixture, name);
  const { layers, parameters } = fixture.manifest;
  flat.manifest.layers.prelude = [
    ...layers.prelude,
    ...layers.block,
    ...layers.block.map((i) => i + layers.block.length),
  ];
  flat.manifest.layers.coda = layers.coda.map((i) => i + layers.block.length);
  flat.manifest.parameters.prelude += 2 * parameters.block;
  flat.manifest.parameters.total += 2 * parameters.block;
  return flat;
}

/** `fixtureA`: checkpoint A, whose source the unrolled baseline shares (default: a fresh export). */
export async function seedComparisons(
  baseUrl: string,
  adminToken: string,
  fixtureA?: CheckpointFixture,
): Promise<SeededExtras> {
  const admin = new EvalsClient({ baseUrl, token: adminToken });
  const submit = new EvalsClient({
    baseUrl,
    token: (await admin.createToken({ role: "submit", name: "dashboard-seed-extras" })).token,
  });
  const runner = new EvalsClient({
    baseUrl,
    token: (await admin.createToken({ role: "runner", name: "extras-runner", trusted: true }))
      .token,
  });
  const gold = golds();
  await registerGsm8k(submit);
  fixtureA ??= await retrofitCheckpoint();
  const fixtureB = await checkpointFixture("b");
  fixtureB.manifest.name = "olmo-tiny-retro-1-3-1";
  fixtureB.manifest.architecture.flavour = "olmo2";
  fixtureB.manifest.source.path = "../shared/models/olmo-tiny";
  const checkpointB = await register(submit, fixtureB);
  const checkpointUnrolled = await register(
    submit,
    unrolled(fixtureA, "stories260k-unrolled (non-recurrent)"),
  );
  const base = { tasks: [TASK], limit: DOCS, shard_size: 4 };
  const runUnrolled = await submit.createRun({
    ...base,
    checkpoint: checkpointUnrolled,
    recurrences: [1],
  });
  await work(runner, CORRECT_EXTRA.unrolled, gold);
  const runCapped = await submit.createRun({
    ...base,
    checkpoint: checkpointB,
    recurrences: [8],
    max_gen_toks: CAPPED_MAX_GEN_TOKS,
  });
  await work(runner, CORRECT_EXTRA.capped, gold);
  for (const run of [runUnrolled, runCapped]) await submit.publishRun(run.id);
  return {
    runs: { unrolled: runUnrolled.id, capped: runCapped.id },
    checkpoints: { unrolled: checkpointUnrolled },
  };
}

// ── general tasks (issue 14 item 4): a run of two loglikelihood tasks on checkpoint A, created as
// `evals submit` creates one and scored by the real runner (node backend) through the lease
// protocol. Run before `seed` (the runner takes every queued shard).

export const GENERAL_TASKS = ["arc_easy", "lambada_openai"];

/** What the runner posted for one document at one r, with the requests it was leased. */
export interface PostedDocument {
  task: string;
  recurrences: number;
  doc_index: number;
  requests: { context: string; continuation: string }[];
  loglikelihoods: { logprob: number; is_greedy: boolean }[];
}

export interface SeededGeneral {
  run: string;
  /** Every document the API accepted, by `task/r/doc_index`. */
  posted: Map<string, PostedDocument>;
}

/** A runner's client that keeps the leases it got and the results the API accepted from it. */
class RecordingClient extends EvalsClient {
  private readonly leases = new Map<string, Lease>();
  readonly posted = new Map<string, PostedDocument>();

  override async lease(capabilities: Capabilities, runnerVersion: string): Promise<Lease | null> {
    const lease = await super.lease(capabilities, runnerVersion);
    if (lease) this.leases.set(lease.lease_id, lease);
    return lease;
  }

  override async postResults(leaseId: string, results: ResultIn[]) {
    const accepted = await super.postResults(leaseId, results);
    const lease = this.leases.get(leaseId);
    for (const result of results) {
      const prompt = lease?.prompts.find((p) => p.doc_id === result.doc_id);
      if (!lease || !prompt) throw new Error(`posted ${result.doc_id}, which no lease held`);
      this.posted.set(`${lease.shard.task}/${result.recurrences}/${prompt.doc_index}`, {
        task: lease.shard.task,
        recurrences: result.recurrences,
        doc_index: prompt.doc_index,
        requests: prompt.requests ?? [],
        loglikelihoods: (result.loglikelihoods ?? []).map(({ logprob, is_greedy }) => ({
          logprob,
          is_greedy,
        })),
      });
    }
    return accepted;
  }
}

/**
 * Checkpoint A as a real export (stories260k cut 1,3,1, adapter seed 7), so that a runner can load
 * it: its gsm8k runs are fabricated, its general runs scored by the engine.
 */
export async function retrofitCheckpoint(): Promise<CheckpointFixture> {
  const dir = mkdtempSync(join(tmpdir(), "evals-dashboard-ckpt-"));
  try {
    await exportModel({ from: stories260kDir, out: dir, split: [1, 3, 1], seed: 7 });
    const { manifest } = await readCheckpoint(dir);
    manifest.name = "stories260k-retro-1-3-1";
    manifest.train_recurrence = 4;
    // The export records the absolute folder; the seed shows the shared one as the repo names it.
    manifest.source.path = "../shared/models/stories260k";
    const files = new Map(
      readdirSync(dir).map((name) => [name, new Uint8Array(readFileSync(join(dir, name)))]),
    );
    return { manifest, files };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function seedGeneral(
  baseUrl: string,
  adminToken: string,
  checkpoint: CheckpointFixture,
): Promise<SeededGeneral> {
  const admin = new EvalsClient({ baseUrl, token: adminToken });
  const submit = new EvalsClient({
    baseUrl,
    token: (await admin.createToken({ role: "submit", name: "general-seed" })).token,
  });
  const runnerToken = (
    await admin.createToken({ role: "runner", name: "node-runner", trusted: true })
  ).token;
  const checkpointId = await register(submit, checkpoint);
  // As `evals submit` does: the API's task list, then the dataset files it lacks, from ../shared.
  const infos = await apiTasks(submit, baseUrl, GENERAL_TASKS);
  const held = (await submit.listDatasets()).datasets;
  const registered = await ensureDatasets(submit, infos, held, join(root, "../shared/datasets"));
  const pins = Object.fromEntries(
    registered.filter((d) => !d.canonical).map((d) => [d.name, d.id]),
  );
  const run = await submit.createRun({
    checkpoint: checkpointId,
    tasks: GENERAL_TASKS,
    recurrences: RECURRENCES,
    limit: DOCS,
    shard_size: DOCS,
    ...(Object.keys(pins).length ? { datasets: pins } : {}),
  });
  const client = new RecordingClient({ baseUrl, token: runnerToken });
  const cacheDir = mkdtempSync(join(tmpdir(), "evals-dashboard-cache-"));
  const events: RunnerEvent[] = [];
  try {
    const summary = await new Runner({
      client,
      cache: new CheckpointCache({
        dir: cacheDir,
        maxBytes: 2 ** 30,
        headers: { authorization: `Bearer ${runnerToken}` },
      }),
      log: (event) => events.push(event),
      pages: 1,
      backend: "node",
      once: true,
      batchSize: DOCS,
      shardTimeoutMs: 300_000,
    }).run();
    const shards = GENERAL_TASKS.length * RECURRENCES.length;
    if (summary.failures > 0 || summary.shards !== shards) {
      throw new Error(
        `the node runner did ${summary.shards} of ${shards} shards: ${JSON.stringify(events.filter((e) => e.event === "shard_failed"))}`,
      );
    }
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
  await submit.publishRun(run.id);
  return { run: run.id, posted: client.posted };
}
// ── end: comparisons and general tasks ──────────────────────────────────────────────────────

// ── triage seed (issue 15 items 5, 10, 11): truncated, capped and reused samples ──────────────

/** A submitter's local directory: must never reach a public page or a public API answer. */
export const PRIVATE_SOURCE_PATH = "/home/alice/private-models/stories-secret";

export interface SeededTriage {
  /** stories260k's real tokenizer and 512-token window: gsm8k prompts do not fit. */
  truncatedRun: string;
  /** Same checkpoint, r = 1 again (reused from `truncatedRun`) and r = 4 new. */
  reuseRun: string;
  checkpoint: string;
  /** Documents whose prompt the runner had to cut (all of them at this window). */
  truncatedDocs: number[];
  /** Documents whose generation stopped at the token cap, at every r. */
  cappedDocs: number[];
  maxGenToks: number;
  /** The runs stay unpublished (the leaderboard's own seed is unchanged) until this is called. */
  submitToken: string;
  publish(): Promise<void>;
}

/**
 * A checkpoint with stories260k's own tokenizer (so the server can show the window the model saw)
 * and a private source path; its runs' answers are fabricated, but prompt token counts and the
 * truncation flag come from the real tokenizer and the runner's own window rule.
 */
export async function seedTriage(baseUrl: string, adminToken: string): Promise<SeededTriage> {
  const { PromptTokenizer } = await import("../../runner/engine/tokenizer.ts");
  const { fitPrompt } = await import("../../runner/engine/prompt-window.ts");
  const admin = new EvalsClient({ baseUrl, token: adminToken });
  const submitToken = (await admin.createToken({ role: "submit", name: "triage-seed" })).token;
  const submit = new EvalsClient({ baseUrl, token: submitToken });
  const runner = new EvalsClient({
    baseUrl,
    token: (await admin.createToken({ role: "runner", name: "triage-runner", trusted: true }))
      .token,
  });
  await registerGsm8k(submit);
  const stories = join(root, "../shared/models/stories260k");
  const fixture = await checkpointFixture("triage");
  fixture.manifest.name = "stories260k triage";
  fixture.manifest.source.path = PRIVATE_SOURCE_PATH;
  for (const name of ["tokenizer.json", "tokenizer_config.json"]) {
    const bytes = new Uint8Array(readFileSync(join(stories, name)));
    fixture.files.set(name, bytes);
    fixture.manifest.tokenizer.files[name] = await sha256Hex(bytes);
  }
  const checkpoint = await register(submit, fixture);
  const tokenizer = new PromptTokenizer(
    JSON.parse(readFileSync(join(stories, "tokenizer.json"), "utf8")),
    JSON.parse(readFileSync(join(stories, "tokenizer_config.json"), "utf8")),
    fixture.manifest.tokens,
  );
  const maxGenToks = 64;
  const cappedDocs = [2, 5];
  const gold = golds();
  const truncated = new Set<number>();
  const answer = async (correct: (doc: number, r: number) => boolean) => {
    for (;;) {
      const lease = await runner.lease(capabilities, "dashboard-seed/1");
      if (!lease) return;
      const r = lease.shard.recurrences;
      await runner.postResults(
        lease.lease_id,
        lease.prompts.map((p) => {
          const window = fitPrompt(
            tokenizer.encodePrompt(p.prompt),
            fixture.manifest.architecture.max_position_embeddings,
            lease.generation.max_new_tokens,
          );
          if (window.truncated) truncated.add(p.doc_index);
          const right = correct(p.doc_index, r);
          return {
            doc_id: p.doc_id,
            recurrences: r,
            completion: ` A long answer about doc ${p.doc_index} at r=${r}, worded so that it has to wrap: ${"considerably ".repeat(12)}so the answer is ${right ? gold[p.doc_index] : "7"}`,
            prompt_tokens: window.ids.length,
            prompt_truncated: window.truncated,
            generated_tokens: cappedDocs.includes(p.doc_index)
              ? lease.generation.max_new_tokens
              : 30,
            backend: "wasm",
            device: "seeded-gpu",
            runner_version: "dashboard-seed/1",
            timings: { ms: 5 },
          };
        }),
      );
    }
  };
  // 8-shot: every prompt is longer than the 512 − 64 tokens the window leaves.
  const base = {
    tasks: [TASK],
    limit: DOCS,
    shard_size: DOCS,
    checkpoint,
    max_gen_toks: maxGenToks,
    num_fewshot: 8,
  };
  const first = await submit.createRun({ ...base, recurrences: [1, 2] });
  await answer((doc, r) => doc < 2 * r);
  const second = await submit.createRun({ ...base, recurrences: [1, 4] });
  await answer((doc) => doc % 2 === 0);
  return {
    submitToken,
    publish: async () => {
      for (const run of [first.id, second.id]) await submit.publishRun(run);
    },
    truncatedRun: first.id,
    reuseRun: second.id,
    checkpoint,
    truncatedDocs: [...truncated].sort((a, b) => a - b),
    cappedDocs,
    maxGenToks,
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
