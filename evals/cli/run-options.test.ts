// The options `evals submit` and `evals local` share: one declaration, lm-eval's underscore
// spellings, and the one default that differs (--recurrences).
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { EvalsError } from "../errors.ts";
import { parseRunOptions, recurrencesForCheckpoint, runOptions } from "./run-options.ts";

function parse(args: string[], recurrences: { default?: string }) {
  const program = new Command().exitOverride().configureOutput({ writeErr: () => {} });
  let parsed: Record<string, string | undefined> = {};
  runOptions(program.command("verb"), recurrences).action((options) => {
    parsed = options;
  });
  program.parse(["node", "evals", "verb", ...args]);
  return parseRunOptions(parsed);
}

describe("runOptions", () => {
  it("gives both verbs the same defaults except --recurrences", () => {
    const local = parse([], { default: "1" });
    expect(local).toEqual({
      tasks: ["gsm8k_cot_sean"],
      recurrences: [1],
      limit: null,
      numFewshot: null,
      kv: "full",
      stateInit: "zeros",
      seed: 0,
      maxGenToks: null,
    });
    expect(() => parse([], {})).toThrow(/--recurrences/);
    expect(parse(["--recurrences", "1,4"], {})).toEqual({ ...local, recurrences: [1, 4] });
  });

  it("accepts lm-eval's underscore spellings as aliases", () => {
    const dashed = parse(["--num-fewshot", "3", "--max-gen-toks", "64"], { default: "1" });
    const underscored = parse(["--num_fewshot", "3", "--max_gen_toks", "64"], { default: "1" });
    expect(underscored).toEqual(dashed);
    expect(dashed.numFewshot).toBe(3);
    expect(dashed.maxGenToks).toBe(64);
  });

  it("names the flag of a bad value", () => {
    expect(() => parse(["--limit", "0"], { default: "1" })).toThrow(/--limit 0 must be between 1/);
    expect(() => parse(["--num_fewshot", "x"], { default: "1" })).toThrow(EvalsError);
    expect(() => parse(["--tasks", "nope"], { default: "1" })).toThrow(/nope/);
    expect(() => parse(["--kv", "half"], { default: "1" })).toThrow(/half/);
  });
});

describe("recurrencesForCheckpoint", () => {
  const flat = { name: "stories260k 3·0·2", layers: { block: [] } };
  const recurrent = { name: "stories260k 1·3·1 random-s0", layers: { block: [1, 2, 3] } };

  it("runs a non-recurrent checkpoint once at r = 1 and says so", () => {
    const { recurrences, note } = recurrencesForCheckpoint(flat, [1, 4, 16]);
    expect(recurrences).toEqual([1]);
    expect(note).toBe(
      "stories260k 3·0·2 is non-recurrent (no block): r does not change its output, so it is evaluated once at r = 1 instead of r = 1,4,16",
    );
    expect(recurrencesForCheckpoint(flat, [8]).recurrences).toEqual([1]);
    expect(recurrencesForCheckpoint(flat, [1])).toEqual({ recurrences: [1], note: null });
  });

  it("leaves a recurrent checkpoint's list alone", () => {
    expect(recurrencesForCheckpoint(recurrent, [1, 4, 16])).toEqual({
      recurrences: [1, 4, 16],
      note: null,
    });
  });
});
