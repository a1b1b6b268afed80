import { describe, expect, it } from "vitest";
import { type Gsm8kStyle, scoreGsm8k } from "./gsm8k.ts";
import type { ScoreResult } from "./types.ts";

// Expected values were computed by running lm-eval's own logic in Python on each case: RegexFilter
// (findall, group_select, first non-empty group of a tuple, strip, "[invalid]" fallback),
// take_first, and exact_match with the task YAMLs' regexes_to_ignore [",", "\\$", "(?s).*#### ",
// "\\.$"] and ignore_case, with the gold from each task's doc_to_target. Python's `re` decides, so
// quirks such as the unescaped "." of gsm8k_cot's strict-match ("The answer is 18" → "1") and `$`
// matching before a final newline are part of the expectations.
const CASES: [Gsm8kStyle, string, string, ScoreResult][] = [
  [
    "gsm8k",
    " She has 18 eggs.\n#### 18",
    "Some reasoning <<2*3=6>> here.\n#### 18",
    {
      extracted: { "strict-match": "18", "flexible-extract": "18" },
      metrics: { "exact_match,strict-match": 1, "exact_match,flexible-extract": 1 },
    },
  ],
  [
    "gsm8k",
    " #### 1,600",
    "Some reasoning <<2*3=6>> here.\n#### 1,600",
    {
      extracted: { "strict-match": "1,600", "flexible-extract": "1,600" },
      metrics: { "exact_match,strict-match": 1, "exact_match,flexible-extract": 1 },
    },
  ],
  [
    "gsm8k",
    " #### 1600",
    "Some reasoning <<2*3=6>> here.\n#### 1,600",
    {
      extracted: { "strict-match": "1600", "flexible-extract": "1600" },
      metrics: { "exact_match,strict-match": 1, "exact_match,flexible-extract": 1 },
    },
  ],
  [
    "gsm8k",
    " #### $1,600",
    "Some reasoning <<2*3=6>> here.\n#### 1,600",
    {
      extracted: { "strict-match": "[invalid]", "flexible-extract": "$1,600" },
      metrics: { "exact_match,strict-match": 0, "exact_match,flexible-extract": 1 },
    },
  ],
  [
    "gsm8k",
    " #### -3",
    "Some reasoning <<2*3=6>> here.\n#### -3",
    {
      extracted: { "strict-match": "-3", "flexible-extract": "-3" },
      metrics: { "exact_match,strict-match": 1, "exact_match,flexible-extract": 1 },
    },
  ],
  [
    "gsm8k",
    " #### 3",
    "Some reasoning <<2*3=6>> here.\n#### -3",
    {
      extracted: { "strict-match": "3", "flexible-extract": "3" },
      metrics: { "exact_match,strict-match": 0, "exact_match,flexible-extract": 0 },
    },
  ],
  [
    "gsm8k",
    " #### 18.",
    "Some reasoning <<2*3=6>> here.\n#### 18",
    {
      extracted: { "strict-match": "18.", "flexible-extract": "18." },
      metrics: { "exact_match,strict-match": 1, "exact_match,flexible-extract": 1 },
    },
  ],
  [
    "gsm8k",
    " #### 18.00",
    "Some reasoning <<2*3=6>> here.\n#### 18",
    {
      extracted: { "strict-match": "18.00", "flexible-extract": "18.00" },
      metrics: { "exact_match,strict-match": 0, "exact_match,flexible-extract": 0 },
    },
  ],
  [
    "gsm8k",
    " #### 18.5",
    "Some reasoning <<2*3=6>> here.\n#### 18.5",
    {
      extracted: { "strict-match": "18.5", "flexible-extract": "18.5" },
      metrics: { "exact_match,strict-match": 1, "exact_match,flexible-extract": 1 },
    },
  ],
  [
    "gsm8k",
    " The total is 5 + 13 = 18 eggs.",
    "Some reasoning <<2*3=6>> here.\n#### 18",
    {
      extracted: { "strict-match": "[invalid]", "flexible-extract": "18" },
      metrics: { "exact_match,strict-match": 0, "exact_match,flexible-extract": 1 },
    },
  ],
  [
    "gsm8k",
    " #### 17\n#### 18",
    "Some reasoning <<2*3=6>> here.\n#### 18",
    {
      extracted: { "strict-match": "17", "flexible-extract": "18" },
      metrics: { "exact_match,strict-match": 0, "exact_match,flexible-extract": 1 },
    },
  ],
  [
    "gsm8k",
    " ####18",
    "Some reasoning <<2*3=6>> here.\n#### 18",
    {
      extracted: { "strict-match": "[invalid]", "flexible-extract": "18" },
      metrics: { "exact_match,strict-match": 0, "exact_match,flexible-extract": 1 },
    },
  ],
  [
    "gsm8k",
    " no numbers here",
    "Some reasoning <<2*3=6>> here.\n#### 18",
    {
      extracted: { "strict-match": "[invalid]", "flexible-extract": "[invalid]" },
      metrics: { "exact_match,strict-match": 0, "exact_match,flexible-extract": 0 },
    },
  ],
  [
    "gsm8k",
    " #### 18\n\nQuestion",
    "Some reasoning <<2*3=6>> here.\n#### 18",
    {
      extracted: { "strict-match": "18", "flexible-extract": "18" },
      metrics: { "exact_match,strict-match": 1, "exact_match,flexible-extract": 1 },
    },
  ],
  [
    "gsm8k",
    " It costs $2.50 each, so 4 cost $10.00.\n#### 10",
    "Some reasoning <<2*3=6>> here.\n#### 10",
    {
      extracted: { "strict-match": "10", "flexible-extract": "10" },
      metrics: { "exact_match,strict-match": 1, "exact_match,flexible-extract": 1 },
    },
  ],
  [
    "gsm8k",
    " 2 + 2 = 4 and 4 * 5 = 20",
    "Some reasoning <<2*3=6>> here.\n#### 20",
    {
      extracted: { "strict-match": "[invalid]", "flexible-extract": "20" },
      metrics: { "exact_match,strict-match": 0, "exact_match,flexible-extract": 1 },
    },
  ],
  [
    "gsm8k",
    " 20 apples and 3",
    "Some reasoning <<2*3=6>> here.\n#### 20",
    {
      extracted: { "strict-match": "[invalid]", "flexible-extract": "3" },
      metrics: { "exact_match,strict-match": 0, "exact_match,flexible-extract": 0 },
    },
  ],
  [
    "gsm8k",
    " #### 1,000,000",
    "Some reasoning <<2*3=6>> here.\n#### 1000000",
    {
      extracted: { "strict-match": "1,000,000", "flexible-extract": "1,000,000" },
      metrics: { "exact_match,strict-match": 1, "exact_match,flexible-extract": 1 },
    },
  ],
  [
    "gsm8k",
    " #### .5",
    "Some reasoning <<2*3=6>> here.\n#### 0.5",
    {
      extracted: { "strict-match": ".5", "flexible-extract": ".5" },
      metrics: { "exact_match,strict-match": 0, "exact_match,flexible-extract": 0 },
    },
  ],
  [
    "gsm8k",
    " #### 0.5",
    "Some reasoning <<2*3=6>> here.\n#### 0.5",
    {
      extracted: { "strict-match": "0.5", "flexible-extract": "0.5" },
      metrics: { "exact_match,strict-match": 1, "exact_match,flexible-extract": 1 },
    },
  ],
  [
    "gsm8k_cot",
    " 5 + 13 = 18. The answer is 18.",
    "Some reasoning <<2*3=6>> here.\n#### 18",
    {
      extracted: { "strict-match": "18", "flexible-extract": "18.", "strict-match-fixed": "18" },
      metrics: {
        "exact_match,strict-match": 1,
        "exact_match,flexible-extract": 1,
        "exact_match,strict-match-fixed": 1,
      },
    },
  ],
  [
    "gsm8k_cot",
    " 5 + 13 = 18. The answer is 18",
    "Some reasoning <<2*3=6>> here.\n#### 18",
    {
      extracted: { "strict-match": "1", "flexible-extract": "18", "strict-match-fixed": "18" },
      metrics: {
        "exact_match,strict-match": 0,
        "exact_match,flexible-extract": 1,
        "exact_match,strict-match-fixed": 1,
      },
    },
  ],
  [
    "gsm8k_cot",
    " The answer is 18 eggs.",
    "Some reasoning <<2*3=6>> here.\n#### 18",
    {
      extracted: { "strict-match": "18", "flexible-extract": "18", "strict-match-fixed": "18" },
      metrics: {
        "exact_match,strict-match": 1,
        "exact_match,flexible-extract": 1,
        "exact_match,strict-match-fixed": 1,
      },
    },
  ],
  [
    "gsm8k_cot",
    " The answer is 1,600.",
    "Some reasoning <<2*3=6>> here.\n#### 1,600",
    {
      extracted: {
        "strict-match": "1,600",
        "flexible-extract": "1,600.",
        "strict-match-fixed": "1,600",
      },
      metrics: {
        "exact_match,strict-match": 1,
        "exact_match,flexible-extract": 1,
        "exact_match,strict-match-fixed": 1,
      },
    },
  ],
  [
    "gsm8k_cot",
    " The answer is $1,600.",
    "Some reasoning <<2*3=6>> here.\n#### 1,600",
    {
      extracted: {
        "strict-match": "[invalid]",
        "flexible-extract": "$1,600.",
        "strict-match-fixed": "[invalid]",
      },
      metrics: {
        "exact_match,strict-match": 0,
        "exact_match,flexible-extract": 1,
        "exact_match,strict-match-fixed": 0,
      },
    },
  ],
  [
    "gsm8k_cot",
    " The answer is -3.",
    "Some reasoning <<2*3=6>> here.\n#### -3",
    {
      extracted: { "strict-match": "-3", "flexible-extract": "-3.", "strict-match-fixed": "-3" },
      metrics: {
        "exact_match,strict-match": 1,
        "exact_match,flexible-extract": 1,
        "exact_match,strict-match-fixed": 1,
      },
    },
  ],
  [
    "gsm8k_cot",
    " The answer is 3.",
    "Some reasoning <<2*3=6>> here.\n#### -3",
    {
      extracted: { "strict-match": "3", "flexible-extract": "3.", "strict-match-fixed": "3" },
      metrics: {
        "exact_match,strict-match": 0,
        "exact_match,flexible-extract": 0,
        "exact_match,strict-match-fixed": 0,
      },
    },
  ],
  [
    "gsm8k_cot",
    " The answer is 18.0.",
    "Some reasoning <<2*3=6>> here.\n#### 18",
    {
      extracted: {
        "strict-match": "18.0",
        "flexible-extract": "18.0.",
        "strict-match-fixed": "18.0",
      },
      metrics: {
        "exact_match,strict-match": 0,
        "exact_match,flexible-extract": 0,
        "exact_match,strict-match-fixed": 0,
      },
    },
  ],
  [
    "gsm8k_cot",
    " The answer is 18.5.",
    "Some reasoning <<2*3=6>> here.\n#### 18.5",
    {
      extracted: {
        "strict-match": "18.5",
        "flexible-extract": "18.5.",
        "strict-match-fixed": "18.5",
      },
      metrics: {
        "exact_match,strict-match": 1,
        "exact_match,flexible-extract": 1,
        "exact_match,strict-match-fixed": 1,
      },
    },
  ],
  [
    "gsm8k_cot",
    " The answer is 7. The answer is 18.",
    "Some reasoning <<2*3=6>> here.\n#### 18",
    {
      extracted: { "strict-match": "7.", "flexible-extract": "18.", "strict-match-fixed": "7" },
      metrics: {
        "exact_match,strict-match": 0,
        "exact_match,flexible-extract": 1,
        "exact_match,strict-match-fixed": 0,
      },
    },
  ],
  [
    "gsm8k_cot",
    " the answer is 18.",
    "Some reasoning <<2*3=6>> here.\n#### 18",
    {
      extracted: {
        "strict-match": "[invalid]",
        "flexible-extract": "18.",
        "strict-match-fixed": "[invalid]",
      },
      metrics: {
        "exact_match,strict-match": 0,
        "exact_match,flexible-extract": 1,
        "exact_match,strict-match-fixed": 0,
      },
    },
  ],
  [
    "gsm8k_cot",
    " So she makes 9 * 2 = $18 every day. The answer is 18.\n\nQ:",
    "Some reasoning <<2*3=6>> here.\n#### 18",
    {
      extracted: { "strict-match": "18", "flexible-extract": "18.", "strict-match-fixed": "18" },
      metrics: {
        "exact_match,strict-match": 1,
        "exact_match,flexible-extract": 1,
        "exact_match,strict-match-fixed": 1,
      },
    },
  ],
  [
    "gsm8k_cot",
    " She sells 16 - 3 - 4 = 9 eggs. 9 * 2 = 18",
    "Some reasoning <<2*3=6>> here.\n#### 18",
    {
      extracted: {
        "strict-match": "[invalid]",
        "flexible-extract": "18",
        "strict-match-fixed": "[invalid]",
      },
      metrics: {
        "exact_match,strict-match": 0,
        "exact_match,flexible-extract": 1,
        "exact_match,strict-match-fixed": 0,
      },
    },
  ],
  [
    "gsm8k_cot",
    " She sells 9 eggs for $18.",
    "Some reasoning <<2*3=6>> here.\n#### 18",
    {
      extracted: {
        "strict-match": "[invalid]",
        "flexible-extract": "$18.",
        "strict-match-fixed": "[invalid]",
      },
      metrics: {
        "exact_match,strict-match": 0,
        "exact_match,flexible-extract": 1,
        "exact_match,strict-match-fixed": 0,
      },
    },
  ],
  [
    "gsm8k_cot",
    " 9 * 2 = 18 dollars, i.e. 18.00.",
    "Some reasoning <<2*3=6>> here.\n#### 18",
    {
      extracted: {
        "strict-match": "[invalid]",
        "flexible-extract": "18.00.",
        "strict-match-fixed": "[invalid]",
      },
      metrics: {
        "exact_match,strict-match": 0,
        "exact_match,flexible-extract": 0,
        "exact_match,strict-match-fixed": 0,
      },
    },
  ],
  [
    "gsm8k_cot",
    " The answer is 18!",
    "Some reasoning <<2*3=6>> here.\n#### 18",
    {
      extracted: { "strict-match": "18", "flexible-extract": "18", "strict-match-fixed": "18" },
      metrics: {
        "exact_match,strict-match": 1,
        "exact_match,flexible-extract": 1,
        "exact_match,strict-match-fixed": 1,
      },
    },
  ],
  [
    "gsm8k_cot",
    " The answer is 5",
    "Some reasoning <<2*3=6>> here.\n#### 5",
    {
      extracted: {
        "strict-match": "[invalid]",
        "flexible-extract": "5",
        "strict-match-fixed": "5",
      },
      metrics: {
        "exact_match,strict-match": 0,
        "exact_match,flexible-extract": 1,
        "exact_match,strict-match-fixed": 1,
      },
    },
  ],
  [
    "gsm8k_cot",
    " The answer is 42\n",
    "Some reasoning <<2*3=6>> here.\n#### 42",
    {
      extracted: { "strict-match": "4", "flexible-extract": "42", "strict-match-fixed": "42" },
      metrics: {
        "exact_match,strict-match": 0,
        "exact_match,flexible-extract": 1,
        "exact_match,strict-match-fixed": 1,
      },
    },
  ],
  [
    "gsm8k_cot",
    "",
    "Some reasoning <<2*3=6>> here.\n#### 18",
    {
      extracted: {
        "strict-match": "[invalid]",
        "flexible-extract": "[invalid]",
        "strict-match-fixed": "[invalid]",
      },
      metrics: {
        "exact_match,strict-match": 0,
        "exact_match,flexible-extract": 0,
        "exact_match,strict-match-fixed": 0,
      },
    },
  ],
  [
    "gsm8k_cot",
    " The answer is one hundred.",
    "Some reasoning <<2*3=6>> here.\n#### 100",
    {
      extracted: {
        "strict-match": "[invalid]",
        "flexible-extract": "[invalid]",
        "strict-match-fixed": "[invalid]",
      },
      metrics: {
        "exact_match,strict-match": 0,
        "exact_match,flexible-extract": 0,
        "exact_match,strict-match-fixed": 0,
      },
    },
  ],
  [
    "gsm8k_cot",
    " The answer is 100,000.",
    "Some reasoning <<2*3=6>> here.\n#### 100000",
    {
      extracted: {
        "strict-match": "100,000",
        "flexible-extract": "100,000.",
        "strict-match-fixed": "100,000",
      },
      metrics: {
        "exact_match,strict-match": 1,
        "exact_match,flexible-extract": 1,
        "exact_match,strict-match-fixed": 1,
      },
    },
  ],
  [
    "gsm8k_cot",
    " The answer is 0.25.",
    "Some reasoning <<2*3=6>> here.\n#### 0.25",
    {
      extracted: {
        "strict-match": "0.25",
        "flexible-extract": "0.25.",
        "strict-match-fixed": "0.25",
      },
      metrics: {
        "exact_match,strict-match": 1,
        "exact_match,flexible-extract": 1,
        "exact_match,strict-match-fixed": 1,
      },
    },
  ],
  [
    "gsm8k_cot",
    " The answer is -0.5 degrees.",
    "Some reasoning <<2*3=6>> here.\n#### -0.5",
    {
      extracted: {
        "strict-match": "-0.5",
        "flexible-extract": "-0.5",
        "strict-match-fixed": "-0.5",
      },
      metrics: {
        "exact_match,strict-match": 1,
        "exact_match,flexible-extract": 1,
        "exact_match,strict-match-fixed": 1,
      },
    },
  ],
  [
    "gsm8k_cot",
    " We get 12. Then 12 + 6 = 18.",
    "Some reasoning <<2*3=6>> here.\n#### 18",
    {
      extracted: {
        "strict-match": "[invalid]",
        "flexible-extract": "18.",
        "strict-match-fixed": "[invalid]",
      },
      metrics: {
        "exact_match,strict-match": 0,
        "exact_match,flexible-extract": 1,
        "exact_match,strict-match-fixed": 0,
      },
    },
  ],
  [
    "gsm8k_cot",
    " Total: 1,234 pens.",
    "Some reasoning <<2*3=6>> here.\n#### 1234",
    {
      extracted: {
        "strict-match": "[invalid]",
        "flexible-extract": "1,234",
        "strict-match-fixed": "[invalid]",
      },
      metrics: {
        "exact_match,strict-match": 0,
        "exact_match,flexible-extract": 1,
        "exact_match,strict-match-fixed": 0,
      },
    },
  ],
  [
    "gsm8k_cot",
    " Total: 1 234 pens.",
    "Some reasoning <<2*3=6>> here.\n#### 1234",
    {
      extracted: {
        "strict-match": "[invalid]",
        "flexible-extract": "234",
        "strict-match-fixed": "[invalid]",
      },
      metrics: {
        "exact_match,strict-match": 0,
        "exact_match,flexible-extract": 0,
        "exact_match,strict-match-fixed": 0,
      },
    },
  ],
  [
    "gsm8k_cot",
    " It is 3:30 and 2.",
    "Some reasoning <<2*3=6>> here.\n#### 2",
    {
      extracted: {
        "strict-match": "[invalid]",
        "flexible-extract": "2.",
        "strict-match-fixed": "[invalid]",
      },
      metrics: {
        "exact_match,strict-match": 0,
        "exact_match,flexible-extract": 1,
        "exact_match,strict-match-fixed": 0,
      },
    },
  ],
  [
    "gsm8k_cot",
    " costs $ 5",
    "Some reasoning <<2*3=6>> here.\n#### 5",
    {
      extracted: {
        "strict-match": "[invalid]",
        "flexible-extract": "5",
        "strict-match-fixed": "[invalid]",
      },
      metrics: {
        "exact_match,strict-match": 0,
        "exact_match,flexible-extract": 1,
        "exact_match,strict-match-fixed": 0,
      },
    },
  ],
  [
    "gsm8k_cot",
    " The answer is 18 .",
    "Some reasoning <<2*3=6>> here.\n#### 18",
    {
      extracted: { "strict-match": "18", "flexible-extract": "18", "strict-match-fixed": "18" },
      metrics: {
        "exact_match,strict-match": 1,
        "exact_match,flexible-extract": 1,
        "exact_match,strict-match-fixed": 1,
      },
    },
  ],
  [
    "gsm8k_cot",
    " The answer is: 18.",
    "Some reasoning <<2*3=6>> here.\n#### 18",
    {
      extracted: {
        "strict-match": "[invalid]",
        "flexible-extract": "18.",
        "strict-match-fixed": "[invalid]",
      },
      metrics: {
        "exact_match,strict-match": 0,
        "exact_match,flexible-extract": 1,
        "exact_match,strict-match-fixed": 0,
      },
    },
  ],
  [
    "gsm8k_cot_llama",
    " 5 + 13 = 18. The final answer is 18",
    "Some reasoning <<2*3=6>> here.\n#### 18",
    {
      extracted: { "strict-match": "18", "flexible-extract": "18" },
      metrics: { "exact_match,strict-match": 1, "exact_match,flexible-extract": 1 },
    },
  ],
  [
    "gsm8k_cot_llama",
    " The final answer is $18",
    "Some reasoning <<2*3=6>> here.\n#### 18",
    {
      extracted: { "strict-match": "$18", "flexible-extract": "$18" },
      metrics: { "exact_match,strict-match": 1, "exact_match,flexible-extract": 1 },
    },
  ],
  [
    "gsm8k_cot_llama",
    " The final answer is 1,600.",
    "Some reasoning <<2*3=6>> here.\n#### 1,600",
    {
      extracted: { "strict-match": "1,600.", "flexible-extract": "1,600." },
      metrics: { "exact_match,strict-match": 1, "exact_match,flexible-extract": 1 },
    },
  ],
  [
    "gsm8k_cot_llama",
    " The final answer is 7. Wait. The final answer is 8",
    "Some reasoning <<2*3=6>> here.\n#### 8",
    {
      extracted: { "strict-match": "8", "flexible-extract": "8" },
      metrics: { "exact_match,strict-match": 1, "exact_match,flexible-extract": 1 },
    },
  ],
  [
    "gsm8k_cot_llama",
    " The final answer is -3",
    "Some reasoning <<2*3=6>> here.\n#### -3",
    {
      extracted: { "strict-match": "-3", "flexible-extract": "-3" },
      metrics: { "exact_match,strict-match": 1, "exact_match,flexible-extract": 1 },
    },
  ],
  [
    "gsm8k_cot_llama",
    " The final answer is 5 apples",
    "Some reasoning <<2*3=6>> here.\n#### 5",
    {
      extracted: { "strict-match": "5", "flexible-extract": "5" },
      metrics: { "exact_match,strict-match": 1, "exact_match,flexible-extract": 1 },
    },
  ],
  [
    "gsm8k_cot_llama",
    " the final answer is 5",
    "Some reasoning <<2*3=6>> here.\n#### 5",
    {
      extracted: { "strict-match": "[invalid]", "flexible-extract": "5" },
      metrics: { "exact_match,strict-match": 0, "exact_match,flexible-extract": 1 },
    },
  ],
  [
    "gsm8k_cot_llama",
    " The answer is 5",
    "Some reasoning <<2*3=6>> here.\n#### 5",
    {
      extracted: { "strict-match": "[invalid]", "flexible-extract": "5" },
      metrics: { "exact_match,strict-match": 0, "exact_match,flexible-extract": 1 },
    },
  ],
  [
    "gsm8k_cot_llama",
    " The final answer is 18.5",
    "Some reasoning <<2*3=6>> here.\n#### 18.5",
    {
      extracted: { "strict-match": "18.5", "flexible-extract": "18.5" },
      metrics: { "exact_match,strict-match": 1, "exact_match,flexible-extract": 1 },
    },
  ],
  [
    "gsm8k_cot_llama",
    " Final: 3 + 4 = 7",
    "Some reasoning <<2*3=6>> here.\n#### 7",
    {
      extracted: { "strict-match": "[invalid]", "flexible-extract": "7" },
      metrics: { "exact_match,strict-match": 0, "exact_match,flexible-extract": 1 },
    },
  ],
  [
    "gsm8k_cot_llama",
    " nothing",
    "Some reasoning <<2*3=6>> here.\n#### 7",
    {
      extracted: { "strict-match": "[invalid]", "flexible-extract": "[invalid]" },
      metrics: { "exact_match,strict-match": 0, "exact_match,flexible-extract": 0 },
    },
  ],
  [
    "gsm8k_cot_llama",
    " The final answer is 0",
    "Some reasoning <<2*3=6>> here.\n#### 0",
    {
      extracted: { "strict-match": "0", "flexible-extract": "0" },
      metrics: { "exact_match,strict-match": 1, "exact_match,flexible-extract": 1 },
    },
  ],
];

describe("GSM8K scoring reproduces lm-evaluation-harness", () => {
  it("has at least 60 cases", () => expect(CASES.length).toBeGreaterThanOrEqual(60));
  it.each(CASES)("%s: %j", (style, completion, answer, expected) => {
    expect(scoreGsm8k(style, completion, answer)).toEqual(expected);
  });

  it("keeps the strict-match quirk and reports the corrected metric beside it", () => {
    const result = scoreGsm8k("gsm8k_cot", "So 9 * 2 = 18. The answer is 18", "#### 18");
    expect(result.extracted["strict-match"]).toBe("1");
    expect(result.metrics["exact_match,strict-match"]).toBe(0);
    expect(result.metrics["exact_match,strict-match-fixed"]).toBe(1);
  });
});
