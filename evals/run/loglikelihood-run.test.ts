// evals local on loglikelihood tasks with the real stories260k: records, context reuse, FLOPs,
// lm-eval's groups, CSV and lm-eval export, and the paired check.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCheckpoint } from "../../model/checkpoint.ts";
import { exportModel } from "../../model/export-model.ts";
import { flopsPerToken } from "../../model/flops.ts";
import { stories260kDir, stories260kTokenizer } from "../../model/testing/stories.ts";
import { resultsCsv } from "../cli/results.ts";
import { summarizeAccuracy } from "../stats/accuracy.ts";
import { groupAggregates } from "./aggregate.ts";
import { compareRuns } from "./check.ts";
import { lmEvalExport } from "./lm-eval-export.ts";
import { type LocalRunOptions, runLocal } from "./local-run.ts";
import type { Aggregate, RunResults } from "./records.ts";

const work = mkdtempSync(join(tmpdir(), "evals-ll-run-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const TASKS = ["arc_easy", "winogrande", "lambada_openai", "mmlu_abstract_algebra", "mmlu_anatomy"];

describe("evals local on loglikelihood tasks (stories260k, split 1,3,1)", () => {
  let options: LocalRunOptions;
  let run: RunResults;
  beforeAll(async () => {
    const model = join(work, "ckpt");
    await exportModel({
      from: stories260kDir,
      out: model,
      split: [1, 3, 1],
      adapter: "random",
      seed: 7,
    });
    options = {
      model,
      tasks: TASKS,
      recurrences: [1, 4],
      limit: 3,
      kv: "full",
      stateInit: "zeros",
      seed: 0,
      batchSize: 4,
    };
    run = await runLocal(options);
  });

  it("one record per (task, doc, r) with each request's log-probability and lm-eval's metrics", () => {
    expect(run.samples).toHaveLength(TASKS.length * 3 * 2);
    for (const sample of run.samples) {
      const lls = sample.loglikelihoods!.map((l) => l.logprob);
      if (sample.task === "lambada_openai") {
        expect(Object.keys(sample.metrics).sort()).toEqual(["acc", "perplexity"]);
        expect(sample.metrics.perplexity).toBe(lls[0]);
        expect(sample.metrics.acc).toBe(sample.loglikelihoods![0].is_greedy ? 1 : 0);
        continue;
      }
      expect(lls.length).toBe(sample.task === "winogrande" ? 2 : 4);
      expect(String(lls.indexOf(Math.max(...lls)))).toBe(sample.extracted.choice);
      if (sample.task === "arc_easy")
        expect(Object.keys(sample.metrics).sort()).toEqual(["acc", "acc_norm"]);
    }
  });

  it("scoring every pair alone gives the same log-probabilities as one prefill per context", async () => {
    const alone = await runLocal({
      ...options,
      tasks: ["arc_easy", "mmlu_anatomy"],
      reuseContext: false,
    });
    for (const sample of alone.samples) {
      const shared = run.samples.find(
        (s) =>
          s.task === sample.task &&
          s.doc_index === sample.doc_index &&
          s.recurrences === sample.recurrences,
      )!;
      sample.loglikelihoods!.forEach((ll, i) => {
        expect(Math.abs(ll.logprob - shared.loglikelihoods![i].logprob)).toBeLessThan(1e-3);
      });
      expect(sample.metrics).toEqual(shared.metrics);
      expect(sample.key).toBe(shared.key);
    }
  });

  it("FLOPs: each request's tokens once, prompt-only, at their context lengths (DESIGN §6)", async () => {
    const tokenizer = stories260kTokenizer();
    // arc_easy document 0: four requests whose input is encode(context + continuation) minus the last token.
    const sample = run.samples.find(
      (s) => s.task === "arc_easy" && s.doc_index === 0 && s.recurrences === 4,
    )!;
    const context =
      "Question: Which statement best explains why photosynthesis is the foundation of most food webs?\nAnswer:";
    const choices = [
      "Sunlight is the source of energy for nearly all ecosystems.",
      "Most ecosystems are found on land instead of in water.",
      "Carbon dioxide is more available than other gases.",
      "The producers in all ecosystems are plants.",
    ];
    const inputs = choices.map(
      (c) => 1 + tokenizer.encode(`${context} ${c}`, { add_special_tokens: false }).ids.length - 1,
    );
    expect(sample.prompt_tokens).toBe(inputs.reduce((a, b) => a + b, 0));
    expect(sample.generated_tokens).toBe(0);
    const { manifest } = await readCheckpoint(options.model);
    let want = 0;
    for (const n of inputs) for (let t = 1; t <= n; t++) want += flopsPerToken(manifest, 4, t);
    expect(sample.flops).toBeCloseTo(want, -2);
  });

  it("mmlu groups: size-weighted means of their subjects; lm-eval export and CSV name the metrics", () => {
    const at = (task: string, r: number) =>
      run.aggregates.find((a) => a.task === task && a.recurrences === r)!;
    for (const r of [1, 4]) {
      const docs = run.samples.filter((s) => s.task.startsWith("mmlu_") && s.recurrences === r);
      expect(at("mmlu_stem", r).n).toBe(6);
      expect(at("mmlu", r).metrics.acc.accuracy).toBeCloseTo(
        docs.reduce((a, s) => a + s.metrics.acc, 0) / docs.length,
        12,
      );
    }
    const ll = at("lambada_openai", 1);
    const lls = run.samples
      .filter((s) => s.task === "lambada_openai" && s.recurrences === 1)
      .map((s) => s.metrics.perplexity);
    expect(ll.metrics.perplexity.accuracy).toBeCloseTo(
      Math.exp(-lls.reduce((a, b) => a + b, 0) / lls.length),
      9,
    );

    const exported = lmEvalExport(run, 4);
    expect(exported.results.arc_easy).toMatchObject({ alias: "arc_easy" });
    expect(Object.keys(exported.results.arc_easy).sort()).toEqual([
      "acc,none",
      "acc_norm,none",
      "acc_norm_stderr,none",
      "acc_stderr,none",
      "alias",
    ]);
    expect(exported.results.lambada_openai["perplexity,none"]).toBe(
      at("lambada_openai", 4).metrics.perplexity.accuracy,
    );
    expect(exported.higher_is_better.lambada_openai).toEqual({ acc: true, perplexity: false });
    expect(exported.group_subtasks.mmlu).toEqual(["mmlu_stem"]);
    expect(exported.group_subtasks.mmlu_stem).toEqual(["mmlu_abstract_algebra", "mmlu_anatomy"]);
    expect(exported.versions.social_iqa).toBeUndefined();
    expect(exported.configs.winogrande).toMatchObject({
      output_type: "multiple_choice",
      metadata: { version: 1 },
    });
    const csv = resultsCsv(run);
    expect(csv).toContain("\narc_easy,4,acc_norm,true,3,");
    expect(csv).toContain("\nlambada_openai,1,perplexity,false,3,");
  });

  it("evals check pairs documents on each task's primary metric", () => {
    const rows = compareRuns(run, run, { maxDropPoints: 1, alpha: 0.05 });
    expect(rows.find((r) => r.task === "arc_easy")!.metric).toBe("acc_norm");
    expect(rows.find((r) => r.task === "lambada_openai")!.metric).toBe("acc");
    expect(rows.every((r) => r.pValue === 1 && !r.regression)).toBe(true);
  });
});

describe("lm-eval's group aggregate (weight_by_size)", () => {
  it("mean over every question and the pooled stderr of the subjects", () => {
    const subject = (task: string, scores: number[]): Aggregate => {
      const s = summarizeAccuracy(scores);
      return {
        task,
        recurrences: 1,
        n: scores.length,
        primary_metric: "acc",
        metrics: { acc: { accuracy: s.accuracy, stderr: s.stderr, ci95: s.ci95 } },
        mean_flops: 10 * scores.length,
        mean_generated_tokens: 0,
        mean_prompt_tokens: 1,
        backends: ["node"],
      };
    };
    // 3/4 right in one subject, 1/6 in another: the group is 4/10, not the mean of 0.75 and 0.167.
    const a = [1, 1, 1, 0];
    const b = [1, 0, 0, 0, 0, 0];
    const groups = groupAggregates([subject("mmlu_anatomy", a), subject("mmlu_marketing", b)]);
    const mmlu = groups.find((g) => g.task === "mmlu")!;
    expect(mmlu.n).toBe(10);
    expect(mmlu.metrics.acc.accuracy).toBeCloseTo(0.4, 12);
    // pooled_sample_stderr: sqrt(Σ (n_i − 1)·se_i²·n_i / (Σ n_i − k) / Σ n_i), se_i² = var_i / n_i.
    const varA = (3 * (1 - 0.75) ** 2 + 0.75 ** 2) / 3;
    const varB = ((1 - 1 / 6) ** 2 + 5 * (1 / 6) ** 2) / 5;
    const pooled = (3 * varA + 5 * varB) / (10 - 2);
    expect(mmlu.metrics.acc.stderr).toBeCloseTo(Math.sqrt(pooled / 10), 12);
    expect(groups.find((g) => g.task === "mmlu_stem")!.n).toBe(4);
    expect(groups.find((g) => g.task === "mmlu_other")!.n).toBe(6);
    expect(mmlu.mean_flops).toBeCloseTo((40 * 4 + 60 * 6) / 10, 12);
  });
});
