import { describe, expect, it } from "vitest";
import { agrees, scoreCase, upstreamCases } from "../upstream-cases.ts";

// hendrycks_math, metric by metric, against what upstream code returns on the same strings.
//
// exact_match — lm-eval main, lm_eval/tasks/hendrycks_math/utils.py process_results: the answer is
//   the text between the first and last "$" of the response (the whole response with fewer than
//   two), never unboxed, compared with the solution's last \boxed{} through is_equiv/strip_string
//   (hendrycks/math modeling/math_equivalence.py). Quirk reproduced: a boxed prediction is compared
//   with its "\boxed{...}" wrapper and scores 0; so does "\[ ... \]" display math.
// exact_match,fixed — ours: the last \boxed{} first, then the first \[...\], then main's "$" rule
//   (the extract_answer of lm-eval pull requests #3644/#3741, not merged), same strip_string.

describe("hendrycks_math exact_match agrees with lm-eval main", () => {
  // lm-eval pull-request inputs with main's actual value (the PRs assert their proposals).
  const main = upstreamCases("lmeval_main_behaviour.jsonl", "hendrycks_math");
  // hendrycks/math's is_equiv tests, and the tests lm-eval's PRs added that hold on main too.
  const equivalence = upstreamCases("hendrycks_math_equivalence.jsonl");
  const prTests = upstreamCases("lmeval_pr_tests.jsonl", "hendrycks_math");

  it("reads the upstream cases", () => {
    expect([main.length, equivalence.length, prTests.length]).toEqual([12, 16, 10]);
  });

  it.each([...main, ...equivalence, ...prTests].map((c) => [c.id, c] as const))("%s", (_id, c) => {
    expect(agrees(c)).toBe(true);
  });
});

describe("hendrycks_math exact_match,fixed reads the box first", () => {
  // Where main scores a boxed answer 0 only because of the box, the corrected metric scores it 1
  // (the same inputs lm-eval's boxed-first pull requests assert 1 for).
  const boxedOnly = upstreamCases("lmeval_main_behaviour.jsonl", "hendrycks_math").filter((c) =>
    /\\boxed\{(?:42|\[2,5\)|4|7)\}/.test(c.gold),
  );

  it.each(boxedOnly.map((c) => [c.id, c] as const))("%s", (_id, c) => {
    const score = scoreCase(c);
    expect(score.metrics.exact_match).toBe(0);
    expect(score.metrics["exact_match,fixed"]).toBe(1);
  });
});
