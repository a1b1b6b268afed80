// Accuracy with lm-eval's standard error (sample std with ddof 1, over sqrt(n)), kept as lm-eval
// computes it for its export, and a Wilson score 95% interval for everything we show. Wald's
// mean ± 1.96·stderr claims ±0 at 0/n and n/n and goes below 0 at 1/8, and small `--limit` runs are
// exactly where the harness is used.

/** Which interval `ci95` is, for tables, CSV and the API to say so. */
export const CI95_METHOD = "wilson";

/** z for a two-sided 95% interval. */
const Z95 = 1.959963984540054;

export interface AccuracySummary {
  n: number;
  accuracy: number;
  stderr: number;
  /** Wilson score interval at 95%. */
  ci95: [number, number];
}

export function summarizeAccuracy(scores: readonly number[]): AccuracySummary {
  const n = scores.length;
  if (n === 0)
    return { n, accuracy: Number.NaN, stderr: Number.NaN, ci95: [Number.NaN, Number.NaN] };
  const mean = scores.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? scores.reduce((a, s) => a + (s - mean) ** 2, 0) / (n - 1) : 0;
  return { n, accuracy: mean, stderr: Math.sqrt(variance / n), ci95: wilsonInterval(mean, n) };
}

/** Wilson score interval for a proportion `p` observed over `n` trials, clamped to [0, 1]. */
export function wilsonInterval(p: number, n: number, z = Z95): [number, number] {
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denominator;
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return [Math.max(0, center - half), Math.min(1, center + half)];
}

/** `12.5% (2.2–47.1)`: accuracy and its 95% Wilson interval, in percent. */
export function formatAccuracy(summary: Pick<AccuracySummary, "accuracy" | "ci95">, digits = 1) {
  const pct = (x: number) => (100 * x).toFixed(digits);
  return `${pct(summary.accuracy)}% (${pct(summary.ci95[0])}–${pct(summary.ci95[1])})`;
}
