// math_verify's verify() (grader.py): true when any gold extraction equals any predicted one.
// Strings compare as stripped text; expressions by, in order, identity, relations (a <= b equals
// b >= a), sets/tuples/intervals/matrices element by element, letter-only answers by their
// letters, numbers rounded to 6 decimals when either side is a decimal, and finally a symbolic
// difference that simplifies to zero.
import { isFunction, isNumber, isSymbol } from "@cortex-js/compute-engine";
import { computeEngine, type Expression } from "../compute-engine.ts";
import type { Extraction, ParsedAnswer } from "./extract.ts";

const FLOAT_ROUNDING = 6;
const RELATIONS: Record<string, string> = {
  Less: "Greater",
  Greater: "Less",
  LessEqual: "GreaterEqual",
  GreaterEqual: "LessEqual",
  Equal: "Equal",
};
const COLLECTIONS = new Set(["Tuple", "List", "Set", "Interval", "Union", "Matrix", "Sequence"]);

function ops(expr: Expression): readonly Expression[] {
  return isFunction(expr) ? expr.ops : [];
}

/** A decimal literal such as 0.5 (sympy's Float), as opposed to an exact integer or fraction. */
function isDecimal(expr: Expression): boolean {
  if (!isNumber(expr)) return false;
  const value = expr.re;
  return Number.isFinite(value) && !Number.isInteger(value) && expr.operator !== "Rational";
}

function numericValue(expr: Expression): number | undefined {
  const value = expr.N();
  if (!isNumber(value) || value.im !== 0) return undefined;
  return value.re;
}

/** Letters only ("Evelyn", "\text{east}"): math_verify compares the concatenated symbol names. */
function letters(answer: ParsedAnswer): string | undefined {
  const text = answer.text.replace(/[\s{}()]/g, "");
  return /^[A-Za-z]+$/.test(text) ? text : undefined;
}

/** Built from symbols alone ("x", "AB", "(p,q)", "f(x)", "|AB|", "A/B"): no number anywhere. */
function onlySymbols(expr: Expression): boolean {
  if (isSymbol(expr)) return true;
  if (isNumber(expr) || !isFunction(expr)) return false;
  return expr.ops.length > 0 && expr.ops.every(onlySymbols);
}

/** math_verify's is_assignment_relation: an equation whose left side is only symbols. */
function isAssignment(expr: Expression): boolean {
  const [lhs] = ops(expr);
  return (
    expr.operator === "Equal" && ops(expr).length === 2 && lhs !== undefined && onlySymbols(lhs)
  );
}

/** Points at which two equations are sampled; irrational-looking so no factor vanishes by luck. */
const SAMPLES = [0.3819, 1.2732, -0.6173, 2.2391];

/**
 * Equations with the same solutions, as math_verify's sympy_solve_and_compare finds them: over
 * the same variables, one side-difference is a nonzero constant times the other
 * ("4x-5y=-50" and "y = \frac{4}{5}x + 10").
 */
function sameSolutions(gold: Expression, pred: Expression): boolean {
  const [gl, gr] = ops(gold);
  const [pl, pr] = ops(pred);
  if (!gl || !gr || !pl || !pr) return false;
  const ce = computeEngine();
  const g = ce.box(["Subtract", gl, gr]);
  const p = ce.box(["Subtract", pl, pr]);
  const vars = [...new Set(g.freeVariables)].sort();
  const pvars = [...new Set(p.freeVariables)].sort();
  if (vars.length === 0 || vars.join() !== pvars.join()) return false;
  let ratio: number | undefined;
  for (let k = 0; k < SAMPLES.length; k++) {
    const at = Object.fromEntries(vars.map((v, i) => [v, SAMPLES[(k + i) % SAMPLES.length] ?? 1]));
    const gv = numericValue(g.subs(at));
    const pv = numericValue(p.subs(at));
    if (gv === undefined || pv === undefined || !Number.isFinite(gv) || !Number.isFinite(pv)) {
      return false;
    }
    if (Math.abs(pv) < 1e-12) {
      if (Math.abs(gv) < 1e-12) continue;
      return false;
    }
    const r = gv / pv;
    if (ratio === undefined) ratio = r;
    else if (Math.abs(r - ratio) > 1e-9 * Math.max(1, Math.abs(ratio))) return false;
  }
  return ratio !== undefined && ratio !== 0;
}

/** "a < x < b" as the interval it describes (math_verify's as_set), when a and b are numbers. */
function chainAsInterval(expr: Expression): Expression | undefined {
  const bounds: Record<string, boolean> = { Less: true, LessEqual: false };
  const open = bounds[expr.operator];
  const [a, x, b] = ops(expr);
  if (open === undefined || ops(expr).length !== 3 || !a || !x || !b) return undefined;
  if (numericValue(a) === undefined || numericValue(b) === undefined) return undefined;
  if (x.freeVariables.length === 0) return undefined;
  const ce = computeEngine();
  const end = (e: Expression): Expression => (open ? ce.box(["Open", e]) : e);
  return ce.box(["Interval", end(a), end(b)]);
}

/** Pairs each gold element with a different equal predicted one (sets compare in any order). */
function sameElements(gold: readonly Expression[], pred: readonly Expression[]): boolean {
  const used = new Set<number>();
  return gold.every((g) => {
    const i = pred.findIndex((p, j) => !used.has(j) && expressionEqual(g, p));
    if (i < 0) return false;
    used.add(i);
    return true;
  });
}

/** Equal as numbers: rounded when either is a decimal, exactly otherwise. */
function numericEqual(gold: Expression, pred: Expression): boolean | undefined {
  const [g, p] = [numericValue(gold), numericValue(pred)];
  if (g === undefined || p === undefined || !Number.isFinite(g) || !Number.isFinite(p)) {
    return undefined;
  }
  if (isDecimal(gold) || isDecimal(pred)) {
    const scale = 10 ** FLOAT_ROUNDING;
    return Math.round(g * scale) === Math.round(p * scale);
  }
  if (gold.freeVariables.length > 0 || pred.freeVariables.length > 0) return undefined;
  // sympy: (a - b).evalf(15, chop=True) == 0
  return Math.abs(g - p) <= 1e-13 * Math.max(1, Math.abs(g), Math.abs(p));
}

function symbolicEqual(gold: Expression, pred: Expression): boolean {
  const difference = computeEngine().box(["Subtract", gold, pred]).simplify();
  if (difference.is(0)) return true;
  return gold.is(pred) === true;
}

/** Endpoints and openness of an interval; a 2-tuple counts as an open interval. */
function interval(expr: Expression): [Expression, Expression, boolean, boolean] | undefined {
  const [a, b] = ops(expr);
  if (a === undefined || b === undefined || ops(expr).length !== 2) return undefined;
  if (expr.operator === "Tuple") return [a, b, true, true];
  if (expr.operator === "List") return [a, b, false, false];
  if (expr.operator !== "Interval") return undefined;
  const open = (e: Expression) => e.operator === "Open";
  const inner = (e: Expression) => (open(e) ? (ops(e)[0] ?? e) : e);
  return [inner(a), inner(b), open(a), open(b)];
}

function sortedByValue(items: readonly Expression[]): Expression[] {
  return [...items].sort((x, y) => (numericValue(x) ?? 0) - (numericValue(y) ?? 0));
}

function collectionEqual(gold: Expression, pred: Expression): boolean {
  const gi = interval(gold);
  const pi = interval(pred);
  if (gold.operator === "Interval" || pred.operator === "Interval") {
    if (!gi || !pi) return false;
    return (
      gi[2] === pi[2] &&
      gi[3] === pi[3] &&
      expressionEqual(gi[0], pi[0]) &&
      expressionEqual(gi[1], pi[1])
    );
  }
  if (gold.operator === "Matrix" || pred.operator === "Matrix") {
    if (gold.operator !== pred.operator) return false;
    const flat = (m: Expression) => ops(ops(m)[0] ?? m).map((row) => ops(row));
    const [gm, pm] = [flat(gold), flat(pred)];
    if (gm.length !== pm.length) return false;
    return gm.every(
      (row, i) =>
        row.length === (pm[i]?.length ?? -1) &&
        row.every((cell, j) => expressionEqual(cell, pm[i]?.[j] as Expression)),
    );
  }
  // A single value is the singleton set.
  const items = (e: Expression) => (COLLECTIONS.has(e.operator) ? ops(e) : [e]);
  const ga = items(gold);
  let pa = items(pred);
  if (ga.length !== pa.length) return false;
  // Sets (and unions of intervals) compare in any order (math_verify sorts both by one key);
  // tuples in the order written.
  if (gold.operator === "Set" || gold.operator === "Union") {
    // Numbers sort by value, as sympy orders them; anything else is paired in any order.
    const numeric = (e: Expression) => numericValue(e) !== undefined;
    if (!ga.every(numeric) || !pa.every(numeric)) return sameElements(ga, pa);
    const [gs, ps] = [sortedByValue(ga), sortedByValue(pa)];
    return gs.every((g, i) => expressionEqual(g, ps[i] as Expression));
  }
  if (pred.operator === "Set") pa = sortedByValue(pa);
  return ga.every((g, i) => expressionEqual(g, pa[i] as Expression));
}

function relationEqual(gold: Expression, pred: Expression): boolean {
  // A chain "a < b < c" is not one relation; only an identical chain (isSame) matches it.
  if (ops(gold).length !== 2 || ops(pred).length !== 2) return false;
  const [gl, gr] = ops(gold);
  const [pl, pr] = ops(pred);
  if (!gl || !gr || !pl || !pr) return false;
  const ce = computeEngine();
  const gDiff = ce.box(["Subtract", gl, gr]);
  if (gold.operator === pred.operator && expressionEqual(gDiff, ce.box(["Subtract", pl, pr]))) {
    return true;
  }
  if (
    RELATIONS[gold.operator] === pred.operator &&
    expressionEqual(gDiff, ce.box(["Subtract", pr, pl]))
  ) {
    return true;
  }
  return gold.operator === "Equal" && pred.operator === "Equal" && sameSolutions(gold, pred);
}

/** sympy_expr_eq, on compute-engine expressions. */
export function expressionEqual(goldIn: Expression, predIn: Expression): boolean {
  let [gold, pred] = [goldIn, predIn];
  // "x = 1" against "1": follow the gold's form.
  const predIsEquation = pred.operator === "Equal";
  if (predIsEquation && gold.operator !== "Equal") pred = ops(pred).at(-1) ?? pred;
  else if (isAssignment(gold) && !predIsEquation) gold = ops(gold).at(-1) ?? gold;
  // "0 < f(x) < 1" against the interval (0,1): the gold relation becomes its set.
  if (COLLECTIONS.has(pred.operator)) gold = chainAsInterval(gold) ?? gold;
  if (gold.isSame(pred)) return true;
  if (gold.operator in RELATIONS && pred.operator in RELATIONS) return relationEqual(gold, pred);
  if (COLLECTIONS.has(gold.operator) || COLLECTIONS.has(pred.operator)) {
    return collectionEqual(gold, pred);
  }
  const numeric = numericEqual(gold, pred);
  if (numeric !== undefined) return numeric;
  return symbolicEqual(gold, pred);
}

function answerEqual(gold: ParsedAnswer | string, pred: ParsedAnswer | string): boolean {
  if (typeof gold === "string" || typeof pred === "string") {
    if (typeof gold !== "string" || typeof pred !== "string") return false;
    return gold.trim() !== "" && gold.trim() === pred.trim();
  }
  const [gl, pl] = [letters(gold), letters(pred)];
  if (gl !== undefined && pl !== undefined) {
    // One-letter names are case-sensitive in math_verify, longer ones are not.
    return gl.length > 1 || pl.length > 1 ? gl.toLowerCase() === pl.toLowerCase() : gl === pl;
  }
  try {
    return expressionEqual(gold.expr, pred.expr);
  } catch {
    // math_verify logs the exception and counts the pair as not equal.
    return false;
  }
}

/**
 * math_verify's verify(gold, target) with its defaults (float_rounding 6, strict).
 *
 * @example verifyAnswer(parseAnswer("$\\boxed{\\frac13}$"), parseAnswer("It is 0.333333")) // true
 */
export function verifyAnswer(gold: Extraction, target: Extraction): boolean {
  return gold.some((g) => target.some((t) => answerEqual(g, t)));
}
