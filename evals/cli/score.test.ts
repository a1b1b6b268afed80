import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../../tests/cli.ts";

// `evals score` cuts each completion at the task's `until` before filtering, as generation and
// lm-eval's generate_until do; --no-until scores text that was already cut as given.
describe("evals score and the task's stop sequences", () => {
  const work = mkdtempSync(join(tmpdir(), "evals-score-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  // gsm8k's until is ["Question:", "</s>", "<|im_end|>"]; flexible-extract takes the last number.
  const runOn = {
    completion: " 4 + 8 = 12.\n\nQuestion: What is 90 + 9? Answer: 99",
    gold: "#### 12",
  };

  it("cuts at `until` by default, so text past the stop is not scored", async () => {
    const input = join(work, "runs-on.jsonl");
    writeFileSync(input, `${JSON.stringify(runOn)}\n`);
    const cut = await runCli(["score", "--task", "gsm8k", "--input", input]);
    expect(cut.code).toBe(0);
    const scored = JSON.parse(cut.stdout);
    expect(scored.extracted["flexible-extract"]).toBe("12.");
    expect(scored.metrics["exact_match,flexible-extract"]).toBe(1);

    const asGiven = await runCli(["score", "--task", "gsm8k", "--input", input, "--no-until"]);
    expect(asGiven.code).toBe(0);
    expect(JSON.parse(asGiven.stdout).extracted["flexible-extract"]).toBe("99");
    expect(JSON.parse(asGiven.stdout).metrics["exact_match,flexible-extract"]).toBe(0);
  });

  it("says so in --help", async () => {
    const help = await runCli(["score", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--no-until/);
    expect(help.stdout).toMatch(/cut at the task.s `until` stop sequences before filtering/);
  });
});
