// Stands in for `evals runner` in CLI tests: leases shards through the runner protocol
// (worker/client.ts) and posts fabricated completions whose correctness per document is fixed,
// so the API scores known answers without a model running.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { EvalsClient } from "../worker/client.ts";
import type { Capabilities, Lease, ResultIn } from "../worker/protocol.ts";
import { repoRoot } from "./cli.ts";

const capabilities: Capabilities = {
  backends: ["wasm"],
  max_parameters: 1e9,
  max_buffer_bytes: 2 ** 30,
};

/** GSM8K test answers (the number after ####) of the first `n` documents. */
export function gsm8kGolds(n: number): string[] {
  return readFileSync(join(repoRoot, "../shared/datasets/gsm8k/test.jsonl"), "utf8")
    .split("\n")
    .slice(0, n)
    .map((line) => (JSON.parse(line).answer as string).split("####").at(-1)!.trim());
}

/** Even documents answered right, odd ones wrong, at every r. */
export function fabricatedResults(lease: Lease, golds: readonly string[]): ResultIn[] {
  const r = lease.shard.recurrences;
  return lease.prompts.map((p) => ({
    doc_id: p.doc_id,
    recurrences: r,
    completion: ` Step by step at r=${r}. The answer is ${p.doc_index % 2 === 0 ? golds[p.doc_index] : "-12345"}.`,
    prompt_tokens: 50 + p.doc_index,
    generated_tokens: 10 + r,
    backend: "wasm",
    device: "fabricated",
    runner_version: "cli-test/1",
    timings: { ms: 5 },
  }));
}

/** Leases one shard and answers it; returns its run's id, or null when there is no work now. */
export async function answerOneShard(
  runner: EvalsClient,
  golds: readonly string[],
): Promise<string | null> {
  const lease = await runner.lease(capabilities, "cli-test/1");
  if (!lease) return null;
  await runner.postResults(lease.lease_id, fabricatedResults(lease, golds));
  return lease.shard.run_id;
}
