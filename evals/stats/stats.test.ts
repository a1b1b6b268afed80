import { describe, expect, it } from "vitest";
import { formatAccuracy, summarizeAccuracy, wilsonInterval } from "./accuracy.ts";
import { mcnemarExact } from "./mcnemar.ts";

describe("accuracy summary", () => {
  it("uses the sample standard deviation over sqrt(n), as lm-eval's mean_stderr", () => {
    const s = summarizeAccuracy([1, 0, 1, 1]);
    expect(s.accuracy).toBe(0.75);
    // std with ddof=1 of [1,0,1,1] is 0.5; 0.5 / sqrt(4) = 0.25
    expect(s.stderr).toBeCloseTo(0.25, 12);
  });
});

describe("Wilson 95% interval", () => {
  const scores = (k: number, n: number) => [...Array(k).fill(1), ...Array(n - k).fill(0)];
  // Published values for n = 8 (Wilson score interval, z = 1.96).
  it.each([
    [0, 8, 0, 0.324],
    [8, 8, 0.676, 1],
    [1, 8, 0.022, 0.471],
  ])("%i/%i → %f–%f", (k, n, low, high) => {
    const [lo, hi] = summarizeAccuracy(scores(k, n)).ci95;
    expect(lo).toBeCloseTo(low, 3);
    expect(hi).toBeCloseTo(high, 3);
  });

  it("is never ±0 at the ends and never leaves [0, 1]", () => {
    for (const n of [1, 2, 5, 8, 100]) {
      for (let k = 0; k <= n; k++) {
        const [lo, hi] = wilsonInterval(k / n, n);
        expect(lo).toBeGreaterThanOrEqual(0);
        expect(hi).toBeLessThanOrEqual(1);
        expect(hi - lo).toBeGreaterThan(0);
      }
    }
  });

  it("formats as accuracy (low–high)", () => {
    expect(formatAccuracy(summarizeAccuracy(scores(1, 8)))).toBe("12.5% (2.2–47.1)");
    expect(formatAccuracy(summarizeAccuracy(scores(0, 8)))).toBe("0.0% (0.0–32.4)");
    expect(formatAccuracy(summarizeAccuracy(scores(8, 8)))).toBe("100.0% (67.6–100.0)");
  });
});

describe("exact McNemar test", () => {
  it("matches the binomial test on discordant pairs", () => {
    // 10 discordant pairs, 1 vs 9: p = 2·P(X ≤ 1 | Bin(10, 1/2)) = 2·11/1024
    const a = [...Array(9).fill(0), 1, ...Array(20).fill(1)];
    const b = [...Array(9).fill(1), 0, ...Array(20).fill(1)];
    const result = mcnemarExact(a, b);
    expect(result.onlyA).toBe(1);
    expect(result.onlyB).toBe(9);
    expect(result.pValue).toBeCloseTo(22 / 1024, 12);
    expect(result.delta).toBeCloseTo(8 / 30, 12);
  });

  it("gives p = 1 for identical runs and for balanced disagreement", () => {
    expect(mcnemarExact([1, 0, 1], [1, 0, 1]).pValue).toBe(1);
    expect(mcnemarExact([1, 0], [0, 1]).pValue).toBe(1);
  });
});
