// Test-only: the scoring cases other projects' test suites pin down (../shared/scoring-cases/,
// described in its README), read where they lie and scored the way `evals score` scores them.
// Imports node:fs, so no scorer may import it (the scorers must bundle for workerd).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { getTask } from "../tasks/registry.ts";
import { cutAtUntil } from "./until.ts";

export interface UpstreamCase {
  id: string;
  source: string;
  task: string;
  /** The metric the case decides, or null for an extraction-only case. */
  metric: string | null;
  gold: string;
  completion: string;
  expected: number | null;
  expected_extracted?: Record<string, string>;
  /** false: recorded upstream but not expressible as a (gold, completion) pair. */
  expressible?: boolean;
  /** true: an open pull request's proposal, not lm-eval's behaviour. */
  informational?: boolean;
  test_gold?: string;
  test_pred?: string;
}

const CASES_DIR = new URL("../../../shared/scoring-cases/", import.meta.url);

/** The expressible cases of one case file, optionally of one task. */
export function upstreamCases(file: string, task?: string): UpstreamCase[] {
  return readFileSync(fileURLToPath(new URL(file, CASES_DIR)), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as UpstreamCase)
    .filter((c) => c.expressible !== false && (task === undefined || c.task === task));
}

/** What `evals score` gives the case: the task's scorer on the completion cut at `until`. */
export function scoreCase(c: UpstreamCase) {
  const task = getTask(c.task);
  return task.score(cutAtUntil(c.completion, task.until), c.gold);
}

/** Whether our scorer gives the case's expected metric value and extractions. */
export function agrees(c: UpstreamCase): boolean {
  const score = scoreCase(c);
  if (c.metric !== null && score.metrics[c.metric] !== c.expected) return false;
  return Object.entries(c.expected_extracted ?? {}).every(
    ([filter, want]) => score.extracted[filter] === want,
  );
}
