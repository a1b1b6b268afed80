// minerva_math's is_equiv, ported from sympy to compute-engine. lm-eval parses both normalised
// answers with sympy's parse_latex and calls them equal when simplify(a - b) == 0; anything
// parse_latex rejects, or that cannot be subtracted (tuples, intervals, sets, matrices,
// relations, "%", "\pm"), scores 0, even when the two strings are identical.
import { isFunction, isString } from "@cortex-js/compute-engine";
import { computeEngine, type Expression } from "./compute-engine.ts";

/**
 * Operators sympy's LaTeX grammar can produce and subtract. Anything else in the parse means
 * parse_latex (or the subtraction) would have failed. Kept as the operator names compute-engine
 * gives them.
 */
const SYMPY_OPERATORS = new Set([
  "Add",
  "Subtract",
  "Negate",
  "Multiply",
  "Divide",
  "Power",
  "Sqrt",
  "Root",
  "Rational",
  "Square",
  "Exp",
  "Ln",
  "Log",
  "Lb",
  "Lg",
  "Abs",
  "Floor",
  "Ceil",
  "Factorial",
  "Binomial",
  "Choose",
  "Sin",
  "Cos",
  "Tan",
  "Cot",
  "Sec",
  "Csc",
  "Arcsin",
  "Arccos",
  "Arctan",
  "Arccot",
  "Arcsec",
  "Arccsc",
  "Sinh",
  "Cosh",
  "Tanh",
  "Subscript",
  "Delimiter",
  "Complex",
]);

/** Whether every operator in the parse is one sympy's parse_latex produces. */
function sympyCouldParse(expr: Expression): boolean {
  if (!expr.isValid) return false;
  if (isString(expr)) return false;
  if (!isFunction(expr)) return true;
  const op = expr.operator;
  // "\\{x\\}" is a brace group to sympy; only a comma list makes it a set.
  const braceGroup = op === "Set" && expr.ops.length === 1;
  if (!SYMPY_OPERATORS.has(op) && !braceGroup) return false;
  // A Delimiter holding a comma list is a tuple: parse_latex has no such thing.
  if (op === "Delimiter" && expr.ops.length !== 1) return false;

  return expr.ops.every(sympyCouldParse);
}

/** The parse, or null where sympy's parse_latex would have raised. */
export function parseLikeSympy(latex: string): Expression | null {
  // sympy's lexer skips TeX spacing and reads "1,000" as one number; a comma anywhere else, a
  // "." outside a number and these characters have no token, so parse_latex raises.
  const text = latex
    .replace(/\\[,:;!]|\\quad|\\qquad/g, " ")
    .replace(/(\d),(?=\d{3}(?!\d))/g, "$1");
  if (text.trim() === "" || /[%,;:"'?@#&]|\.(?!\d)|\\circ|\\pm/.test(text)) return null;
  const expr = computeEngine().parse(text);
  return sympyCouldParse(expr) ? expr : null;
}

/** simplify(a - b) == 0: exact symbolic zero, or an exactly zero numeric difference. */
export function differenceIsZero(a: Expression, b: Expression): boolean {
  if (a.isSame(b)) return true;
  const ce = computeEngine();
  const difference = ce.box(["Subtract", a, b]).simplify();
  if (difference.is(0)) return true;
  if (difference.freeVariables.length > 0) return a.is(b) === true;
  // Constants: sympy compares floats to exact numbers at float precision, so only a difference
  // that evaluates to exactly zero counts.
  const value = difference.N().re;
  return value === 0;
}

/**
 * minerva_math's is_equiv on two normalised answers.
 *
 * @example isEquivSympy("\\frac{1}{2}", "0.5") // true
 */
export function isEquivSympy(a: string, b: string): boolean {
  const [pa, pb] = [parseLikeSympy(a), parseLikeSympy(b)];
  if (pa === null || pb === null) return false;
  try {
    return differenceIsZero(pa, pb);
  } catch {
    // lm-eval catches every exception from the comparison and scores 0.
    return false;
  }
}
