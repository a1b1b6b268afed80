// hendrycks_math's answer normalisation (lm-eval's strip_string and its fix_* helpers, from the
// original MATH repository). Where Python raises (an IndexError, a failed assert, int() on a
// non-integer), this throws StripFailedError and is_equiv falls back to comparing the raw strings.

export class StripFailedError extends Error {}

/** Python's int() on a string whose spaces are already gone: optional sign, digits, underscores. */
const PYTHON_INT = /^[+-]?\d+(?:_\d+)*$/;

/** "\frac12" → "\frac{1}{2}", "\frac1{72}" → "\frac{1}{72}"; gives up (unchanged) on "\frac1". */
function fixFracs(text: string): string {
  const parts = text.split("\\frac");
  let out = parts[0] ?? "";
  for (const part of parts.slice(1)) {
    out += "\\frac";
    if (part.length === 0) throw new StripFailedError("\\frac at the end"); // substr[0] IndexError
    if (part[0] === "{") {
      out += part;
      continue;
    }
    if (part.length < 2) return text;
    const [a, b, rest] = [part[0], part[1], part.slice(2)];
    out += b !== "{" ? `{${a}}{${b}}${rest}` : `{${a}}${b}${rest}`;
  }
  return out;
}

/** "3/4" → "\frac{3}{4}" when both sides are integers written canonically. */
function fixASlashB(text: string): string {
  const parts = text.split("/");
  if (parts.length !== 2) return text;
  const [a, b] = parts as [string, string];
  // int() raising ValueError is not caught by fix_a_slash_b itself.
  if (!PYTHON_INT.test(a) || !PYTHON_INT.test(b)) throw new StripFailedError("int() failed");
  const [ia, ib] = [BigInt(a.replaceAll("_", "")), BigInt(b.replaceAll("_", ""))];
  if (text !== `${ia}/${ib}`) return text;
  return `\\frac{${ia}}{${ib}}`;
}

/** Drops a unit introduced by "\text{ " (with the space); two such units fail lm-eval's assert. */
function removeRightUnits(text: string): string {
  if (!text.includes("\\text{ ")) return text;
  const parts = text.split("\\text{ ");
  if (parts.length !== 2) throw new StripFailedError("more than one \\text{ unit");
  return parts[0] ?? "";
}

/** "\sqrt3" → "\sqrt{3}". */
function fixSqrt(text: string): string {
  if (!text.includes("\\sqrt")) return text;
  const parts = text.split("\\sqrt");
  let out = parts[0] ?? "";
  for (const part of parts.slice(1)) {
    if (part.length === 0) throw new StripFailedError("\\sqrt at the end"); // split[0] IndexError
    out += part[0] !== "{" ? `\\sqrt{${part[0]}}${part.slice(1)}` : `\\sqrt${part}`;
  }
  return out;
}

/**
 * lm-eval's strip_string, step for step.
 *
 * @example stripString("\\dfrac{1}{2}") // "\\frac{1}{2}"
 */
export function stripString(answer: string): string {
  let s = answer.replaceAll("\n", "");
  s = s.replaceAll("\\!", "");
  s = s.replaceAll("\\\\", "\\");
  s = s.replaceAll("tfrac", "frac").replaceAll("dfrac", "frac");
  s = s.replaceAll("\\left", "").replaceAll("\\right", "");
  s = s.replaceAll("^{\\circ}", "").replaceAll("^\\circ", "");
  s = s.replaceAll("\\$", "");
  s = removeRightUnits(s);
  // lm-eval removes "\\%" and "\%", which are the same Python string.
  s = s.replaceAll("\\%", "");
  s = s.replaceAll(" .", " 0.").replaceAll("{.", "{0.");
  if (s.length === 0) return s;
  if (s[0] === ".") s = `0${s}`;
  // "k = 5" → " 5": a short left-hand side of a single "=" is dropped.
  const sides = s.split("=");
  if (sides.length === 2 && (sides[0] ?? "").length <= 2) s = sides[1] ?? "";
  s = fixSqrt(s);
  s = s.replaceAll(" ", "");
  s = fixFracs(s);
  if (s === "0.5") s = "\\frac{1}{2}";
  return fixASlashB(s);
}

/**
 * hendrycks_math's is_equiv: equal after stripString, or, where stripping fails, equal as given.
 *
 * @example isEquivHendrycks("0.5", "\\frac12") // true
 */
export function isEquivHendrycks(a: string, b: string): boolean {
  try {
    return stripString(a) === stripString(b);
  } catch (error) {
    if (error instanceof StripFailedError) return a === b;
    throw error;
  }
}
