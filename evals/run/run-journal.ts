// The sidecar an `evals local` run appends its records to as they finish, so a crash loses at most
// the batch in flight and starting the same run again picks up where it stopped. Records are
// looked up by result key, which names everything that decides a sample's outcome.
import {
  appendFileSync,
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  statSync,
  truncateSync,
} from "node:fs";
import { EvalsError } from "../errors.ts";
import type { SampleRecord } from "./records.ts";

export interface RunJournal {
  /** Records a previous start of this run already finished, by result key. */
  readonly done: ReadonlyMap<string, SampleRecord>;
  /** Appends finished records; one JSON line each, flushed before returning. */
  append(records: readonly SampleRecord[]): void;
}

/** `<output>.partial.jsonl` beside the results file. */
export function journalPathFor(output: string): string {
  return `${output.replace(/\.json$/, "")}.partial.jsonl`;
}

/**
 * Opens (creating if needed) the journal at `path`, reading back what an earlier start wrote.
 * A last line cut short by a crash mid-write is dropped; any other unreadable line is an error,
 * since the file is then not one this command wrote.
 */
export function openRunJournal(path: string): RunJournal {
  if (existsSync(path) && !statSync(path).isFile()) {
    throw new EvalsError(`${path} is not a file; remove it or choose another --output`);
  }
  // Opening for append up front proves the directory and file are writable before any work.
  try {
    closeSync(openSync(path, "a"));
  } catch (error) {
    throw new EvalsError(
      `cannot write ${path} (${(error as NodeJS.ErrnoException).code ?? error}); choose a writable --output`,
      { cause: error },
    );
  }
  const done = new Map<string, SampleRecord>();
  const bytes = readFileSync(path);
  // Cut a torn last line off now, or the next append would glue a record onto it.
  const complete = bytes.lastIndexOf(0x0a) + 1;
  if (complete < bytes.length) truncateSync(path, complete);
  const lines = bytes.subarray(0, complete).toString("utf8").split("\n");
  for (const [i, line] of lines.entries()) {
    if (line.trim() === "") continue;
    const record = parseRecord(line);
    if (!record) {
      throw new EvalsError(
        `${path}:${i + 1} is not a sample record; delete ${path} to start the run afresh`,
      );
    }
    done.set(record.key, record);
  }
  return {
    done,
    append(records) {
      if (records.length === 0) return;
      appendFileSync(path, records.map((r) => `${JSON.stringify(r)}\n`).join(""));
    },
  };
}

function parseRecord(line: string): SampleRecord | null {
  try {
    const value = JSON.parse(line) as SampleRecord;
    return typeof value?.key === "string" ? value : null;
  } catch {
    return null;
  }
}
