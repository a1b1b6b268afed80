// Splitting a run into shards: task × r × contiguous document ranges of `shardSize`.

export interface PlannedShard {
  task: string;
  recurrences: number;
  docStart: number;
  /** Exclusive. */
  docEnd: number;
  /** Every document already has a result (reused), so nobody needs to lease it. */
  done: boolean;
}

/**
 * Example: 10 docs, r ∈ {1, 4}, shardSize 4 → per r the ranges [0,4) [4,8) [8,10).
 * `hasResult(r, doc)` marks documents whose result is reused.
 */
export function planShards(
  task: string,
  docCount: number,
  recurrences: readonly number[],
  shardSize: number,
  hasResult: (recurrences: number, docIndex: number) => boolean,
): PlannedShard[] {
  const shards: PlannedShard[] = [];
  for (const r of recurrences) {
    for (let start = 0; start < docCount; start += shardSize) {
      const end = Math.min(docCount, start + shardSize);
      let done = true;
      for (let doc = start; doc < end && done; doc++) done = hasResult(r, doc);
      shards.push({ task, recurrences: r, docStart: start, docEnd: end, done });
    }
  }
  return shards;
}
