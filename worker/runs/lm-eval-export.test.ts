import { describe, expect, it } from "vitest";
import type { Aggregate } from "../../evals/run/records.ts";
import { lmEvalResults } from "./lm-eval-export.ts";

const aggregate = (recurrences: number, accuracy: number): Aggregate => ({
  task: "gsm8k_cot_sean",
  recurrences,
  n: 10,
  primary_metric: "exact_match,flexible-extract",
  metrics: {
    "exact_match,flexible-extract": {
      accuracy,
      stderr: 0.1,
      ci95: [accuracy - 0.2, accuracy + 0.2],
    },
  },
  mean_flops: 1e9,
  mean_generated_tokens: 20,
  mean_prompt_tokens: 100,
  backends: ["wasm"],
});

const run = {
  id: "run_1",
  checkpointName: "ckpt",
  createdAt: "2026-11-28T00:00:00.000Z",
  config: {
    checkpoint: "c",
    tasks: ["gsm8k_cot_sean"],
    recurrences: [1, 4],
    limit: 10,
    num_fewshot: null,
    kv: "full" as const,
    state_init: "zeros" as const,
    seed: 0,
    dtype: "fp32" as const,
    shard_size: 16,
    max_gen_toks: null,
  },
};
const tasks = [
  {
    task: "gsm8k_cot_sean",
    version: 1,
    numFewshot: 1,
    until: ["Q:"],
    maxGenToks: 256,
    docCount: 1319,
  },
];

describe("lmEvalResults", () => {
  it("writes lm-eval's metric and stderr keys; one r keeps the plain task name", () => {
    const out = lmEvalResults(run, tasks, [aggregate(1, 0.1), aggregate(4, 0.3)], 4);
    expect(out.results).toEqual({
      gsm8k_cot_sean: {
        alias: "gsm8k_cot_sean",
        "exact_match,flexible-extract": 0.3,
        "exact_match_stderr,flexible-extract": 0.1,
      },
    });
    expect(out["n-shot"]).toEqual({ gsm8k_cot_sean: 1 });
    expect(out["n-samples"]).toEqual({ gsm8k_cot_sean: { original: 1319, effective: 10 } });
  });

  it("names each r when several are exported", () => {
    const out = lmEvalResults(run, tasks, [aggregate(1, 0.1), aggregate(4, 0.3)]);
    expect(Object.keys(out.results)).toEqual(["gsm8k_cot_sean@r=1", "gsm8k_cot_sean@r=4"]);
  });
});
