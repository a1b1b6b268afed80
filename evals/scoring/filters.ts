// lm-evaluation-harness's `regex` + `take_first` filter (lm_eval/filters/extraction.py).
import { findall, pythonRegex } from "./python-regex.ts";

export const INVALID = "[invalid]";

export interface RegexFilterSpec {
  pattern: string;
  /** Which match to keep; negative counts from the end (lm-eval's group_select, default 0). */
  groupSelect?: number;
  fallback?: string;
}

/** The extracted answer: the selected match (first non-empty group of a tuple), stripped. */
export function applyRegexFilter(text: string, spec: RegexFilterSpec): string {
  const matches = findall(pythonRegex(spec.pattern), text);
  const fallback = spec.fallback ?? INVALID;
  if (matches.length === 0) return fallback;
  const select = spec.groupSelect ?? 0;
  const match = matches[select < 0 ? matches.length + select : select];
  if (match === undefined) return fallback;
  if (Array.isArray(match)) {
    const first = match.find((m) => m !== "");
    return first === undefined ? fallback : first.trim();
  }
  return match.trim();
}
