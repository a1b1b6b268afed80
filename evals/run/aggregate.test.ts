import { describe, expect, it } from "vitest";
import { aggregateSamples } from "./aggregate.ts";
import type { SampleRecord } from "./records.ts";

function sample(doc: number, backend: SampleRecord["backend"], graphVariant?: "webgpu_f16") {
  return {
    key: `k${doc}`,
    task: "gsm8k_cot_sean",
    task_hash: "t",
    doc_index: doc,
    doc_id: `gsm8k/${doc}`,
    doc_hash: `doc${doc}`,
    recurrences: 4,
    prompt_hash: "p",
    completion: "The answer is 1.",
    prompt_tokens: 10,
    generated_tokens: 5,
    prompt_truncated: false,
    flops: 1e6,
    backend,
    kv: "full",
    state_init: "zeros",
    seed: 0,
    dtype: "fp16",
    adapter: "random",
    runner_version: "test",
    ms: 1,
    extracted: {},
    metrics: { "exact_match,flexible-extract": 1, "exact_match,strict-match": 1 },
    ...(graphVariant ? { graph_variant: graphVariant } : {}),
  } satisfies SampleRecord;
}

describe("aggregateSamples", () => {
  it("names the fp16-compute graphs among an r's backends, so a mix of precisions shows", () => {
    const [mixed] = aggregateSamples([
      sample(0, "webgpu", "webgpu_f16"),
      sample(1, "wasm"),
      sample(2, "webgpu", "webgpu_f16"),
    ]);
    expect(mixed.backends).toEqual(["wasm", "webgpu (webgpu_f16 graphs)"]);
    const [plain] = aggregateSamples([sample(0, "webgpu"), sample(1, "webgpu")]);
    expect(plain.backends).toEqual(["webgpu"]);
  });
});
