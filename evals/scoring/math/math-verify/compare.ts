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

function isAssignment(expr: Expression): boolean {
  return expr.operator === "Equal" && isSymbol(ops(expr)[0]);
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
  let [ga, pa] = [items(gold), items(pred)];
  if (ga.length !== pa.length) return false;
  // Sets (and unions of intervals) compare in value order; tuples in the order written.
  if (gold.operator === "Set" || gold.operator === "Union")
    [ga, pa] = [sortedByValue(ga), sortedByValue(pa)];
  else if (pred.operator === "Set") pa = sortedByValue(pa);
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
  return (
    RELATIONS[gold.operator] === pred.operator &&
    expressionEqual(gDiff, ce.box(["Subtract", pr, pl]))
  );
}

/** sympy_expr_eq, on compute-engine expressions. */
export function expressionEqual(goldIn: Expression, predIn: Expression): boolean {
  let [gold, pred] = [goldIn, predIn];
  // "x = 1" against "1": follow the gold's form.
  const predIsEquation = pred.operator === "Equal";
  if (predIsEquation && gold.operator !== "Equal") pred = ops(pred).at(-1) ?? pred;
  else if (isAssignment(gold) && !predIsEquation) gold = ops(gold).at(-1) ?? gold;
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
