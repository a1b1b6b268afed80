// `evals check`: exits 1 when a candidate run regressed significantly against a baseline run.
// Each side is a results file (`evals local --output`, `evals results --format json`) or the id
// of a run on an API, whose per-sample records are read page by page.
import { existsSync } from "node:fs";
import type { Command } from "commander";
import { describeApiFailure } from "../api-client/errors.ts";
import { EvalsError } from "../errors.ts";
import { compareRuns, formatCheckMarkdown } from "../run/check.ts";
import type { RunResults } from "../run/records.ts";
import { mcnemarExact } from "../stats/mcnemar.ts";
import { apiOptions, connect } from "./api-options.ts";
import { parseNameList, parseRecurrenceList } from "./parse.ts";
import { readResults } from "./results-file.ts";

export function registerCheckCommand(program: Command): void {
  const command = program
    .command("check")
    .description(
      "paired regression test of a run against a baseline (exit 1 on a significant drop)",
    )
    .requiredOption("--run <id|file>", "the candidate: a run id on the API, or a results file")
    .requiredOption("--baseline <id|file>", "the baseline: a run id on the API, or a results file")
    .option("--max-drop <points>", "largest tolerated drop in accuracy points", "1.0")
    .option("--alpha <p>", "significance level of the McNemar test", "0.05")
    .option("--tasks <list>", "only these tasks")
    .option("--recurrences <list>", "only these recurrence counts")
    .option(
      "--allow-precision-mismatch",
      "compare runs of different precision (e.g. q4 against fp32)",
    )
    .option("--json", "print JSON instead of markdown");
  apiOptions(command).action(async function runCheck(options) {
    const maxDropPoints = parseNumber(options.maxDrop, "--max-drop", 0, 100);
    const alpha = parseNumber(options.alpha, "--alpha", 0, 1);
    const checkOptions = {
      maxDropPoints,
      alpha,
      tasks: options.tasks ? parseNameList(options.tasks, "--tasks") : undefined,
      recurrences: options.recurrences ? parseRecurrenceList(options.recurrences) : undefined,
      allowPrecisionMismatch: Boolean(options.allowPrecisionMismatch),
    };
    const rows = compareRuns(
      await loadResults(options.run, "--run", options),
      await loadResults(options.baseline, "--baseline", options),
      checkOptions,
    );
    if (rows.length === 0) {
      throw new EvalsError(
        "the two runs share no (task, r, document); compare runs of the same tasks and recurrences",
      );
    }
    const regressions = rows.filter((r) => r.regression);
    const power = [...new Set(rows.map((r) => r.paired))]
      .sort((a, b) => a - b)
      .map((n) => ({
        paired: n,
        smallest_detectable_drop_points: smallestDetectableDrop(n, alpha),
      }));
    process.stdout.write(
      options.json
        ? `${JSON.stringify({ rows, regressions: regressions.length, power })}\n`
        : `${formatCheckMarkdown(rows, checkOptions)}\n${power.map((p) => powerNote(p.paired, p.smallest_detectable_drop_points, alpha)).join("\n")}\n`,
    );
    if (regressions.length > 0) {
      process.stderr.write(
        `regression: ${regressions.map((r) => `${r.task} r=${r.recurrences} (${r.deltaPoints.toFixed(1)} points, p=${r.pValue.toPrecision(3)})`).join("; ")}\n`,
      );
      process.exitCode = 1;
    }
  });
}

type Samples = Pick<RunResults, "samples">;

/** A results file when `ref` names one, else a run on the API. */
async function loadResults(
  ref: string,
  flag: string,
  apiFlags: { api?: string; token?: string },
): Promise<Samples> {
  if (existsSync(ref) || !/^run_[\w-]+$/.test(ref)) return readResults(ref, flag);
  const { target, client } = connect(apiFlags, false);
  try {
    return { samples: await client.allSamples(ref) };
  } catch (error) {
    throw describeApiFailure(error, target.url, `reading the samples of ${flag} ${ref}`);
  }
}

/**
 * The smallest drop, in points, the exact McNemar test can call significant with `n` paired
 * documents: k documents flipping from right to wrong and none the other way, for the least such
 * k. Null when even n one-way flips are not significant. Smaller drops pass whatever they are.
 */
export function smallestDetectableDrop(n: number, alpha: number): number | null {
  for (let k = 1; k <= n; k++) {
    const before = Array.from({ length: n }, (_, i) => (i < k ? 1 : 0));
    const after = new Array<number>(n).fill(0);
    if (mcnemarExact(before, after).pValue < alpha) return (100 * k) / n;
  }
  return null;
}

function powerNote(n: number, drop: number | null, alpha: number): string {
  if (drop === null) {
    return `Power: with ${n} paired documents no drop can be significant at alpha ${alpha}; evaluate more documents.`;
  }
  return `Power: with ${n} paired documents the smallest drop this check can detect at alpha ${alpha} is ${drop.toFixed(1)} points (${Math.round((drop * n) / 100)} documents flipping one way); smaller drops always pass.`;
}

function parseNumber(text: string, flag: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max)
    throw new EvalsError(`${flag} "${text}" must be a number in [${min}, ${max}]`);
  return value;
}
