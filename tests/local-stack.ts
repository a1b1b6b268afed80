// A real local coordinator for end-to-end tests: `wrangler dev` on a free port with its own state
// folder, tokens per role, and helpers that upload a checkpoint and the GSM8K files through the
// public API exactly as a client would.
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runLocal } from "../evals/run/local-run.ts";
import type { RunResults } from "../evals/run/records.ts";
import { readCheckpoint } from "../model/checkpoint.ts";
import { exportModel } from "../model/export-model.ts";
import { allGraphFiles } from "../model/graph-sets.ts";
import { stories260kDir } from "../model/testing/stories.ts";
import { EvalsClient } from "../worker/client.ts";
import { type LocalApi, startLocalApi, unusedPort } from "../worker/dev.ts";
import { repoRoot } from "./cli.ts";
import { migratedState } from "./migrated-state.ts";

export interface TestStack {
  api: LocalApi;
  admin: EvalsClient;
  submit: EvalsClient;
  submitToken: string;
  runnerToken: string;
  runner: EvalsClient;
  /** Stops `wrangler dev` and starts it again on the same port and state (an API restart). */
  restartApi(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestStack(vars: Record<string, string> = {}): Promise<TestStack> {
  const persistTo = await migratedState();
  const port = await unusedPort();
  const api = await startLocalApi({ port, persistTo, quiet: true, vars, migrated: true });
  const admin = new EvalsClient({ baseUrl: api.url, token: api.adminToken });
  const submitToken = (await admin.createToken({ role: "submit", name: "test-submit" })).token;
  const runnerToken = (await admin.createToken({ role: "runner", name: "test-runner" })).token;
  const stack: TestStack = {
    api,
    admin,
    submit: new EvalsClient({ baseUrl: api.url, token: submitToken }),
    submitToken,
    runnerToken,
    runner: new EvalsClient({ baseUrl: api.url, token: runnerToken }),
    async restartApi() {
      await stack.api.stop();
      stack.api = await startLocalApi({ port, persistTo, quiet: true, vars, migrated: true });
    },
    async stop() {
      await stack.api.stop();
      rmSync(persistTo, { recursive: true, force: true });
    },
  };
  return stack;
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Uploads every file of an exported checkpoint and registers its manifest; returns its id. */
export async function uploadCheckpoint(client: EvalsClient, dir: string): Promise<string> {
  const { manifest } = await readCheckpoint(dir);
  const names = allGraphFiles(manifest).map((graph) => graph.file);
  for (const name of [...names, ...Object.keys(manifest.tokenizer.files)]) {
    const bytes = new Uint8Array(readFileSync(join(dir, name)));
    await client.uploadBlob(sha256(bytes), bytes);
  }
  return (await client.registerCheckpoint({ manifest })).id;
}

/** GSM8K's test split and the CoT exemplars from ../shared/datasets, registered as `gsm8k`. */
export async function registerGsm8k(client: EvalsClient): Promise<void> {
  const files: Record<string, string> = {};
  for (const name of ["test.jsonl", "fewshot_gsm8k_cot_8shot.jsonl"]) {
    const bytes = new Uint8Array(readFileSync(join(repoRoot, "../shared/datasets/gsm8k", name)));
    files[name] = sha256(bytes);
    await client.uploadBlob(files[name], bytes);
  }
  await client.registerDataset({ name: "gsm8k", files });
}

export interface StoriesStack extends TestStack {
  /** A temporary folder for the test, removed by `stop()`. */
  work: string;
  /** stories260k exported as prelude 1 / block 3 / coda 1, random adapter, seed 7. */
  checkpointDir: string;
  checkpointId: string;
}

/** A test stack holding the stories260k 1,3,1 checkpoint and GSM8K, ready for runs. */
export async function startStoriesStack(vars: Record<string, string> = {}): Promise<StoriesStack> {
  const work = mkdtempSync(join(tmpdir(), "evals-e2e-"));
  const checkpointDir = join(work, "ckpt");
  await exportModel({ from: stories260kDir, out: checkpointDir, split: [1, 3, 1], seed: 7 });
  const stack = await startTestStack(vars);
  const checkpointId = await uploadCheckpoint(stack.submit, checkpointDir);
  await registerGsm8k(stack.submit);
  const stopApi = stack.stop;
  // The same object, so that `api` follows `restartApi()`.
  return Object.assign(stack, {
    work,
    checkpointDir,
    checkpointId,
    async stop() {
      await stopApi();
      rmSync(work, { recursive: true, force: true });
    },
  });
}

export interface ReferenceRun {
  limit: number;
  recurrences: number[];
  maxGenToks: number;
  seed?: number;
}

/**
 * The stack's checkpoint through `evals local` (onnxruntime-node in-process, no API): full KV,
 * zero state, batch 1, the GSM8K CoT task the stacks register. API runs must equal it. A file
 * asking twice for the same documents gets the first answer again, as the engine is deterministic.
 */
export function referenceRun(stack: StoriesStack, run: ReferenceRun): Promise<RunResults> {
  const key = JSON.stringify([stack.checkpointDir, run]);
  let result = referenceRuns.get(key);
  if (!result) {
    result = runLocal({
      model: stack.checkpointDir,
      tasks: ["gsm8k_cot_sean"],
      recurrences: run.recurrences,
      limit: run.limit,
      kv: "full",
      stateInit: "zeros",
      seed: run.seed ?? 0,
      batchSize: 1,
      maxGenToks: run.maxGenToks,
      dataDir: join(repoRoot, "../shared/datasets"),
    });
    referenceRuns.set(key, result);
  }
  return result;
}

const referenceRuns = new Map<string, Promise<RunResults>>();
