// The results table printed at the end of a run: accuracy ± 95% CI per (task, r), FLOPs, tokens.
import type { Aggregate } from "./records.ts";

export function formatResultsTable(aggregates: readonly Aggregate[]): string {
  const header = [
    "task",
    "r",
    "n",
    "metric",
    "accuracy ± 95% CI",
    "mean FLOPs/sample",
    "mean gen tokens",
    "backend",
  ];
  const rows = aggregates.map((a) => {
    const m = a.metrics[a.primary_metric];
    const half = m ? (m.ci95[1] - m.ci95[0]) / 2 : Number.NaN;
    return [
      a.task,
      String(a.recurrences),
      String(a.n),
      a.primary_metric,
      m ? `${(100 * m.accuracy).toFixed(1)}% ± ${(100 * half).toFixed(1)}` : "-",
      a.mean_flops.toExponential(3),
      a.mean_generated_tokens.toFixed(1),
      a.backends.join(","),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
