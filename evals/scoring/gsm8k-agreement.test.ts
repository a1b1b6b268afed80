import { describe, expect, it } from "vitest";
import { agrees, upstreamCases } from "./upstream-cases.ts";

// gsm8k against what lm-eval main returns on the same strings (lm_eval/tasks/gsm8k/gsm8k.yaml):
// strict-match is the regex "#### (\-?[0-9\.\,]+)" and flexible-extract "(-?[$0-9.,]{2,})|(-?[0-9]+)"
// with group_select -1 (the last number), both then take_first; exact_match ignores case and
// the regexes [",", "\$", "(?s).*#### ", "\.$"]. The cases are the tests of lm-eval pull request
// #3983, each checked to hold on lm-eval main. Every quirk and corrected metric of the gsm8k
// family is pinned case by case in gsm8k.test.ts.
describe("gsm8k agrees with lm-eval main", () => {
  const cases = upstreamCases("lmeval_pr_tests.jsonl", "gsm8k");

  it("reads the upstream cases", () => {
    expect(cases.length).toBe(9);
  });

  it.each(cases.map((c) => [c.id, c] as const))("%s", (_id, c) => {
    expect(agrees(c)).toBe(true);
  });
});
