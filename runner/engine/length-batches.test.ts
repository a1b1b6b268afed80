import { describe, expect, it } from "vitest";
import { batchesByLength } from "./length-batches.ts";

describe("batchesByLength", () => {
  it("groups shortest prompts first, ties in their original order, every index once", () => {
    expect(batchesByLength([30, 10, 20, 10, 50], 2)).toEqual([[1, 3], [2, 0], [4]]);
    expect(batchesByLength([5, 5, 5], 4)).toEqual([[0, 1, 2]]);
    expect(batchesByLength([], 3)).toEqual([]);
  });

  it("refuses a batch size below 1", () => {
    expect(() => batchesByLength([1], 0)).toThrow(/batch size 0/);
  });
});
