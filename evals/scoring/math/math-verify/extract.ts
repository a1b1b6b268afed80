// math_verify's parse() with lm-eval's defaults (LatexExtractionConfig + ExprExtractionConfig,
// fallback_mode "first_match", extraction_mode "any_match"): patterns are tried by priority
// (0 "final answer is ... I hope", 50 boxed and "final answer ... is", 100 "answer:", 200
// "answer", 300 any LaTeX or number); within a priority the rightmost match that parses wins.
import { isFunction, isNumber } from "@cortex-js/compute-engine";
import type { Expression } from "../compute-engine.ts";
import { computeEngine } from "../compute-engine.ts";
import { normalizeLatex } from "./normalize-latex.ts";
import {
  ANSWER,
  exprPatterns,
  FINAL_ANSWER,
  FINAL_ANSWER_IS,
  latexEnvsPattern,
} from "./patterns.ts";

/** One parsed answer: the compute-engine expression and the normalised text it came from. */
export interface ParsedAnswer {
  expr: Expression;
  text: string;
}

/** What parse() returns: the first answer that parsed, then the first matched text, if any. */
export type Extraction = (ParsedAnswer | string)[];

type Kind = "latex" | "expr";
interface Pattern {
  regex: RegExp;
  priority: number;
  kind: Kind;
}

let patterns: Pattern[] | undefined;

function buildPatterns(): Pattern[] {
  const latex = latexEnvsPattern("plain");
  const { exprWithAnchors, numberWithAnchors } = exprPatterns();
  const exprOrNumber = `(?:${exprWithAnchors}|${numberWithAnchors})`;
  const boxedEnvs = latexEnvsPattern("boxed");
  const table: [string, number, Kind][] = [
    [`${FINAL_ANSWER_IS}:?\\s*${latex}\\.?\\s?I hope`, 0, "latex"],
    [`${FINAL_ANSWER}[\\s\\S]{0,100}?\\s+is:?\\s*${latex}`, 50, "latex"],
    [`${ANSWER}:[\\s\\S]{0,50}?${latex}`, 100, "latex"],
    [`${ANSWER}[\\s\\S]{0,50}?${latex}`, 200, "latex"],
    [latex, 300, "latex"],
    [boxedEnvs, 50, "latex"],
    ["(?<first_latexBoxed>\\\\boxed\\{[\\s\\S]+\\})", 50, "latex"],
    [`${FINAL_ANSWER_IS}:?\\s*${exprOrNumber}\\.?\\s?I hope`, 0, "expr"],
    [`${FINAL_ANSWER}[^\\n]{0,100}?\\s+is:?${exprOrNumber}`, 50, "expr"],
    [`${ANSWER}:(?:[^\\n]{0,100}=\\s*|[^\\n]{0,50}?)${exprOrNumber}(?!\\s*=)`, 100, "expr"],
    [`${ANSWER}(?:[^\\n]{0,100}=\\s*|[^\\n]{0,50}?)${exprOrNumber}(?!\\s*=)`, 200, "expr"],
    [exprWithAnchors, 300, "expr"],
    [numberWithAnchors, 300, "expr"],
  ];
  // The LaTeX patterns are DOTALL in math_verify ([\s\S]); the expression ones are not ([^\n]).
  return table.map(([source, priority, kind]) => ({
    // "d" records group spans: a formula that fails to parse must not lend a number inside it.
    regex: new RegExp(source, "dg"),
    priority,
    kind,
  }));
}

function groupsOf(match: RegExpMatchArray): Record<string, string | undefined> {
  return match.groups ?? {};
}

/** Whether `text` has a comma or semicolon outside every bracket: "(1,2),(3,4)" does, "(1,2)" not. */
function hasTopLevelComma(text: string): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
    else if ((c === "," || c === ";") && depth === 0) return true;
  }
  return false;
}

/**
 * latex2sympy reads a comma list outside brackets ("1, -2", "(1,2),(3,4)") as a set; a single
 * bracketed pair "(1,2)" stays a tuple.
 */
export function bareListAsSet(expr: Expression, text: string): Expression {
  if (!isFunction(expr, "Tuple")) return expr;
  if (/^[([]/.test(text.trim()) && !hasTopLevelComma(text)) return expr;
  return computeEngine().box(["Set", ...expr.ops]);
}

const EQUALS = /(?<![\\<!>])=/;

/** `text` split at each "=" outside braces and brackets ("\\sum_{k=0}" keeps its "="). */
function splitEquals(text: string): string[] {
  const sides: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "{" || c === "(" || c === "[") depth++;
    else if (c === "}" || c === ")" || c === "]") depth--;
    else if (c === "=" && depth === 0 && !/[\\<!>]/.test(text[i - 1] ?? "")) {
      sides.push(text.slice(from, i));
      from = i + 1;
    }
  }
  sides.push(text.slice(from));
  return sides;
}

/**
 * latex2sympy2_extended's relation handling, on the text: an "\\approx" ends the answer unless
 * nothing was assigned before it ("x = 1/3 \\approx 0.33" → "x = 1/3", "x \\approx 11" → "11"),
 * and a chain "x = 5+6 = 11" is its first and last sides (math_verify's take_first_relation and
 * take_last_relation). Chains inside comma lists are left alone.
 */
function collapseRelations(text: string): string {
  let s = text;
  if (s.includes("\\approx")) {
    const parts = s.split("\\approx");
    s = EQUALS.test(parts[0] ?? "") ? (parts[0] ?? "") : (parts.at(-1) ?? "");
  }
  if (/[,;]/.test(s)) return s;
  const sides = splitEquals(s);
  // Only an assignment chain (its left side has no number) keeps its ends.
  if (sides.length > 2 && !/\d/.test(sides[0] ?? "")) s = `${sides[0]}=${sides.at(-1)}`;
  return s;
}

function parseOne(text: string): Expression | null {
  const ce = computeEngine();
  let expr = ce.parse(text);
  if (!expr.isValid) return null;
  // "A:B" is a ratio (latex2sympy's COLON is a division); "12:00" is a time, not 12/0.
  if (text.includes(":") && JSON.stringify(expr.json).includes('"Colon"')) {
    const ratio = ce.parse(text.replace(/:/g, "/"));
    const value = ratio.N();
    const finite = !isNumber(value) || Number.isFinite(value.re);
    if (ratio.isValid && finite) expr = ratio;
  }
  return bareListAsSet(expr, text);
}

/** A parse, or null where compute-engine (standing in for latex2sympy) cannot read it. */
function parseLatex(raw: string, percent: boolean): Expression | null {
  if (raw.trim() === "") return null;
  const ce = computeEngine();
  // A bare "%" is a percent sign, as "\\%" is.
  const text = collapseRelations(raw).replace(/(?<!\\)%/g, "\\%");
  let expr: Expression | null;
  const pm = text.split(/\\pm|\\mp/);
  if (pm.length === 2) {
    // "a \\pm b" is the set of both (latex2sympy's PLUS_MINUS).
    const plus = parseOne(pm.join("+"));
    const minus = parseOne(pm.join("-"));
    expr = plus && minus ? ce.box(["Set", plus, minus]) : null;
  } else {
    expr = parseOne(text);
  }
  if (expr === null) {
    // math_verify retries a chain "a = b = c" (no commas) with its last side only.
    const sides = splitEquals(text);
    if (/[,;]/.test(text) || sides.length <= 2) return null;
    expr = parseOne(sides.at(-1) ?? "");
    if (expr === null) return null;
  }
  if (percent) expr = ce.box(["Divide", expr, 100]).evaluate();
  return expr;
}

function extractLatex(
  match: RegExpMatchArray,
  quirks: boolean,
): { parsed: ParsedAnswer | null; text: string } {
  const groups = groupsOf(match);
  const prefixes = ["first", "next1", "next2", "next3", "next4", "next5"];
  const answers: (ParsedAnswer | null)[] = [];
  const texts: string[] = [];
  for (const prefix of prefixes) {
    const entry = Object.entries(groups).find(
      ([name, value]) => name.startsWith(`${prefix}_latex`) && value,
    );
    if (!entry) continue;
    const [name, latex] = entry as [string, string];
    const text = normalizeLatex(latex, name === "first_latexBoxed" ? "last" : "all", quirks);
    texts.push(text);
    const expr = parseLatex(text, Boolean(groups[`${prefix}_percent`]));
    answers.push(expr ? { expr, text } : null);
  }
  if (answers.length === 0) return { parsed: null, text: "" };
  if (answers.length > 1 && answers.every((a) => a !== null)) {
    // "$1$, $2$ and $3$" is the set {1, 2, 3}; sets inside are flattened.
    const elements = answers.flatMap((a) => (isFunction(a.expr, "Set") ? a.expr.ops : [a.expr]));
    const expr = computeEngine().box(["Set", ...elements]);
    return { parsed: { expr, text: texts.join(" and ") }, text: texts.join(" and ") };
  }
  return { parsed: answers[0] ?? null, text: texts[0] ?? "" };
}

function extractExpr(match: RegExpMatchArray): { parsed: ParsedAnswer | null; text: string } {
  const groups = groupsOf(match);
  const pick = (stem: string) =>
    Object.entries(groups).find(([name, value]) => name.startsWith(stem) && value)?.[1] ?? "";
  let integer = pick("integer");
  let decimal = pick("decimal");
  const ce = computeEngine();
  if (integer || decimal) {
    // "0001" → "1"; an all-zero integer part becomes "0".
    integer = integer.replace(/[, ]/g, "");
    const negative = integer.startsWith("-");
    integer = integer.replace(/^-/, "").replace(/^0+/, "") || "0";
    decimal = decimal.replace(",", ".");
    const text = `${negative ? "-" : ""}${integer}${decimal}`;
    let expr = ce.parse(text);
    if (groups.percent) expr = ce.box(["Divide", expr, 100]).evaluate();
    return { parsed: { expr, text }, text };
  }
  const source = groups.expr ?? "";
  if (!source) return { parsed: null, text: "" };
  const latex = source
    .replaceAll("\n", " ")
    .replaceAll("×", "\\times ")
    .replaceAll("÷", "\\div ")
    .replaceAll("*", "\\times ");
  const expr = ce.parse(latex);
  return { parsed: expr.isValid ? { expr, text: source } : null, text: source };
}

type Span = [number, number];

function spansOf(match: RegExpMatchArray, keep: (name: string) => boolean): Span[] {
  const indices = match.indices?.groups ?? {};
  return Object.entries(indices)
    .filter(([name, span]) => span !== undefined && keep(name) && match.groups?.[name])
    .map(([, span]) => span as Span);
}

/** Where a number or expression match took its value from. */
function valueSpans(match: RegExpMatchArray): Span[] {
  return spansOf(match, (n) => n === "expr" || n.startsWith("integer") || n.startsWith("decimal"));
}

function latexSpans(match: RegExpMatchArray): Span[] {
  return spansOf(match, (n) => n.startsWith("first_latex"));
}

function overlapsAny(spans: Span[], failed: Span[]): boolean {
  return spans.some(([start, end]) => failed.some(([lo, hi]) => start < hi && end > lo));
}

/**
 * math_verify's parse(text) with lm-eval's arguments.
 *
 * @example parseAnswer("The answer is $\\frac{1}{2}$") // [{ expr: 1/2, text: "\\frac{1}{2}" }, "\\frac{1}{2}"]
 */
export function parseAnswer(text: string, options: { quirks?: boolean } = {}): Extraction {
  const quirks = options.quirks ?? true;
  patterns ??= buildPatterns();
  const priorities = [...new Set(patterns.map((p) => p.priority))].sort((a, b) => a - b);
  const fallbacks: string[] = [];
  const failedLatex: Span[] = [];
  for (const priority of priorities) {
    const matches = patterns
      .filter((p) => p.priority === priority)
      .flatMap((p) => [...text.matchAll(p.regex)].map((match) => ({ match, kind: p.kind })));
    // Rightmost end first, then leftmost start.
    matches.sort((x, y) => {
      const [xs, ys] = [x.match.index ?? 0, y.match.index ?? 0];
      const [xe, ye] = [xs + x.match[0].length, ys + y.match[0].length];
      return ye - xe || xs - ys;
    });
    for (const { match, kind } of matches) {
      if (kind === "expr" && overlapsAny(valueSpans(match), failedLatex)) continue;
      const { parsed, text: fallback } =
        kind === "latex" ? extractLatex(match, quirks) : extractExpr(match);
      if (kind === "latex" && !parsed) failedLatex.push(...latexSpans(match));
      if (fallback) fallbacks.push(fallback);
      if (parsed) return fallbacks.length > 0 ? [parsed, fallbacks[0] as string] : [parsed];
    }
  }
  return fallbacks.length > 0 ? [fallbacks[0] as string] : [];
}
