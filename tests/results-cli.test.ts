// `evals runs` and `evals results` through the real command line against a real local API. The
// run is seeded through worker/client.ts, and its completions are fabricated and posted through
// the runner protocol (no model runs): even documents right, odd ones wrong, at every r.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportModel } from "../model/export-model.ts";
import { stories260kDir } from "../model/testing/stories.ts";
import { runCli } from "./cli.ts";
import { answerOneShard, gsm8kGolds } from "./fabricated-runner.ts";
import {
  freePort,
  registerGsm8k,
  startTestStack,
  type TestStack,
  uploadCheckpoint,
} from "./local-stack.ts";

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

const cli = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
  runCli(args, { env: { ...env, ...extraEnv } });

describe("evals runs", () => {
  it("lists every run with a submit token, newest first", async () => {
    const result = await cli(["runs"]);
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
    const result = await cli(["results", finished]);
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
    const url = `http://127.0.0.1:${await freePort()}`;
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
    const cancelled = await cli(["runs", "cancel", pending], owner);
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
