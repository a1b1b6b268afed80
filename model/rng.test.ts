import { describe, expect, it } from "vitest";
import { SeededRandom } from "./rng.ts";

describe("SeededRandom", () => {
  it("repeats its stream for the same seed and differs across seeds", () => {
    const a = new SeededRandom(7);
    const b = new SeededRandom(7);
    const c = new SeededRandom(8);
    const first = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(first);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(first);
  });

  it("draws truncated normals with the requested spread and bound", () => {
    const random = new SeededRandom(1);
    const values = random.fillTruncatedNormal(new Float32Array(20000), 0.5);
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length;
    expect(Math.abs(mean)).toBeLessThan(0.02);
    // A normal truncated at ±3σ keeps 97.3% of the variance.
    expect(Math.sqrt(variance)).toBeCloseTo(0.5 * Math.sqrt(0.9733), 2);
    expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(1.5 + 1e-6);
  });
});
