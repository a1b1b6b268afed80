// A small seeded generator for adapter initialisation and the recurrent state s_0. Pure TypeScript
// (it runs in Node, browsers and workerd): xoshiro128** seeded by splitmix32, whose integer stream
// is bit-identical everywhere; normals by Box–Muller, exact up to the engine's Math.log/cos ulps.

/** A deterministic random stream; the same seed gives the same integers on every platform. */
export class SeededRandom {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | null = null;

  constructor(seed: number) {
    let x = seed >>> 0;
    const next = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in (0, 1), never exactly 0 so logarithms stay finite. */
  uniform(): number {
    return (this.nextUint32() + 0.5) / 4294967296;
  }

  /** Standard normal. */
  normal(): number {
    if (this.spareNormal !== null) {
      const spare = this.spareNormal;
      this.spareNormal = null;
      return spare;
    }
    const radius = Math.sqrt(-2 * Math.log(this.uniform()));
    const angle = 2 * Math.PI * this.uniform();
    this.spareNormal = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  /** Normal with standard deviation `std`, redrawn until it lies within ±bound·std (default 3σ). */
  truncatedNormal(std: number, bound = 3): number {
    for (;;) {
      const z = this.normal();
      if (Math.abs(z) <= bound) return z * std;
    }
  }

  /**
   * Fills `out` with uniform values in [low, high): the same numbers as repeated nextUint32(), drawn
   * with the state in locals, which is several times faster for the billion-weight presets.
   */
  fillUniform(out: Float32Array, low: number, high: number): Float32Array {
    const scale = (high - low) / 4294967296;
    let { s0, s1, s2, s3 } = this;
    for (let i = 0; i < out.length; i++) {
      const r = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
      const t = (s1 << 9) >>> 0;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = rotl(s3, 11);
      out[i] = r * scale + low;
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
    return out;
  }

  /** An independent stream that continues from exactly where this one stands. */
  clone(): SeededRandom {
    const copy = Object.create(SeededRandom.prototype) as SeededRandom;
    Object.assign(copy, this);
    return copy;
  }

  /** Fills `out` with truncated normals; returns it. */
  fillTruncatedNormal(out: Float32Array, std: number, bound = 3): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = this.truncatedNormal(std, bound);
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
