import { describe, expect, it } from "vitest";
import { planShards } from "./shard-plan.ts";

describe("planShards", () => {
  it("covers every document of every r exactly once, in ranges of shardSize", () => {
    const shards = planShards("gsm8k", 10, [1, 4], 4, () => false);
    expect(shards.map((s) => [s.recurrences, s.docStart, s.docEnd])).toEqual([
      [1, 0, 4],
      [1, 4, 8],
      [1, 8, 10],
      [4, 0, 4],
      [4, 4, 8],
      [4, 8, 10],
    ]);
  });

  it("marks a shard done only when all of its documents have results", () => {
    const reused = new Set(["4:0", "4:1", "4:2", "4:3", "4:4"]);
    const shards = planShards("gsm8k", 6, [4], 4, (r, doc) => reused.has(`${r}:${doc}`));
    expect(shards.map((s) => s.done)).toEqual([true, false]);
  });
});
