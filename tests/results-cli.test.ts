// `evals runs` and `evals results` through the real command line against a real local API. The
// run is seeded through worker/client.ts, and its completions are fabricated and posted through
// the runner protocol (no model runs): even documents right, odd ones wrong, at every r. Last,
// `evals check` on two arc_easy runs whose log-probabilities are posted the same way.
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportModel } from "../model/export-model.ts";
import { stories260kDir } from "../model/testing/stories.ts";
import { unusedPort } from "../worker/dev.ts";
import type { ResultIn } from "../worker/protocol.ts";
import { repoRoot, runCli, runCliInProcess } from "./cli.ts";
import { answerOneShard, gsm8kGolds } from "./fabricated-runner.ts";
import { registerGsm8k, startTestStack, type TestStack, uploadCheckpoint } from "./local-stack.ts";

const TASK = "gsm8k_cot_sean";
let stack: TestStack;
let work: string;
let env: NodeJS.ProcessEnv;
let finished: string;
let pending: string;
let checkpointId: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "evals-results-cli-"));
  const ckpt = join(work, "ckpt");
  await exportModel({ from: stories260kDir, out: ckpt, split: [1, 3, 1] });
  stack = await startTestStack();
  const checkpoint = await uploadCheckpoint(stack.submit, ckpt);
  checkpointId = checkpoint;
  await registerGsm8k(stack.submit);
  const base = { checkpoint, tasks: [TASK], limit: 6, shard_size: 3 };
  finished = (await stack.submit.createRun({ ...base, recurrences: [1, 2] })).id;
  const golds = gsm8kGolds(6);
  while (await answerOneShard(stack.runner, golds));
  pending = (await stack.submit.createRun({ ...base, recurrences: [8] })).id;
  // Runs belong to the token that made them: the CLI reads them with that submit token.
  env = {
    EVALS_API: stack.api.url,
    EVALS_TOKEN: stack.submitToken,
    EVALS_CONFIG: "",
    XDG_CONFIG_HOME: join(work, "config-home"),
  };
});

afterAll(async () => {
  await stack?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

// The binary runs for the run list, the results table and cancel/publish; every other case calls
// the same program in-process (tests/cli.ts).
const binary = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
  runCli(args, { env: { ...env, ...extraEnv } });
const cli = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
  runCliInProcess(args, { env: { ...env, ...extraEnv } });

describe("evals runs", () => {
  it("lists every run with a submit token, newest first", async () => {
    const result = await binary(["runs"]);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trim().split("\n");
    expect(lines[0]).toMatch(
      /^run\s+state\s+checkpoint\s+hash\s+tasks\s+r\s+limit\s+created \(UTC\)$/,
    );
    expect(lines[2]).toMatch(
      new RegExp(
        `^${pending}\\s+active\\s+stories260k 1·3·1 random-s0\\s+[0-9a-f]{10}\\s+${TASK}\\s+8\\s+6`,
      ),
    );
    expect(lines[3]).toMatch(
      new RegExp(
        `^${finished}\\s+finished\\s+stories260k 1·3·1 random-s0\\s+[0-9a-f]{10}\\s+${TASK}\\s+1,2`,
      ),
    );
  });

  it("--json gives the API's list with each run's page", async () => {
    const result = await cli(["runs", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const { runs } = JSON.parse(result.stdout);
    expect(runs.map((r: { id: string }) => r.id)).toEqual([pending, finished]);
    expect(runs[1]).toMatchObject({
      state: "finished",
      url: `${stack.api.url}/run?id=${finished}`,
      config: { recurrences: [1, 2], limit: 6 },
    });
  });

  it("without a token shows published runs only, and says so", async () => {
    const result = await cli(["runs"], { EVALS_TOKEN: "" });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^no published \(give a submit token to see all\) runs at /);
  });
});

describe("evals results", () => {
  it("prints the table: accuracy with its 95% Wilson CI, n, FLOPs, tokens and backends per r", async () => {
    const result = await binary(["results", finished]);
    expect(result.code, result.stderr).toBe(0);
    for (const r of [1, 2]) {
      expect(result.stdout).toMatch(
        new RegExp(
          `${TASK}\\s+${r}\\s+6\\s+exact_match,flexible-extract\\s+50\\.0% \\(18\\.8–81\\.2\\)\\s+\\d\\.\\d{3}e\\+\\d+\\s+${10 + r}\\.0\\s+0/6\\s+wasm`,
        ),
      );
    }
    expect(result.stdout).toContain(
      `run ${finished} (stories260k 1·3·1 random-s0, ${checkpointId.slice(0, 10)}) finished: 12/12 samples`,
    );
    expect(result.stdout.trim().split("\n").at(-1)).toBe(`${stack.api.url}/run?id=${finished}`);
  });

  it("says when a run has no results yet", async () => {
    const result = await cli(["results", pending]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^no results yet/);
    expect(result.stdout).toContain("active: 0/6 samples");
  });

  it("--format json is the API's run document", async () => {
    const result = await cli(["results", finished, "--format", "json"]);
    expect(result.code, result.stderr).toBe(0);
    const run = JSON.parse(result.stdout);
    expect(run.id).toBe(finished);
    expect(run.aggregates).toHaveLength(2);
    expect(run.aggregates[0].metrics["exact_match,flexible-extract"].accuracy).toBe(0.5);
    expect(run.url).toBe(`${stack.api.url}/run?id=${finished}`);
  });

  it("--format csv has one row per task × r × metric, the primary metric first", async () => {
    const result = await cli(["results", finished, "--format", "csv"]);
    expect(result.code, result.stderr).toBe(0);
    const [header, ...rows] = result.stdout.trim().split("\n");
    expect(header).toBe(
      "task,recurrences,metric,primary,n,accuracy,stderr,wilson95_low,wilson95_high,mean_flops,mean_generated_tokens,mean_prompt_tokens,backends",
    );
    const run = await stack.submit.getRun(finished);
    const metrics = Object.keys(run.aggregates[0].metrics);
    expect(rows).toHaveLength(2 * metrics.length);
    // lm-eval's metric names hold a comma, so they are quoted.
    expect(rows[0]).toMatch(new RegExp(`^${TASK},1,"exact_match,flexible-extract",true,6,0\\.5,`));
    expect(rows[metrics.length]).toMatch(
      new RegExp(`^${TASK},2,"exact_match,flexible-extract",true,`),
    );
    expect(rows.filter((row) => row.includes(",false,"))).toHaveLength(2 * (metrics.length - 1));
  });

  it("--format lm-eval is the API's export: one results file per r, r in model_args", async () => {
    // lm-eval results hold one model configuration: a run with two r needs one picked.
    const all = await cli(["results", finished, "--format", "lm-eval"]);
    expect(all.code).toBe(2);
    expect(all.stderr).toMatch(/ran r = 1, 2; .*pick one: \?r=2/);
    const one = await cli(["results", finished, "--format", "lm-eval", "--r", "2"]);
    expect(one.code, one.stderr).toBe(0);
    const exported = JSON.parse(one.stdout);
    expect(Object.keys(exported.results)).toEqual([TASK]);
    expect(exported.results[TASK]["exact_match,flexible-extract"]).toBe(0.5);
    expect(exported.config.model_args).toContain("mean_recurrence=2");
    expect(exported.configs[TASK].metadata.mean_recurrence).toBe(2);
  });
});

describe("evals runs and results refuse bad input with one line and exit 2", () => {
  const cases: [string, string[], NodeJS.ProcessEnv, RegExp][] = [
    [
      "an unknown run",
      ["results", "run_nope"],
      {},
      /^error: no run "run_nope" at http:\/\/127\.0\.0\.1:\d+; `evals runs` lists the runs$/m,
    ],
    [
      "an unpublished run without a token",
      ["results", "RUN"],
      { EVALS_TOKEN: "" },
      /no run "run_\S+" at .* \(without a token only published runs are visible\)/,
    ],
    [
      "an unknown format",
      ["results", "RUN", "--format", "xml"],
      {},
      /--format.*xml.*Allowed choices are table, json, csv, lm-eval/,
    ],
    [
      "a bad --r",
      ["results", "RUN", "--format", "lm-eval", "--r", "0"],
      {},
      /--r 0 must be between 1 and 256/,
    ],
    [
      "an r the run did not run",
      ["results", "RUN", "--format", "lm-eval", "--r", "4"],
      {},
      /r: run .* ran r = 1, 2/,
    ],
    ["a missing run argument", ["results"], {}, /missing required argument 'run'/],
    ["an unknown flag", ["runs", "--all"], {}, /unknown option '--all'/],
    ["a bad token", ["runs"], { EVALS_TOKEN: "evt_nope" }, /refused the token .*\(401 /],
  ];

  it.each(cases)("%s", async (_, args, extraEnv, message) => {
    const result = await cli(
      args.map((arg) => (arg === "RUN" ? finished : arg)),
      extraEnv,
    );
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stdout).toBe("");
  });

  it("says how to start an API when none answers", async () => {
    const url = `http://127.0.0.1:${await unusedPort()}`;
    for (const args of [["runs"], ["results", finished]]) {
      const result = await cli(args, { EVALS_API: url });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(
        /cannot reach the evals API at .*start a local one with `npm run api`/,
      );
    }
  });
});

describe("evals runs publish|cancel", () => {
  it("cancels and publishes a run, and says its state", async () => {
    // The runs' own submitter: another submit token may not change them.
    const owner = { EVALS_TOKEN: stack.submitToken };
    const cancelled = await binary(["runs", "cancel", pending], owner);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stdout.trim()).toBe(
      `run ${pending} cancelled: ${stack.api.url}/run?id=${pending}`,
    );
    const published = await cli(["runs", "publish", finished], owner);
    expect(published.code, published.stderr).toBe(0);
    expect(published.stdout).toMatch(new RegExp(`^run ${finished} finished, published`));
    expect((await stack.submit.getRun(finished)).published).toBe(true);
  });
});

// After the describes above (the pending run is cancelled there): the runner below takes every
// queued shard.
describe("evals check on two API runs of a loglikelihood task", () => {
  const DOCS = 12;
  // Documents each run gets right by acc_norm: both 0; only the baseline 1–8; only the candidate 9.
  const RIGHT = { baseline: [0, 1, 2, 3, 4, 5, 6, 7, 8], candidate: [0, 9] };
  const arc = readFileSync(join(repoRoot, "../shared/datasets/arc_easy/test.jsonl"), "utf8")
    .split("\n")
    .slice(0, DOCS)
    .map((line) => {
      const row = JSON.parse(line);
      return {
        choices: row.choices.text as string[],
        gold: row.choices.label.indexOf(row.answerKey),
      };
    });
  const chars = (text: string) => [...text].length;

  /**
   * Log-likelihoods a runner could post: −(characters × per-character loss), the loss 1 for the
   * choice meant to win acc_norm (the gold one when `right`, else the next) and 1.25 for the rest,
   * so summed log-likelihoods (acc) may favour a shorter choice instead.
   */
  function logprobs(doc: number, right: boolean): number[] {
    const { choices, gold } = arc[doc];
    const winner = right ? gold : (gold + 1) % choices.length;
    return choices.map((c, i) => -chars(c) * (i === winner ? 1 : 1.25));
  }

  /** lm-eval's rule: acc by summed log-likelihood, acc_norm by log-likelihood per character. */
  function scored(lls: number[], doc: number) {
    const argmax = (xs: number[]) => xs.reduce((best, x, i) => (x > xs[best] ? i : best), 0);
    const { choices, gold } = arc[doc];
    return {
      acc: Number(argmax(lls) === gold),
      acc_norm: Number(argmax(lls.map((ll, i) => ll / chars(choices[i]))) === gold),
    };
  }

  /** McNemar's exact two-sided p: twice the binomial(b + c, 1/2) tail at min(b, c), at most 1. */
  function mcnemarP(b: number, c: number): number {
    const n = b + c;
    let tail = 0;
    let choose = 1;
    for (let k = 0; k <= Math.min(b, c); k++) {
      tail += choose;
      choose = (choose * (n - k)) / (k + 1);
    }
    return Math.min(1, (2 * tail) / 2 ** n);
  }

  it("pairs the documents by arc_easy's acc_norm and gives McNemar's exact p", async () => {
    const bytes = readFileSync(join(repoRoot, "../shared/datasets/arc_easy/test.jsonl"));
    const sha = createHash("sha256").update(bytes).digest("hex");
    await stack.submit.uploadBlob(sha, new Uint8Array(bytes));
    await stack.submit.registerDataset({ name: "arc_easy", files: { "test.jsonl": sha } });
    // The candidate: the same source cut the same way with another adapter seed.
    const other = join(work, "ckpt-seed7");
    await exportModel({ from: stories260kDir, out: other, split: [1, 3, 1], seed: 7 });
    const candidateCheckpoint = await uploadCheckpoint(stack.submit, other);
    const base = { tasks: ["arc_easy"], recurrences: [1], limit: DOCS, shard_size: DOCS };
    const baseline = (await stack.submit.createRun({ ...base, checkpoint: checkpointId })).id;
    const candidate = (await stack.submit.createRun({ ...base, checkpoint: candidateCheckpoint }))
      .id;

    const posted = {
      baseline: new Map<number, number[]>(),
      candidate: new Map<number, number[]>(),
    };
    for (;;) {
      const lease = await stack.runner.lease(
        { backends: ["wasm"], max_parameters: 1e9, max_buffer_bytes: 2 ** 30 },
        "cli-test/1",
      );
      if (!lease) break;
      const side = lease.shard.run_id === baseline ? "baseline" : "candidate";
      expect([baseline, candidate]).toContain(lease.shard.run_id);
      const results: ResultIn[] = lease.prompts.map((p) => {
        const lls = logprobs(p.doc_index, RIGHT[side].includes(p.doc_index));
        posted[side].set(p.doc_index, lls);
        const entries = lls.map((logprob, i) => ({
          logprob,
          is_greedy: false,
          input_tokens: 10 + i,
          tokens: 2,
        }));
        return {
          doc_id: p.doc_id,
          recurrences: 1,
          completion: "",
          prompt_tokens: entries.reduce((n, e) => n + e.input_tokens, 0),
          generated_tokens: 0,
          backend: "wasm",
          device: "fabricated",
          runner_version: "cli-test/1",
          timings: { ms: 1 },
          loglikelihoods: entries,
        };
      });
      await stack.runner.postResults(lease.lease_id, results);
    }

    // The expected table, from the posted numbers and the dataset alone.
    const outcome = (side: "baseline" | "candidate", metric: "acc" | "acc_norm") =>
      Array.from({ length: DOCS }, (_, doc) => scored(posted[side].get(doc)!, doc)[metric]);
    const discordant = (metric: "acc" | "acc_norm") => {
      const [b, c] = [outcome("baseline", metric), outcome("candidate", metric)];
      return {
        lost: b.filter((x, i) => x === 1 && c[i] === 0).length,
        gained: b.filter((x, i) => x === 0 && c[i] === 1).length,
        baseline: b.filter(Boolean).length,
        candidate: c.filter(Boolean).length,
      };
    };
    const byNorm = discordant("acc_norm");
    expect(byNorm).toEqual({ lost: 8, gained: 1, baseline: 9, candidate: 2 });
    // acc pairs differently here, so only the primary metric gives these rows.
    expect(discordant("acc")).not.toEqual(byNorm);
    const p = mcnemarP(8, 1);
    expect(p).toBeCloseTo((2 * (1 + 9)) / 2 ** 9, 15);

    const result = await cli(["check", "--run", candidate, "--baseline", baseline, "--json"]);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/^regression: arc_easy r=1 \(-58\.3 points, p=0\.0391\)/);
    const { rows, regressions } = JSON.parse(result.stdout);
    expect(regressions).toBe(1);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      task: "arc_easy",
      recurrences: 1,
      metric: "acc_norm",
      paired: DOCS,
      baseline: 9 / DOCS,
      candidate: 2 / DOCS,
      regression: true,
    });
    expect(rows[0].deltaPoints).toBeCloseTo((100 * (2 - 9)) / DOCS, 12);
    expect(rows[0].pValue).toBeCloseTo(p, 12);
    // Both ways round: the candidate as the baseline gains, which is no regression.
    const reverse = await cli(["check", "--run", baseline, "--baseline", candidate]);
    expect(reverse.code, reverse.stderr).toBe(0);
    expect(reverse.stdout).toContain(
      "| arc_easy | 1 | acc_norm | 12 | 16.7% | 75.0% | +58.3 | 0.0391 | ok |",
    );
  });
});
