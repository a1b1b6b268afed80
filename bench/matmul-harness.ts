// What bench/matmulnbits.ts and bench/quantized-matmul-ops.ts share: seeded inputs, the median
// time of a call and the error against an exact product.

/** Median ms of `calls` calls of `run`, after one warm-up call. */
export async function medianMs(run: () => Promise<unknown>, calls: number): Promise<number> {
  await run();
  const ms: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t = performance.now();
    await run();
    ms.push(performance.now() - t);
  }
  return ms.sort((a, b) => a - b)[Math.floor(ms.length / 2)];
}

/** n uniform values in [−scale, scale) from a seeded LCG (the same inputs on every run). */
export function seededUniform(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

/** A time or ratio in a fixed-width column. */
export const column = (x: number) => x.toFixed(2).padStart(8);
