import { describe, expect, it } from "vitest";
import { summarizeAccuracy } from "./accuracy.ts";
import { mcnemarExact } from "./mcnemar.ts";

describe("accuracy summary", () => {
  it("uses the sample standard deviation over sqrt(n), as lm-eval's mean_stderr", () => {
    const s = summarizeAccuracy([1, 0, 1, 1]);
    expect(s.accuracy).toBe(0.75);
    // std with ddof=1 of [1,0,1,1] is 0.5; 0.5 / sqrt(4) = 0.25
    expect(s.stderr).toBeCloseTo(0.25, 12);
    expect(s.ci95[0]).toBeCloseTo(0.75 - 0.49, 12);
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
