// The expected shapes below are written by hand from lm-evaluation-harness's output (evaluator.py's
// results dict, EvaluationTracker's results_<date>.json and samples_<task>_<date>.jsonl), not
// from the exporter: key names, nesting, and the hashes recomputed with node:crypto.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  LmEvalRecurrenceError,
  type LmEvalRun,
  lmEvalExport,
  lmEvalResults,
  lmEvalSampleLines,
  lmEvalTaskHash,
} from "./lm-eval-export.ts";
import type { Aggregate, SampleRecord } from "./records.ts";

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

const aggregate = (recurrences: number, accuracy: number): Aggregate => ({
  task: "gsm8k_cot_sean",
  recurrences,
  n: 10,
  primary_metric: "exact_match,flexible-extract",
  metrics: {
    "exact_match,flexible-extract": { accuracy, stderr: 0.1, ci95: [0, 1] },
    "exact_match,strict-match": { accuracy: accuracy / 2, stderr: 0.05, ci95: [0, 1] },
  },
  mean_flops: 1e9,
  mean_generated_tokens: 20,
  mean_prompt_tokens: 100,
  backends: ["wasm"],
});

const run: LmEvalRun = {
  id: "run_1",
  modelName: "stories260k 1·3·1 random-s0",
  checkpointId: "ab12",
  config: { kv: "full", state_init: "zeros", seed: 0, dtype: "fp32", limit: 10, max_gen_toks: 64 },
  createdAt: "2026-11-28T10:00:00.000Z",
  finishedAt: "2026-11-28T10:02:30.000Z",
  gitHash: "deadbee",
  maxLength: 512,
};
const tasks = [{ task: "gsm8k_cot_sean", numFewshot: 1, datasetSize: 1319, maxGenToks: 64 }];

describe("lm-eval results file", () => {
  it("has lm-eval's layout for one r: task names unchanged, r in model_args and metadata", () => {
    const out = lmEvalResults(run, tasks, [aggregate(1, 0.1), aggregate(4, 0.3)], 4, {
      gsm8k_cot_sean: "hash",
    });
    expect(Object.keys(out)).toEqual(
      expect.arrayContaining([
        "results",
        "group_subtasks",
        "configs",
        "versions",
        "n-shot",
        "higher_is_better",
        "n-samples",
        "config",
        "git_hash",
        "date",
        "task_hashes",
        "model_source",
        "model_name",
        "model_name_sanitized",
        "start_time",
        "end_time",
        "total_evaluation_time_seconds",
      ]),
    );
    expect(out).not.toHaveProperty("groups"); // lm-eval writes `groups` only when there are groups
    expect(out.results).toEqual({
      gsm8k_cot_sean: {
        alias: "gsm8k_cot_sean",
        "exact_match,flexible-extract": 0.3,
        "exact_match_stderr,flexible-extract": 0.1,
        "exact_match,strict-match": 0.15,
        "exact_match_stderr,strict-match": 0.05,
      },
    });
    expect(out.group_subtasks).toEqual({ gsm8k_cot_sean: [] });
    expect(out.versions).toEqual({ gsm8k_cot_sean: 1 });
    expect(out["n-shot"]).toEqual({ gsm8k_cot_sean: 1 });
    expect(out.higher_is_better).toEqual({ gsm8k_cot_sean: { exact_match: true } });
    expect(out["n-samples"]).toEqual({ gsm8k_cot_sean: { original: 1319, effective: 10 } });
    expect(out.configs.gsm8k_cot_sean).toMatchObject({
      task: "gsm8k_cot_sean",
      dataset_path: "gsm8k",
      dataset_name: "main",
      test_split: "test",
      num_fewshot: 1,
      output_type: "generate_until",
      generation_kwargs: {
        until: ["Q:", "</s>", "<|im_end|>"],
        do_sample: false,
        max_gen_toks: 64,
      },
      metric_list: [{ metric: "exact_match", aggregation: "mean", higher_is_better: true }],
      filter_list: [{ name: "flexible-extract" }, { name: "strict-match" }],
      metadata: { version: 1, mean_recurrence: 4 },
    });
    expect(out.config).toMatchObject({
      model: "evals-recurrent",
      model_args:
        "pretrained=stories260k 1·3·1 random-s0,checkpoint=ab12,mean_recurrence=4,kv=full,state_init=zeros,dtype=fp32",
      limit: 10,
      random_seed: 0,
      fewshot_seed: 1234,
    });
    // lm-eval's model_name is what follows `pretrained=` in model_args.
    expect(out.model_name).toBe(out.config.model_args.split("pretrained=")[1].split(",")[0]);
    expect(out.git_hash).toBe("deadbee");
    expect(out.task_hashes).toEqual({ gsm8k_cot_sean: "hash" });
    expect(out.date).toBe(Date.UTC(2026, 10, 28, 10) / 1000);
    expect(out.total_evaluation_time_seconds).toBe("150");
  });

  it("lm-eval's own task names: math500 is minerva_math500", () => {
    const a = { ...aggregate(1, 0.5), task: "math500", primary_metric: "exact_match" };
    a.metrics = { exact_match: a.metrics["exact_match,flexible-extract"] };
    const out = lmEvalResults(run, [], [a], 1);
    expect(Object.keys(out.results)).toEqual(["minerva_math500"]);
    expect(out.configs.minerva_math500).toMatchObject({ dataset_path: "HuggingFaceH4/MATH-500" });
  });

  it("a local file with several r needs one picked", () => {
    const local = {
      config: {
        checkpoint_name: "c",
        limit: null,
        num_fewshot: null,
        kv: "full",
        state_init: "zeros",
        seed: 0,
        dtype: "fp32",
        max_gen_toks: null,
      },
      aggregates: [aggregate(1, 0.1), aggregate(4, 0.3)],
      created_at: run.createdAt,
    };
    expect(() => lmEvalExport(local)).toThrow(LmEvalRecurrenceError);
    expect(() => lmEvalExport(local)).toThrow(/r = 1, 4; pick one \(--r 4\)/);
    expect(lmEvalExport(local, 1).results.gsm8k_cot_sean["exact_match,flexible-extract"]).toBe(0.1);
  });
});

describe("lm-eval --log_samples lines", () => {
  const doc = {
    question: "Janet’s ducks lay 16 eggs per day. How many?",
    answer: "16 - 3 = 13\n#### 13",
  };
  const prompt = "Q: Janet’s ducks lay 16 eggs per day. How many?\nA: Let's think step by step.";
  const record = {
    doc_index: 3,
    completion: " 16 - 3 = 13. The answer is 13.",
    extracted: { "strict-match": "13", "flexible-extract": "13" },
    metrics: { "exact_match,strict-match": 1, "exact_match,flexible-extract": 1 },
  } as unknown as SampleRecord;

  it("one line per (document, filter) with lm-eval's fields and hashes", async () => {
    const lines = await lmEvalSampleLines(
      "gsm8k_cot_sean",
      [record],
      new Map([[3, { doc_index: 3, doc, prompt, gold: doc.answer }]]),
      64,
    );
    const shared = {
      doc_id: 3,
      doc,
      target: "13",
      arguments: {
        gen_args_0: {
          arg_0: prompt,
          arg_1: {
            until: ["Q:", "</s>", "<|im_end|>"],
            do_sample: false,
            temperature: 0,
            max_gen_toks: 64,
          },
        },
      },
      resps: [[" 16 - 3 = 13. The answer is 13."]],
      metrics: ["exact_match"],
      // json.dumps(doc, indent=2, ensure_ascii=False), written out by hand:
      doc_hash: sha256(
        '{\n  "question": "Janet’s ducks lay 16 eggs per day. How many?",\n  "answer": "16 - 3 = 13\\n#### 13"\n}',
      ),
      prompt_hash: sha256(prompt),
      target_hash: sha256("13"),
      exact_match: 1,
    };
    expect(lines).toEqual([
      { ...shared, filtered_resps: ["13"], filter: "strict-match" },
      { ...shared, filtered_resps: ["13"], filter: "flexible-extract" },
    ]);
    // EvaluationTracker's task hash: sha256 of the concatenated doc+prompt+target hashes.
    const one = `${shared.doc_hash}${shared.prompt_hash}${shared.target_hash}`;
    expect(await lmEvalTaskHash(lines)).toBe(sha256(one + one));
  });
});
