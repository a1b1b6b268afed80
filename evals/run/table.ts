// The results table printed at the end of a run: accuracy and its 95% Wilson interval per
// (task, r), FLOPs, tokens, and how many prompts did not fit the model's window.
import { formatAccuracy } from "../stats/accuracy.ts";
import type { Aggregate } from "./records.ts";

export const ACCURACY_HEADER = "accuracy (95% Wilson CI)";
/** Prompts cut to the model's window (lm-eval keeps their last tokens): never silent. */
export const TRUNCATED_HEADER = "truncated prompts";

export function formatResultsTable(aggregates: readonly Aggregate[]): string {
  const header = [
    "task",
    "r",
    "n",
    "metric",
    ACCURACY_HEADER,
    "mean FLOPs/sample",
    "mean gen tokens",
    TRUNCATED_HEADER,
    "backend",
  ];
  const rows = aggregates.map((a) => {
    const m = a.metrics[a.primary_metric];
    return [
      a.task,
      String(a.recurrences),
      String(a.n),
      a.primary_metric,
      m ? formatAccuracy(m) : "-",
      a.mean_flops.toExponential(3),
      a.mean_generated_tokens.toFixed(1),
      a.truncated === undefined ? "-" : `${a.truncated}/${a.n}`,
      a.backends.join(","),
    ];
  });
  return formatTable(header, rows);
}

/** Left-aligned columns separated by two spaces, with a rule under the header. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
