// The run page's "precision cost" table: for a lossy run, its fp32 twin's accuracy and its own on
// the same documents (and the other way round on an fp32 run), with the McNemar test per (task, r).
// Pure: the page turns the table into DOM, tests read it as text.
import type { RunPrecisionCost } from "../../worker/routes/precision-cost.ts";
import { percent } from "./format.ts";

export interface PrecisionCostTable {
  /** The twin run, to link to. */
  runId: string;
  caption: string;
  header: string[];
  rows: string[][];
}

export function precisionCostTables(cost: RunPrecisionCost): PrecisionCostTable[] {
  return cost.comparisons.map((twin) => {
    const { reference, lossy } = twin.rows[0];
    const which = twin.dtype === "fp32" ? "its fp32 twin" : `its ${twin.dtype} twin`;
    return {
      runId: twin.run_id,
      caption:
        `This run beside ${which} (the same weights at ${twin.dtype}) on the documents both scored; ` +
        "McNemar's exact test on the documents whose outcome differs.",
      header: [
        "task",
        "r",
        "paired docs",
        reference,
        lossy,
        "Δ points",
        `right only at ${reference}`,
        `right only at ${lossy}`,
        "McNemar p",
      ],
      rows: twin.rows.map((row) => [
        row.task,
        String(row.recurrences),
        String(row.paired),
        percent(row.reference_accuracy),
        percent(row.lossy_accuracy),
        `${row.delta_points >= 0 ? "+" : "−"}${Math.abs(row.delta_points).toFixed(1)}`,
        String(row.only_reference),
        String(row.only_lossy),
        row.p_value.toPrecision(3),
      ]),
    };
  });
}
