import { describe, expect, it } from "vitest";
import { SeededRandom } from "./rng.ts";

describe("SeededRandom", () => {
  it("is xoshiro128** seeded by splitmix32: the stream an independent implementation gives", () => {
    // Computed with arbitrary-precision integers outside JavaScript, masking to 32 bits by hand.
    const random = new SeededRandom(42);
    expect(Array.from({ length: 6 }, () => random.nextUint32())).toEqual([
      2837322924, 544945897, 479756282, 3500138142, 339756180, 113173290,
    ]);
  });

  it("fills uniforms from the same stream as nextUint32", () => {
    const draws = new SeededRandom(5);
    const expected = Float32Array.from({ length: 1000 }, () => draws.nextUint32() / 2 ** 32 - 0.5);
    const filled = new SeededRandom(5);
    expect(filled.fillUniform(new Float32Array(1000), -0.5, 0.5)).toEqual(expected);
    // The state moves on exactly as many draws.
    expect(filled.nextUint32()).toBe(draws.nextUint32());
  });

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
