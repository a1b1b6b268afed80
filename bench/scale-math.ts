// The arithmetic of bench/scale.ts, kept pure so it can be checked by hand: step times affine in
// r, cached-vs-recompute integration over prefix lengths, and the projection of a whole task run
// from measured step times (this machine) or from bytes and a bandwidth (a GPU's bound).

/** Least-squares polynomial of `degree` (1 or 2) through (x, y); coefficients lowest first. */
export function fitPolynomial(
  xs: readonly number[],
  ys: readonly number[],
  degree: 1 | 2,
): number[] {
  const n = degree + 1;
  if (xs.length !== ys.length || xs.length < n) {
    throw new RangeError(`a degree-${degree} fit needs at least ${n} points, got ${xs.length}`);
  }
  // Normal equations (XᵀX) c = Xᵀy, solved by Gaussian elimination with partial pivoting.
  const a = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n + 1 }, (_, j) =>
      j < n
        ? xs.reduce((s, x) => s + x ** (i + j), 0)
        : xs.reduce((s, x, k) => s + ys[k] * x ** i, 0),
    ),
  );
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let row = col + 1; row < n; row++)
      if (Math.abs(a[row][col]) > Math.abs(a[pivot][col])) pivot = row;
    if (a[pivot][col] === 0)
      throw new RangeError("the fit's points do not determine it (repeated x)");
    [a[col], a[pivot]] = [a[pivot], a[col]];
    for (let row = 0; row < n; row++) {
      if (row === col) continue;
      const f = a[row][col] / a[col][col];
      for (let j = col; j <= n; j++) a[row][j] -= f * a[col][j];
    }
  }
  return a.map((row, i) => row[n] / row[i]);
}

export const evaluate = (coefficients: readonly number[], x: number) =>
  coefficients.reduce((s, c, i) => s + c * x ** i, 0);

/** Σ f(n) for n = from..to (integers, inclusive). */
export function sumOver(f: (n: number) => number, from: number, to: number): number {
  let total = 0;
  for (let n = from; n <= to; n++) total += f(n);
  return total;
}

/** Times measured at a few lengths: a forward over n tokens without cache, a decode step at t. */
export interface PrefixTimes {
  /** Prefill (no cache) of n tokens: seconds. */
  forward: { n: number; seconds: number }[];
  /** One cached decode step with t positions already in the cache: seconds. */
  decode: { t: number; seconds: number }[];
}

/**
 * Greedy generation of `generated` tokens after a `prompt`-token prompt, both ways. Cached: one
 * prefill of the prompt (its logits give token 1), then a decode step per further token, at cache
 * lengths prompt..prompt+generated−2. Recompute: token k (0-based) is a full forward over the
 * prompt + k tokens before it, n = prompt..prompt+generated−1. The forward's time is a quadratic in
 * n (attention) and the decode step's a line in t, each fitted to the measured points and summed.
 */
export function cachedVsRecompute(times: PrefixTimes, prompt: number, generated: number) {
  const { forward, decode } = fits(times);
  const cached =
    evaluate(forward, prompt) + sumOver((t) => evaluate(decode, t), prompt, prompt + generated - 2);
  const recompute = sumOver((n) => evaluate(forward, n), prompt, prompt + generated - 1);
  return { cached, recompute, ratio: recompute / cached };
}

/**
 * The most a cache could gain on this machine: the same recompute against a cached run whose
 * decode steps each take only `stepFloor` seconds (the bytes a step must read ÷ the memory
 * bandwidth), the prompt's prefill as measured. A cache cannot beat this: the ratio is fixed by
 * how fast the machine computes a forward against how fast it streams the weights.
 */
export function cacheBound(
  times: PrefixTimes,
  prompt: number,
  generated: number,
  stepFloor: number,
) {
  const { forward } = fits(times);
  const cached = evaluate(forward, prompt) + (generated - 1) * stepFloor;
  const recompute = sumOver((n) => evaluate(forward, n), prompt, prompt + generated - 1);
  return { cached, recompute, ratio: recompute / cached };
}

function fits(times: PrefixTimes) {
  const forward = fitPolynomial(
    times.forward.map((p) => p.n),
    times.forward.map((p) => p.seconds),
    times.forward.length >= 3 ? 2 : 1,
  );
  const decode = fitPolynomial(
    times.decode.map((p) => p.t),
    times.decode.map((p) => p.seconds),
    1,
  );
  return { forward, decode };
}

/**
 * A step's time as fixed + r × per-iteration (prelude and coda once, the block r times), from the
 * times measured at two r's; used to extrapolate to r's that were not measured.
 */
export function affineInR(r1: number, t1: number, r2: number, t2: number) {
  const perIteration = (t2 - t1) / (r2 - r1);
  const fixed = t1 - r1 * perIteration;
  return { fixed, perIteration, at: (r: number) => fixed + r * perIteration };
}

/** One document's token counts: the prompt, and the tokens generated before the stop rule ends it. */
export interface DocLengths {
  prompt: number;
  generated: number;
}

/** Seconds of one graph call, by what the call's cost depends on. */
export interface RunCosts {
  /** A decode step at r with `rows` rows in the batch and `context` positions in the cache. */
  decodeStep(r: number, rows: number, context: number): number;
  /** A prefill at r of `rows` rows padded to `length` positions. */
  prefill(r: number, rows: number, length: number): number;
}

/**
 * Seconds of a whole generation run as `evals local` does it: documents batched by prompt length
 * (left-padded to the batch's longest), finished rows leaving the batch, and, over a sweep of r's,
 * one prefill per batch at the largest r (it contains every smaller r's) and a decode per r.
 */
export function projectRun(
  docs: readonly DocLengths[],
  batch: number,
  recurrences: readonly number[],
  costs: RunCosts,
): { prefill: number; decode: Map<number, number>; total: number } {
  const order = docs.map((_, i) => i).sort((a, b) => docs[a].prompt - docs[b].prompt || a - b);
  const rMax = Math.max(...recurrences);
  let prefill = 0;
  const decode = new Map(recurrences.map((r) => [r, 0]));
  for (let start = 0; start < order.length; start += batch) {
    const rows = order.slice(start, start + batch).map((i) => docs[i]);
    const length = Math.max(...rows.map((d) => d.prompt));
    prefill += costs.prefill(rMax, rows.length, length);
    // Step k (k ≥ 1) runs for every row still generating, at cache length `length` + k − 1.
    const steps = Math.max(...rows.map((d) => d.generated));
    for (const r of recurrences) {
      let seconds = 0;
      for (let k = 1; k < steps; k++) {
        const active = rows.filter((d) => d.generated > k).length;
        seconds += costs.decodeStep(r, active, length + k - 1);
      }
      decode.set(r, decode.get(r)! + seconds);
    }
  }
  const total = prefill + [...decode.values()].reduce((a, b) => a + b, 0);
  return { prefill, decode, total };
}

/** Bytes a step reads at r: the weights (block r times) and every row's KV cache of every layer. */
export interface StepBytes {
  /** Streamed weight bytes of prelude, block and coda (gathered embedding tables excluded). */
  weights: { prelude: number; block: number; coda: number };
  /** KV bytes one position adds to one layer (keys and values). */
  kvPerPositionPerLayer: number;
  layers: { prelude: number; block: number; coda: number };
}

export function weightBytesAt(bytes: StepBytes, r: number): number {
  const { prelude, block, coda } = bytes.weights;
  return prelude + r * block + coda;
}

export function kvBytesAt(bytes: StepBytes, r: number, rows: number, context: number): number {
  const { prelude, block, coda } = bytes.layers;
  return rows * context * bytes.kvPerPositionPerLayer * (prelude + r * block + coda);
}

/**
 * Costs of a device that only streams memory: each decode step reads the weights once for the
 * whole batch plus every row's KV cache; a prefill reads the weights once and does its FLOPs at
 * `flopsPerSecond` (whichever takes longer).
 */
export function bandwidthBoundCosts(
  bytes: StepBytes,
  bandwidth: number,
  flopsPerSecond: number,
  prefillFlops: (r: number, rows: number, length: number) => number,
): RunCosts {
  return {
    decodeStep: (r, rows, context) =>
      (weightBytesAt(bytes, r) + kvBytesAt(bytes, r, rows, context)) / bandwidth,
    prefill: (r, rows, length) =>
      Math.max(weightBytesAt(bytes, r) / bandwidth, prefillFlops(r, rows, length) / flopsPerSecond),
  };
}

/** A shape timed on this machine: a prefill of `promptTokens` per row, then decode steps. */
export interface MeasuredShape {
  r: number;
  batch: number;
  promptTokens: number;
  prefillSeconds: number;
  stepSeconds: number;
  /** Cache length at the timed decode steps. */
  context: number;
}

/**
 * Costs on this machine from shapes timed at two r's and two batch sizes: each time is affine in
 * r (fixed + r × per-iteration) and linear between the two batch sizes (rows in between
 * interpolate, never below the smaller batch's time); a decode step at a longer context than the one timed adds the extra KV bytes at
 * `bandwidth`; a prefill is proportional to its positions (rows × length), quadratic attention ignored.
 */
export function measuredCosts(
  shapes: readonly MeasuredShape[],
  bytes: StepBytes,
  bandwidth: number,
): RunCosts {
  const rs = [...new Set(shapes.map((s) => s.r))].sort((a, b) => a - b);
  const batches = [...new Set(shapes.map((s) => s.batch))].sort((a, b) => a - b);
  if (rs.length < 2 || batches.length < 2) {
    throw new RangeError("projecting needs shapes timed at two r's and two batch sizes");
  }
  const [rA, rB] = [rs[0], rs.at(-1)!];
  const [bA, bB] = [batches[0], batches.at(-1)!];
  const shape = (r: number, batch: number) => {
    const found = shapes.find((s) => s.r === r && s.batch === batch);
    if (!found) throw new RangeError(`no shape timed at r = ${r}, batch ${batch}`);
    return found;
  };
  // A larger r never costs less (it runs the same graphs and more): a faster time is noise.
  const inR = (batch: number, time: (s: MeasuredShape) => number) => {
    const [tA, tB] = [time(shape(rA, batch)), time(shape(rB, batch))];
    return affineInR(rA, tA, rB, Math.max(tA, tB));
  };
  const line = (x0: number, y0: number, x1: number, y1: number) => (x: number) =>
    y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
  const stepA = inR(bA, (s) => s.stepSeconds);
  const stepB = inR(bB, (s) => s.stepSeconds);
  const prefillA = inR(bA, (s) => s.prefillSeconds);
  const prefillB = inR(bB, (s) => s.prefillSeconds);
  const positionsB = bB * shape(rA, bB).promptTokens;
  const context = shape(rA, bA).context;
  return {
    // More rows never cost less: a batch that timed faster than a smaller one is noise.
    decodeStep: (r, rows, at) =>
      Math.max(stepA.at(r), line(bA, stepA.at(r), bB, stepB.at(r))(rows)) +
      kvBytesAt(bytes, r, rows, Math.max(0, at - context)) / bandwidth,
    // Through the larger prefill (the more compute-bound one), never below the smaller's time:
    // a line through two noisy short prefills can slope the wrong way over thousands of positions.
    prefill: (r, rows, length) =>
      Math.max(prefillA.at(r), (prefillB.at(r) * (rows * length)) / positionsB),
  };
}
