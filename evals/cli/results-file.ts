// A results file written by `evals local --output`, read and checked for `evals check` and
// `evals results`; every problem names the flag, the file and the field.
import { existsSync, readFileSync } from "node:fs";
import { EvalsError } from "../errors.ts";
import { type RunResults, RunResultsSchema } from "../run/records.ts";

export function readResults(path: string, flag: string): RunResults {
  if (!existsSync(path)) {
    throw new EvalsError(
      `${flag} ${path}: no such results file (give a file from evals local --output, or a run id like run_…)`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new EvalsError(`${flag} ${path}: cannot read results JSON (${(error as Error).message})`);
  }
  const parsed = RunResultsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EvalsError(
      `${flag} ${path}: field ${issue.path.join(".")}: ${issue.message}; expected the output of evals local`,
    );
  }
  return parsed.data;
}
