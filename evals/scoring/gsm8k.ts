// GSM8K scoring exactly as lm-eval's gsm8k, gsm8k_cot and gsm8k_cot_llama tasks do it, plus a
// corrected strict-match reported beside the original under its own name.
import { exactMatch } from "./exact-match.ts";
import { applyRegexFilter, type RegexFilterSpec } from "./filters.ts";
import type { ScoreResult } from "./types.ts";

export type Gsm8kStyle = "gsm8k" | "gsm8k_cot" | "gsm8k_cot_llama";

const FLEXIBLE: RegexFilterSpec = { pattern: "(-?[$0-9.,]{2,})|(-?[0-9]+)", groupSelect: -1 };

/** lm-eval's strict-match filters, quirks included. */
const STRICT: Record<Gsm8kStyle, RegexFilterSpec> = {
  gsm8k: { pattern: "#### (\\-?[0-9\\.\\,]+)" },
  // The unescaped final `.` needs one more character after the number, so a completion ending in
  // "The answer is 18" extracts "1". Kept as is: it is the metric published numbers use.
  gsm8k_cot: { pattern: "The answer is (\\-?[0-9\\.\\,]+)." },
  gsm8k_cot_llama: {
    pattern: "The final answer is ((-?[$0-9.,]{2,})|(-?[0-9]+))",
    groupSelect: -1,
  },
};

/** Our corrected strict-match for gsm8k_cot: the number must end in a digit; no extra character. */
const STRICT_FIXED: RegexFilterSpec = { pattern: "The answer is (\\-?[0-9\\.\\,]*[0-9])" };

const EXACT_MATCH = {
  ignoreCase: true,
  ignorePunctuation: false,
  regexesToIgnore: [",", "\\$", "(?s).*#### ", "\\.$"],
};

/** The gold as each task's doc_to_target renders it from the dataset's `answer` field. */
export function gsm8kTarget(style: Gsm8kStyle, answer: string): string {
  return style === "gsm8k" ? answer : (answer.split("####").at(-1) ?? "").trim();
}

export function scoreGsm8k(style: Gsm8kStyle, completion: string, answer: string): ScoreResult {
  const gold = gsm8kTarget(style, answer);
  const extracted: Record<string, string> = {
    "strict-match": applyRegexFilter(completion, STRICT[style]),
    "flexible-extract": applyRegexFilter(completion, FLEXIBLE),
  };
  if (style === "gsm8k_cot")
    extracted["strict-match-fixed"] = applyRegexFilter(completion, STRICT_FIXED);
  const metrics: Record<string, number> = {};
  for (const [filter, value] of Object.entries(extracted)) {
    metrics[`exact_match,${filter}`] = exactMatch(value, gold, EXACT_MATCH);
  }
  return { extracted, metrics };
}
