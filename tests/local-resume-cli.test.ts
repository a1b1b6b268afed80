// `evals local` killed mid-run (SIGKILL, no chance to clean up) and started again with the same
// --output resumes from its journal and ends with the file an uninterrupted run writes. The killed
// run and its resumption are real processes; the uninterrupted run and the refusals run in-process.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportModel } from "../model/export-model.ts";
import { stories260kDir } from "../model/testing/stories.ts";
import { repoRoot, runCli, runCliInProcess } from "./cli.ts";

const work = mkdtempSync(join(tmpdir(), "evals-local-resume-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const model = join(work, "ckpt");

function runArgs(output: string): string[] {
  return [
    "local",
    "--model",
    model,
    "--tasks",
    "gsm8k_cot_sean",
    "--recurrences",
    "1,2",
    "--limit",
    "12",
    "--max-gen-toks",
    "8",
    "--batch-size",
    "1",
    "--output",
    output,
  ];
}

function lineCount(path: string): number {
  return existsSync(path) ? readFileSync(path, "utf8").split("\n").length - 1 : 0;
}

// Starts the run and SIGKILLs it once the journal holds `after` records; resolves to how many it
// held when the process was gone.
function killMidRun(output: string, journal: string, after: number): Promise<number> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [resolve(repoRoot, "bin/evals.js"), ...runArgs(output)], {
      cwd: repoRoot,
      stdio: "ignore",
    });
    const poll = setInterval(() => {
      if (lineCount(journal) >= after) child.kill("SIGKILL");
    }, 10);
    child.on("error", fail);
    child.on("exit", () => {
      clearInterval(poll);
      done(lineCount(journal));
    });
  });
}

function comparable(path: string) {
  const run = JSON.parse(readFileSync(path, "utf8"));
  return { ...run, created_at: "", samples: run.samples.map((s: object) => ({ ...s, ms: 0 })) };
}

describe("evals local resume after SIGKILL", () => {
  beforeAll(async () => {
    await exportModel({ from: stories260kDir, out: model, split: [1, 3, 1] });
  }, 120_000);

  it("ends with the same results file as an uninterrupted run", async () => {
    const whole = join(work, "whole.json");
    const uninterrupted = await runCliInProcess(runArgs(whole));
    expect(uninterrupted.code, uninterrupted.stderr).toBe(0);
    expect(existsSync(join(work, "whole.partial.jsonl"))).toBe(false);

    const output = join(work, "killed.json");
    const journal = join(work, "killed.partial.jsonl");
    const held = await killMidRun(output, journal, 3);
    // Killed part-way: some records journalled, not all 24, and no results file yet.
    expect(held).toBeGreaterThanOrEqual(3);
    expect(held).toBeLessThan(24);
    expect(existsSync(output)).toBe(false);

    const again = await runCli(runArgs(output));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(new RegExp(`resuming: ${held} records from .*killed`));
    expect(comparable(output)).toEqual(comparable(whole));
    expect(existsSync(journal)).toBe(false);
  }, 300_000);

  it("checks --output before any work: a directory or an unwritable place is exit 2, one line; a failed run leaves no journal", async () => {
    const intoDir = await runCliInProcess(runArgs(work));
    expect(intoDir.code).toBe(2);
    expect(intoDir.stderr.trim().split("\n")).toHaveLength(1);
    expect(intoDir.stderr).toMatch(/--output .* is a directory/);

    writeFileSync(join(work, "plain-file"), "");
    const underFile = await runCliInProcess(runArgs(join(work, "plain-file", "run.json")));
    expect(underFile.code).toBe(2);
    expect(underFile.stderr.trim().split("\n")).toHaveLength(1);
    expect(underFile.stderr).toMatch(/plain-file.*choose a writable path/);

    // A run that fails before finishing a batch leaves no empty journal behind.
    const failing = join(work, "failing.json");
    const failed = await runCliInProcess([
      ...runArgs(failing),
      "--tasks",
      "arc_easy",
      "--state-init",
      "normal",
    ]);
    expect(failed.code, failed.stderr).toBe(2);
    expect(failed.stderr).toMatch(/--state-init zeros/);
    expect(existsSync(join(work, "failing.partial.jsonl"))).toBe(false);
  }, 60_000);
});
