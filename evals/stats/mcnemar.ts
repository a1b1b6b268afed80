// Exact McNemar test for paired 0/1 outcomes on the same documents: a two-sided binomial test on
// the discordant pairs (b = only A correct, c = only B correct) with p = 1/2.

export interface McNemarResult {
  n: number;
  /** A correct, B wrong. */
  onlyA: number;
  /** A wrong, B correct. */
  onlyB: number;
  /** Accuracy of B minus accuracy of A. */
  delta: number;
  pValue: number;
}

export function mcnemarExact(a: readonly number[], b: readonly number[]): McNemarResult {
  if (a.length !== b.length)
    throw new Error(`paired samples differ in length: ${a.length} vs ${b.length}`);
  let onlyA = 0;
  let onlyB = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] && !b[i]) onlyA++;
    else if (!a[i] && b[i]) onlyB++;
  }
  const n = a.length;
  return {
    n,
    onlyA,
    onlyB,
    delta: n ? (onlyB - onlyA) / n : 0,
    pValue: binomialTwoSided(Math.min(onlyA, onlyB), onlyA + onlyB),
  };
}

/** P(X ≤ k or X ≥ m − k) for X ~ Binomial(m, 1/2), capped at 1; computed in log space. */
function binomialTwoSided(k: number, m: number): number {
  if (m === 0) return 1;
  let logTerm = -m * Math.LN2; // log C(m,0) 2^-m
  let tail = Math.exp(logTerm);
  for (let i = 1; i <= k; i++) {
    logTerm += Math.log((m - i + 1) / i);
    tail += Math.exp(logTerm);
  }
  return Math.min(1, 2 * tail);
}
