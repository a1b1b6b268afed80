// The `exact_match` metric as lm-eval computes it (Hugging Face evaluate's exact_match): the
// regexes are removed from both strings first, then case and punctuation are folded.
import { pythonRegex, removeAll } from "./python-regex.ts";

export interface ExactMatchOptions {
  regexesToIgnore?: readonly string[];
  ignoreCase?: boolean;
  ignorePunctuation?: boolean;
}

const PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;

export function exactMatch(
  prediction: string,
  reference: string,
  options: ExactMatchOptions = {},
): 0 | 1 {
  let p = prediction;
  let r = reference;
  for (const pattern of options.regexesToIgnore ?? []) {
    const regex = pythonRegex(pattern);
    p = removeAll(regex, p);
    r = removeAll(regex, r);
  }
  if (options.ignoreCase) {
    p = p.toLowerCase();
    r = r.toLowerCase();
  }
  if (options.ignorePunctuation) {
    p = p.replace(PUNCTUATION, "");
    r = r.replace(PUNCTUATION, "");
  }
  return p === r ? 1 : 0;
}
