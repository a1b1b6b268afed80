// The accuracy cost of a lossy precision where users feel it: the same documents of the same task
// at the same r, scored once by the fp32 export and once by a lossy export (fp16, q8, q4) of the
// same weights, with an exact McNemar test on the documents whose outcome differs.
import type { Dtype } from "../../model/manifest.ts";
import { mcnemarExact } from "../stats/mcnemar.ts";

/** Most precise first: the reference side of a comparison is the earlier one. */
export const PRECISION_ORDER: readonly Dtype[] = ["fp32", "fp16", "q8", "i8", "q4"];

export interface PrecisionCostRow {
  task: string;
  recurrences: number;
  /** The more precise side (fp32 unless both are lossy) and the less precise one. */
  reference: Dtype;
  lossy: Dtype;
  /** Documents both runs scored. */
  paired: number;
  reference_accuracy: number;
  lossy_accuracy: number;
  /** lossy − reference, in accuracy points. */
  delta_points: number;
  /** Documents right at the reference precision only, and at the lossy one only. */
  only_reference: number;
  only_lossy: number;
  /** Exact two-sided McNemar p-value of the discordant documents. */
  p_value: number;
}

/** Which of two precisions is the reference (more precise); null when they are equal. */
export function referenceOf(a: Dtype, b: Dtype): { reference: Dtype; lossy: Dtype } | null {
  if (a === b) return null;
  return PRECISION_ORDER.indexOf(a) < PRECISION_ORDER.indexOf(b)
    ? { reference: a, lossy: b }
    : { reference: b, lossy: a };
}

/** One (task, r) from its paired 0/1 outcomes, each pair [reference, lossy]. */
export function precisionCost(
  task: string,
  recurrences: number,
  precisions: { reference: Dtype; lossy: Dtype },
  pairs: readonly (readonly [number, number])[],
): PrecisionCostRow {
  const reference = pairs.map(([r]) => (r ? 1 : 0));
  const lossy = pairs.map(([, l]) => (l ? 1 : 0));
  const test = mcnemarExact(reference, lossy);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  return {
    task,
    recurrences,
    ...precisions,
    paired: pairs.length,
    reference_accuracy: mean(reference),
    lossy_accuracy: mean(lossy),
    delta_points: 100 * test.delta,
    only_reference: test.onlyA,
    only_lossy: test.onlyB,
    p_value: test.pValue,
  };
}

/**
 * `precision cost gsm8k r=4: fp32 41.0% → q4 38.5% on 200 paired documents (−2.5 points; 9 right
 * only at fp32, 4 only at q4; McNemar p = 0.267)`.
 */
export function precisionCostLine(row: PrecisionCostRow): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const delta = `${row.delta_points >= 0 ? "+" : "−"}${Math.abs(row.delta_points).toFixed(1)}`;
  return (
    `precision cost ${row.task} r=${row.recurrences}: ${row.reference} ${pct(row.reference_accuracy)} → ` +
    `${row.lossy} ${pct(row.lossy_accuracy)} on ${row.paired} paired documents (${delta} points; ` +
    `${row.only_reference} right only at ${row.reference}, ${row.only_lossy} only at ${row.lossy}; ` +
    `McNemar p = ${row.p_value.toPrecision(3)})`
  );
}
