// Accuracy with lm-eval's standard error (sample std with ddof 1, over sqrt(n)) and a normal 95% CI.

export interface AccuracySummary {
  n: number;
  accuracy: number;
  stderr: number;
  ci95: [number, number];
}

export function summarizeAccuracy(scores: readonly number[]): AccuracySummary {
  const n = scores.length;
  if (n === 0)
    return { n, accuracy: Number.NaN, stderr: Number.NaN, ci95: [Number.NaN, Number.NaN] };
  const mean = scores.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? scores.reduce((a, s) => a + (s - mean) ** 2, 0) / (n - 1) : 0;
  const stderr = Math.sqrt(variance / n);
  return { n, accuracy: mean, stderr, ci95: [mean - 1.96 * stderr, mean + 1.96 * stderr] };
}
