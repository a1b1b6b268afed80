// A coordinator with tokens, a registered checkpoint and the real GSM8K files, for route tests.
import { env } from "cloudflare:test";
import type { Dataset, Lease, LeaseRequest, ResultIn, RunCreate, RunDetail } from "../protocol.ts";
import { call, expectJson, makeToken, uploadBlob } from "./api.ts";
import { checkpointFixture, registerCheckpoint } from "./checkpoint-fixture.ts";

export interface World {
  submit: string;
  runner: string;
  runner2: string;
  trusted: string;
  checkpoint: string;
}

export async function setupWorld(): Promise<World> {
  const submit = await makeToken("submit");
  const world = {
    submit,
    runner: await makeToken("runner", "runner-1"),
    runner2: await makeToken("runner", "runner-2"),
    trusted: await makeToken("runner", "trusted-runner", true),
    checkpoint: await registerCheckpoint(submit, await checkpointFixture()),
  };
  await registerGsm8k(submit);
  return world;
}

export async function registerGsm8k(token: string): Promise<Dataset> {
  const files = {
    "test.jsonl": await uploadBlob(token, env.TEST_GSM8K_TEST),
    "fewshot_gsm8k_cot_8shot.jsonl": await uploadBlob(token, env.TEST_GSM8K_COT_FEWSHOT),
  };
  const res = await call("POST", "/api/datasets", { token, json: { name: "gsm8k", files } });
  if (res.status !== 201 && res.status !== 200) throw new Error(`dataset: ${await res.text()}`);
  return res.json();
}

export function createRun(world: World, overrides: Partial<RunCreate> = {}): Promise<RunDetail> {
  return expectJson<RunDetail>(201, "POST", "/api/runs", {
    token: world.submit,
    json: {
      checkpoint: world.checkpoint,
      tasks: ["gsm8k_cot_sean"],
      recurrences: [1, 4],
      limit: 6,
      shard_size: 3,
      ...overrides,
    },
  });
}

export const CAPABILITIES: LeaseRequest = {
  capabilities: { backends: ["wasm"], max_parameters: 10_000_000, max_buffer_bytes: 2 ** 30 },
  runner_version: "test-runner/1",
};

/** A lease, or null on 204. */
export async function lease(token: string, request = CAPABILITIES): Promise<Lease | null> {
  const res = await call("POST", "/api/leases", { token, json: request });
  if (res.status === 204) return null;
  if (res.status !== 200) throw new Error(`lease: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Completions for every prompt of a lease; `answer(docId)` says what each one ends with. */
export function completions(lease: Lease, answer: (docId: string) => string): ResultIn[] {
  return lease.prompts.map((prompt) => ({
    doc_id: prompt.doc_id,
    recurrences: lease.shard.recurrences,
    completion: ` Let me think. The answer is ${answer(prompt.doc_id)}.`,
    prompt_tokens: 100 + prompt.doc_index,
    generated_tokens: 20,
    backend: "wasm",
    device: "test device",
    runner_version: "test-runner/1",
    timings: { ms: 12.5 },
  }));
}

export function postResults(token: string, leaseId: string, results: ResultIn[]) {
  return call("POST", `/api/leases/${leaseId}/results`, { token, json: { results } });
}
