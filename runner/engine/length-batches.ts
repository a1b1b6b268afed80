// Batches formed by prompt length: rows of a batch are padded to its longest prompt, so batching
// prompts of similar length wastes fewer row-positions than batching them in dataset order.

/** Indices of `lengths` in batches of at most `size`, shortest first (ties keep their order). */
export function batchesByLength(lengths: readonly number[], size: number): number[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`batch size ${size} must be ≥ 1`);
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a] - lengths[b] || a - b);
  const batches: number[][] = [];
  for (let start = 0; start < order.length; start += size)
    batches.push(order.slice(start, start + size));
  return batches;
}

/** Indices 0..count-1 in consecutive batches of at most `size` (dataset order). */
export function batchesInOrder(count: number, size: number): number[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`batch size ${size} must be ≥ 1`);
  const batches: number[][] = [];
  for (let start = 0; start < count; start += size)
    batches.push(Array.from({ length: Math.min(size, count - start) }, (_, i) => start + i));
  return batches;
}
