import { describe, expect, it } from "vitest";
import { chunkJson } from "./json-rows.ts";

describe("chunkJson", () => {
  it("splits rows into JSON arrays under the size cap and keeps them all, in order", () => {
    const rows = Array.from({ length: 300 }, (_, i) => ({ i, text: "x".repeat(10_000) }));
    const chunks = chunkJson(rows);
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) expect(chunk.length).toBeLessThan(1_000_000);
    expect(chunks.flatMap((chunk) => JSON.parse(chunk))).toEqual(rows);
  });

  it("gives no statement for no rows", () => {
    expect(chunkJson([])).toEqual([]);
  });
});
