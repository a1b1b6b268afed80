// The run page's precision-cost table from the API's answer: columns named by both precisions,
// accuracies, signed Δ, discordant counts and the McNemar p as the page shows them.
import { describe, expect, it } from "vitest";
import type { RunPrecisionCost } from "../../worker/routes/precision-cost.ts";
import { precisionCostTables } from "./precision-cost.ts";

const row = {
  task: "gsm8k_cot_sean",
  reference: "fp32" as const,
  lossy: "q4" as const,
  paired: 200,
};

describe("precision cost table", () => {
  it("names both precisions and shows each (task, r) as the API measured it", () => {
    const cost: RunPrecisionCost = {
      run_id: "run_q4",
      dtype: "q4",
      comparisons: [
        {
          run_id: "run_fp32",
          checkpoint_id: "ck",
          checkpoint_name: "stories 1·3·1",
          dtype: "fp32",
          rows: [
            {
              ...row,
              recurrences: 1,
              reference_accuracy: 0.5,
              lossy_accuracy: 0.5,
              delta_points: 0,
              only_reference: 0,
              only_lossy: 0,
              p_value: 1,
            },
            // 5 right only at fp32, 1 only at q4: p = 2 · 7/64 = 0.21875.
            {
              ...row,
              recurrences: 4,
              reference_accuracy: 0.5,
              lossy_accuracy: 0.48,
              delta_points: -2,
              only_reference: 5,
              only_lossy: 1,
              p_value: 0.21875,
            },
          ],
        },
      ],
    };
    const [table] = precisionCostTables(cost);
    expect(table.runId).toBe("run_fp32");
    expect(table.caption).toMatch(/^This run beside its fp32 twin \(the same weights at fp32\)/);
    expect(table.header).toEqual([
      "task",
      "r",
      "paired docs",
      "fp32",
      "q4",
      "Δ points",
      "right only at fp32",
      "right only at q4",
      "McNemar p",
    ]);
    expect(table.rows).toEqual([
      ["gsm8k_cot_sean", "1", "200", "50.0%", "50.0%", "+0.0", "0", "0", "1.00"],
      ["gsm8k_cot_sean", "4", "200", "50.0%", "48.0%", "−2.0", "5", "1", "0.219"],
    ]);
    expect(precisionCostTables({ ...cost, comparisons: [] })).toEqual([]);
  });
});
