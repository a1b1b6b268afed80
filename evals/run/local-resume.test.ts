// evals local resumes an interrupted run from its journal and ends with the records an
// uninterrupted run writes; the journal survives a torn last line and refuses a foreign file.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportModel } from "../../model/export-model.ts";
import { stories260kDir } from "../../model/testing/stories.ts";
import { EvalsError } from "../errors.ts";
import { type LocalRunOptions, runLocal } from "./local-run.ts";
import type { RunResults, SampleRecord } from "./records.ts";
import { openRunJournal } from "./run-journal.ts";

const work = mkdtempSync(join(tmpdir(), "evals-resume-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// Wall time and the creation stamp are the only fields two runs of the same work may differ in.
function comparable(run: RunResults) {
  return {
    ...run,
    created_at: "",
    samples: run.samples.map((s) => ({ ...s, ms: 0 })),
  };
}

function journalLines(path: string): SampleRecord[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line));
}

describe("evals local resume (stories260k, a generation and a loglikelihood task)", () => {
  let options: LocalRunOptions;
  let whole: RunResults;
  let wholeJournal: string;
  beforeAll(async () => {
    const model = join(work, "ckpt");
    await exportModel({ from: stories260kDir, out: model, split: [1, 3, 1] });
    options = {
      model,
      tasks: ["gsm8k_cot_sean", "arc_easy"],
      recurrences: [1, 2],
      limit: 3,
      maxGenToks: 4,
      kv: "full",
      stateInit: "zeros",
      seed: 0,
      batchSize: 2,
    };
    wholeJournal = join(work, "whole.partial.jsonl");
    whole = await runLocal({ ...options, journal: openRunJournal(wholeJournal) });
  }, 300_000);

  it("journals every record as its batch finishes (shortest prompts first); results in document order", () => {
    expect(whole.samples).toHaveLength(2 * 3 * 2);
    const journal = journalLines(wholeJournal);
    expect(journal.map((s) => s.key).sort()).toEqual(whole.samples.map((s) => s.key).sort());
    for (const task of ["gsm8k_cot_sean", "arc_easy"]) {
      for (const r of [1, 2]) {
        const docs = whole.samples.filter((s) => s.task === task && s.recurrences === r);
        expect(docs.map((s) => s.doc_index)).toEqual([0, 1, 2]);
      }
    }
    const generated = journal.filter((s) => s.task === "gsm8k_cot_sean" && s.recurrences === 1);
    const lengths = generated.map((s) => s.prompt_tokens);
    expect(lengths).toEqual([...lengths].sort((a, b) => a - b));
    expect(new Set(lengths).size).toBe(3);
  });

  it("an interrupted run started again ends with the uninterrupted run's records", async () => {
    // The state a kill leaves: the first batch's records (gsm8k, the two shortest prompts, at
    // r=1 then r=2) and half a line of the next batch that the crash cut off.
    const lines = readFileSync(wholeJournal, "utf8").split("\n");
    const interrupted = join(work, "interrupted.partial.jsonl");
    writeFileSync(interrupted, `${lines.slice(0, 4).join("\n")}\n${lines[4].slice(0, 40)}`);
    const resumed = await runLocal({ ...options, journal: openRunJournal(interrupted) });
    expect(comparable(resumed)).toEqual(comparable(whole));
    // The finished batch came back from the journal as written, wall time included.
    const first = journalLines(wholeJournal).slice(0, 4);
    expect(first.map((s) => [s.recurrences, s.doc_index])).toEqual([
      [1, 1],
      [1, 2],
      [2, 1],
      [2, 2],
    ]);
    for (const record of first) expect(resumed.samples).toContainEqual(record);
    // The journal now holds each record once: four resumed, then the rest as they ran again.
    expect(journalLines(interrupted).map((s) => s.key)).toEqual(
      journalLines(wholeJournal).map((s) => s.key),
    );
  }, 300_000);

  it("a journal with every r=1 record but no r=2 one computes r=2 alone, as the sweep did", async () => {
    const half = join(work, "half.partial.jsonl");
    const r1 = journalLines(wholeJournal).filter((s) => s.recurrences === 1);
    writeFileSync(half, r1.map((s) => `${JSON.stringify(s)}\n`).join(""));
    const resumed = await runLocal({ ...options, journal: openRunJournal(half) });
    expect(comparable(resumed)).toEqual(comparable(whole));
    expect(journalLines(half)).toHaveLength(whole.samples.length);
  }, 300_000);

  it("a run with every r prefilled alone writes the sweep's records", async () => {
    const alone = await runLocal({ ...options, sweep: false });
    expect(comparable(alone)).toEqual(comparable(whole));
  }, 300_000);

  it("a journal holding every record runs nothing", async () => {
    const resumed = await runLocal({ ...options, journal: openRunJournal(wholeJournal) });
    expect(resumed.samples).toEqual(whole.samples);
    expect(journalLines(wholeJournal)).toHaveLength(whole.samples.length);
  });

  it("refuses a journal with a bad line in the middle, naming the file and line", () => {
    const foreign = join(work, "foreign.partial.jsonl");
    writeFileSync(foreign, 'not json\n{"key":"k"}\n');
    expect(() => openRunJournal(foreign)).toThrow(EvalsError);
    expect(() => openRunJournal(foreign)).toThrow(`${foreign}:1 is not a sample record`);
  });

  it("refuses an unwritable journal path before any work", () => {
    expect(() => openRunJournal(join(work, "no-such-dir", "x.partial.jsonl"))).toThrow(
      /cannot write .*no-such-dir.*choose a writable --output/,
    );
    expect(() => openRunJournal(work)).toThrow(/is not a file/);
  });
});
