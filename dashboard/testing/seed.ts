// Seeds a running coordinator through its real API (worker/client.ts) with what the dashboard
// shows: two recurrent checkpoints and a non-recurrent baseline cut from the same source as the
// first, three published runs with fabricated completions whose correctness per (doc, r) is
// fixed below, and one unpublished run left half done (for live progress).
//
//   npx tsx dashboard/testing/seed.ts http://127.0.0.1:8787 <admin token>   # by hand, to look
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Aggregate } from "../../evals/run/records.ts";
import { summarizeAccuracy } from "../../evals/stats/accuracy.ts";
import { flopsForSample } from "../../model/flops.ts";
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

export async function seed(baseUrl: string, adminToken: string): Promise<Seeded> {
  const admin = new EvalsClient({ baseUrl, token: adminToken });
  const token = async (role: "submit" | "runner", name: string, trusted = false) =>
    new EvalsClient({ baseUrl, token: (await admin.createToken({ role, name, trusted })).token });
  const submitToken = (await admin.createToken({ role: "submit", name: "dashboard-seed" })).token;
  const submit = new EvalsClient({ baseUrl, token: submitToken });
  const trusted = await token("runner", "trusted-runner", true);
  const community = await token("runner", "community-runner");
  const gold = golds();

  await registerGsm8k(submit);

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

export async function seedComparisons(baseUrl: string, adminToken: string): Promise<SeededExtras> {
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
  const fixtureA = await checkpointFixture("a");
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

/**
 * Published runs of general (loglikelihood) tasks, in the shape the worker stores and its run view
 * and leaderboard return: a `runs` row with `published_aggregates` (lm-eval metric names: `acc`,
 * `acc_norm`, `perplexity` with its value in `accuracy`), `run_tasks` rows (0-shot, a dataset
 * version registered and canonical under the task's name). Written straight into the local D1
 * database (`wrangler d1 execute --local`) until the API can create such runs itself.
 */
export const GENERAL_CORRECT: Record<"arc_easy" | "lambada_openai", Record<number, number>> = {
  arc_easy: { 1: 4, 2: 5, 4: 5, 8: 6 },
  lambada_openai: { 1: 2, 2: 3, 4: 3, 8: 3 },
};
const LAMBADA_PERPLEXITY: Record<number, number> = { 1: 41.5, 2: 30.25, 4: 28, 8: 27.5 };

export async function seedGeneralRuns(
  persistTo: string,
  checkpointId: string,
): Promise<{ run: string }> {
  const fixture = await checkpointFixture("a");
  const run = `run_general_${checkpointId.slice(0, 8)}`;
  const now = new Date().toISOString();
  const aggregates: Aggregate[] = [];
  for (const [task, byR] of Object.entries(GENERAL_CORRECT)) {
    for (const [r, right] of Object.entries(byR).map(([r, k]) => [Number(r), k])) {
      const scores = Array.from({ length: DOCS }, (_, i) => (i < right ? 1 : 0));
      const { accuracy, stderr, ci95 } = summarizeAccuracy(scores);
      const metrics: Aggregate["metrics"] = { acc: { accuracy, stderr, ci95 } };
      if (task === "arc_easy") metrics.acc_norm = { accuracy, stderr, ci95 };
      if (task === "lambada_openai") {
        const ppl = LAMBADA_PERPLEXITY[r];
        metrics.perplexity = { accuracy: ppl, stderr: ppl / 10, ci95: [ppl * 0.8, ppl * 1.25] };
      }
      aggregates.push({
        task,
        recurrences: r,
        n: DOCS,
        primary_metric: task === "arc_easy" ? "acc_norm" : "acc",
        metrics,
        interval: "wilson",
        // A loglikelihood sample is prompt-only compute: ~60 prompt tokens, nothing generated.
        mean_flops: flopsForSample(fixture.manifest, r, 60, 0),
        mean_generated_tokens: 0,
        mean_prompt_tokens: 60,
        backends: ["wasm"],
      });
    }
  }
  const config = {
    checkpoint: checkpointId,
    tasks: Object.keys(GENERAL_CORRECT),
    recurrences: [1, 2, 4, 8],
    limit: DOCS,
    num_fewshot: null,
    kv: "full",
    state_init: "zeros",
    seed: 0,
    dtype: null,
    shard_size: 4,
    max_gen_toks: null,
  };
  const q = (value: string) => `'${value.replaceAll("'", "''")}'`;
  const sql = [
    `INSERT INTO runs (id, checkpoint_id, config, state, published, published_aggregates, verified, created_by, created_at, finished_at) VALUES (${q(run)}, ${q(checkpointId)}, ${q(JSON.stringify(config))}, 'finished', 1, ${q(JSON.stringify(aggregates))}, 1, 'seed', ${q(now)}, ${q(now)});`,
    ...Object.keys(GENERAL_CORRECT).flatMap((task) => {
      const dataset = Buffer.from(task.padEnd(32, ".")).toString("hex");
      return [
        `INSERT OR IGNORE INTO datasets (id, name, files, created_at) VALUES (${q(dataset)}, ${q(task)}, '{}', ${q(now)});`,
        `INSERT OR IGNORE INTO canonical_datasets (name, dataset_id, set_by, set_at) VALUES (${q(task)}, ${q(dataset)}, NULL, ${q(now)});`,
        `INSERT INTO run_tasks (run_id, task, task_hash, dataset_id, num_fewshot, doc_count, dataset_files) VALUES (${q(run)}, ${q(task)}, ${q(`hash-${task}`)}, ${q(dataset)}, 0, ${DOCS}, '{}');`,
      ];
    }),
  ].join("\n");
  const file = join(tmpdir(), `evals-general-seed-${process.pid}.sql`);
  writeFileSync(file, sql);
  try {
    const result = spawnSync(
      join(root, "node_modules/.bin/wrangler"),
      ["d1", "execute", "evals", "--local", "--persist-to", persistTo, "--file", file, "--yes"],
      {
        cwd: root,
        encoding: "utf8",
        env: {
          ...process.env,
          WRANGLER_SEND_METRICS: "false",
          CLOUDFLARE_CF_FETCH_ENABLED: "false",
          WRANGLER_LOG_PATH: join(root, ".wrangler/logs"),
          CI: "1",
        },
      },
    );
    if (result.status !== 0) {
      throw new Error(
        `wrangler d1 execute failed (${result.status}): ${result.stderr}${result.stdout}`,
      );
    }
  } finally {
    rmSync(file, { force: true });
  }
  return { run };
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
