// `evals check` on fabricated result files, and `evals score` / argument errors of the run verbs.
// The binary runs for the first check (exit 0), the regression (exit 1) and --version; every other
// case calls the same program in-process (tests/cli.ts).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { aggregateSamples } from "../evals/run/aggregate.ts";
import type { RunResults, SampleRecord } from "../evals/run/records.ts";
import { runCli, runCliInProcess } from "./cli.ts";

const work = mkdtempSync(join(tmpdir(), "evals-check-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A run whose doc i at recurrence r is correct when `correct(i, r)`. */
function fabricate(
  name: string,
  docs: number,
  correct: (doc: number, r: number) => boolean,
  dtype: SampleRecord["dtype"] = "fp32",
  graphVariant?: SampleRecord["graph_variant"],
): string {
  const samples: SampleRecord[] = [];
  for (const r of [1, 4]) {
    for (let i = 0; i < docs; i++) {
      const ok = correct(i, r) ? 1 : 0;
      samples.push({
        key: `${name}-${r}-${i}`,
        task: "gsm8k_cot_sean",
        task_hash: "t",
        doc_index: i,
        doc_id: `gsm8k/${i}`,
        doc_hash: `doc${i}`,
        recurrences: r,
        prompt_hash: "p",
        completion: ok ? "The answer is 1." : "The answer is 2.",
        prompt_tokens: 10,
        generated_tokens: 5,
        prompt_truncated: false,
        flops: 1e6 * r,
        backend: "node",
        kv: "full",
        state_init: "zeros",
        seed: 0,
        dtype,
        adapter: "random",
        runner_version: "test",
        ms: 1,
        extracted: {},
        metrics: { "exact_match,flexible-extract": ok, "exact_match,strict-match": ok },
        ...(graphVariant ? { graph_variant: graphVariant } : {}),
      });
    }
  }
  const results: RunResults = {
    format: "evals-run-1",
    created_at: new Date(0).toISOString(),
    config: {
      model: name,
      checkpoint_name: name,
      checkpoint_graphs: [],
      tasks: ["gsm8k_cot_sean"],
      recurrences: [1, 4],
      limit: null,
      num_fewshot: null,
      kv: "full",
      state_init: "zeros",
      seed: 0,
      dtype,
      max_gen_toks: null,
    },
    aggregates: aggregateSamples(samples),
    samples,
  };
  const path = join(work, `${name}.json`);
  writeFileSync(path, JSON.stringify(results));
  return path;
}

const baseline = fabricate("baseline", 200, (i) => i % 2 === 0);

describe("evals check", () => {
  it("passes identical runs", async () => {
    const result = await runCli(["check", "--run", baseline, "--baseline", baseline]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /\| gsm8k_cot_sean \| 4 \| exact_match,flexible-extract \| 200 \| 50\.0% \| 50\.0% \| \+0\.0 \| 1\.00 \| ok \|/,
    );
    // Exact two-sided McNemar with k one-way flips: p = 2 · 2^-k; p < 0.05 first at k = 6.
    expect(result.stdout).toContain(
      "Power: with 200 paired documents the smallest drop this check can detect at alpha 0.05 is 3.0 points (6 documents flipping one way)",
    );
  });

  it("refuses runs of different precision unless asked, then reports the precision's cost", async () => {
    // At r = 4 the q4 run gets documents 0, 2, 4, 6, 8 wrong (right at fp32) and document 1 right
    // (wrong at fp32): 5 and 1 discordant, exact two-sided McNemar p = 2 · (1 + 6) / 2^6 = 0.21875.
    const q4 = fabricate("q4", 200, (i, r) => (r === 4 && i < 10 ? i === 1 : i % 2 === 0), "q4");
    const refused = await runCliInProcess(["check", "--run", q4, "--baseline", baseline]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /candidate ran at q4 and the baseline at fp32 .*--allow-precision-mismatch/,
    );
    const allow = ["--allow-precision-mismatch"];
    const allowed = await runCliInProcess(["check", "--run", q4, "--baseline", baseline, ...allow]);
    expect(allowed.code).toBe(0);
    const r4 =
      "precision cost gsm8k_cot_sean r=4: fp32 50.0% → q4 48.0% on 200 paired documents " +
      "(−2.0 points; 5 right only at fp32, 1 only at q4; McNemar p = 0.219)";
    expect(allowed.stdout).toContain(r4);
    expect(allowed.stdout).toContain(
      "precision cost gsm8k_cot_sean r=1: fp32 50.0% → q4 50.0% on 200 paired documents " +
        "(+0.0 points; 0 right only at fp32, 0 only at q4; McNemar p = 1.00)",
    );
    // The fp32 side is the reference whichever side of the check it is on.
    const swapped = await runCliInProcess(["check", "--run", baseline, "--baseline", q4, ...allow]);
    expect(swapped.stdout).toContain(r4);
    const json = await runCliInProcess([
      "check",
      "--run",
      q4,
      "--baseline",
      baseline,
      ...allow,
      "--json",
    ]);
    expect(JSON.parse(json.stdout).rows[1].precisionCost).toMatchObject({
      reference: "fp32",
      lossy: "q4",
      only_reference: 5,
      only_lossy: 1,
    });
    // Runs of one precision carry no precision line.
    const same = await runCliInProcess(["check", "--run", baseline, "--baseline", baseline]);
    expect(same.stdout).not.toContain("precision cost");
  });

  it("counts fp16 compute (webgpu_f16 graphs) as another precision than the same weights in fp32", async () => {
    const fp16 = fabricate("fp16", 200, (i) => i % 2 === 0, "fp16");
    const f16Compute = fabricate("fp16-compute", 200, (i) => i % 2 === 0, "fp16", "webgpu_f16");
    const refused = await runCliInProcess(["check", "--run", f16Compute, "--baseline", fp16]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /candidate ran at fp16 with fp16 compute and the baseline at fp16 .*--allow-precision-mismatch/,
    );
    const allowed = await runCliInProcess([
      "check",
      "--run",
      f16Compute,
      "--baseline",
      fp16,
      "--allow-precision-mismatch",
    ]);
    expect(allowed.code).toBe(0);
    const same = await runCliInProcess(["check", "--run", f16Compute, "--baseline", f16Compute]);
    expect(same.code).toBe(0);
  });

  it("fails a significant drop and names the (task, r)", async () => {
    // At r = 4, 40 of the 100 correct documents become wrong: −20 points, p ≈ 1.8e-12.
    const dropped = fabricate("dropped", 200, (i, r) => i % 2 === 0 && !(r === 4 && i < 80));
    const result = await runCli(["check", "--run", dropped, "--baseline", baseline]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/regression: gsm8k_cot_sean r=4 \(-20\.0 points/);
    expect(result.stdout).toMatch(/\| gsm8k_cot_sean \| 1 \|.*\| ok \|/);
    const json = await runCliInProcess([
      "check",
      "--run",
      dropped,
      "--baseline",
      baseline,
      "--json",
    ]);
    expect(JSON.parse(json.stdout).regressions).toBe(1);
  });

  it("passes a drop within noise", async () => {
    // 3 documents flip to wrong and 1 to right: −1 point, p = 0.625.
    const noisy = fabricate("noisy", 200, (i, r) =>
      r === 4 && (i === 0 || i === 2 || i === 4) ? false : r === 4 && i === 1 ? true : i % 2 === 0,
    );
    const result = await runCliInProcess([
      "check",
      "--run",
      noisy,
      "--baseline",
      baseline,
      "--max-drop",
      "0.5",
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\| 4 \|.*\| -1\.0 \| 0\.625 \| ok \|/);
  });

  it("evals results reads a local results file: table, CSV and lm-eval", async () => {
    const table = await runCliInProcess(["results", baseline]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(
      /gsm8k_cot_sean\s+4\s+200\s+exact_match,flexible-extract\s+50\.0% \(43\.1–56\.9\)/,
    );
    const csv = await runCliInProcess(["results", baseline, "--format", "csv"]);
    const [header, first] = csv.stdout.trim().split("\n");
    expect(header.split(",").slice(0, 6)).toEqual([
      "task",
      "recurrences",
      "metric",
      "primary",
      "n",
      "accuracy",
    ]);
    // The metric name holds a comma, so CSV quotes it.
    expect(first).toMatch(/^gsm8k_cot_sean,1,"exact_match,flexible-extract",true,200,0\.5,/);
    const lm = await runCliInProcess(["results", baseline, "--format", "lm-eval", "--r", "4"]);
    expect(lm.code, lm.stderr).toBe(0);
    const exported = JSON.parse(lm.stdout);
    expect(exported.results.gsm8k_cot_sean["exact_match,flexible-extract"]).toBe(0.5);
    expect(exported["n-shot"].gsm8k_cot_sean).toBe(1);
  });

  it("refuses files that are not run results", async () => {
    const bogus = join(work, "bogus.json");
    writeFileSync(bogus, JSON.stringify({ hello: 1 }));
    const result = await runCliInProcess(["check", "--run", bogus, "--baseline", baseline]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--run .*bogus\.json: field format/);
  });
});

describe("argument errors of the run verbs", () => {
  it.each(["1,,4", "0", "-1", "abc", "257"])(
    "--recurrences %s → exit 2 with one line",
    async (value) => {
      const result = await runCliInProcess(["local", "--model", work, "--recurrences", value]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/--recurrences/);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
    },
  );

  it("evals local refuses --threads 0 with one line, before any work", async () => {
    const result = await runCli(["local", "--model", work, "--threads", "0"]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toMatch(/^.*--threads 0 must be between 1 and 64[^\n]*$/);
  });

  it("names the known tasks for an unknown one", async () => {
    const result = await runCliInProcess(["local", "--model", work, "--tasks", "gsm9k"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown task "gsm9k"; known tasks: gsm8k, gsm8k_cot/);
  });

  it("evals tasks lists names, versions, shots and metrics; --version prints the version", async () => {
    const tasks = await runCliInProcess(["tasks", "--json"]);
    expect(tasks.code, tasks.stderr).toBe(0);
    const byName = new Map(
      JSON.parse(tasks.stdout).tasks.map((t: { name: string }) => [t.name, t]),
    );
    // lm-eval's gsm8k_cot is 8-shot; minerva_math is 4-shot with exact_match and math_verify.
    expect(byName.get("gsm8k_cot")).toMatchObject({ num_fewshot: 8, benchmark: true });
    expect(byName.get("minerva_math")).toMatchObject({ num_fewshot: 4 });
    expect((byName.get("minerva_math") as { metrics: string[] }).metrics).toContain("math_verify");
    expect(byName.get("arithmetic_word_problems")).toMatchObject({ benchmark: false });
    const version = await runCli(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("evals score prints one JSON line per input and reports malformed lines by number", async () => {
    const input = join(work, "completions.jsonl");
    writeFileSync(
      input,
      `${JSON.stringify({ id: "a", completion: "So 18. The answer is 18.", gold: "x\n#### 18" })}\n`,
    );
    const result = await runCliInProcess(["score", "--task", "gsm8k_cot", "--input", input]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      id: "a",
      extracted: { "strict-match": "18", "flexible-extract": "18.", "strict-match-fixed": "18" },
      metrics: {
        "exact_match,strict-match": 1,
        "exact_match,flexible-extract": 1,
        "exact_match,strict-match-fixed": 1,
      },
    });
    expect(result.stderr).toMatch(/exact_match,flexible-extract\s+100\.00%/);
    writeFileSync(input, `${JSON.stringify({ completion: "x", gold: "y" })}\n{"completion": 3}\n`);
    const bad = await runCliInProcess(["score", "--task", "gsm8k_cot", "--input", input]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/completions\.jsonl:2: field completion/);
  });
});
