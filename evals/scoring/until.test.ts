import { describe, expect, it } from "vitest";
import { cutAtUntil } from "./until.ts";

// lm-eval's HFLM.generate_until: `for term in until: if len(term) > 0: s = s.split(term)[0]`.
// Splitting at each term in turn keeps the text before the earliest stop of any kind.
describe("cutAtUntil", () => {
  it.each([
    [" 12.\n\nQuestion: next one", ["Question:"], " 12.\n\n"],
    ["a Q: b Question: c", ["Question:", "Q:"], "a "],
    ["a Question: b Q: c", ["Q:", "Question:"], "a "],
    ["no stop here", ["Problem:"], "no stop here"],
    ["Problem: at the start", ["Problem:"], ""],
    ["empty stops are skipped", ["", "stops"], "empty "],
    ["nothing to cut", [], "nothing to cut"],
  ])("%j cut at %j → %j", (text, until, expected) => {
    expect(cutAtUntil(text, until)).toBe(expected);
  });
});
