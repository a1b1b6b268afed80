// The MATH scorers: hendrycks_math ("exact_match") and minerva_math ("exact_match",
// "math_verify"). Both take the completion and the dataset's raw `solution` field.
export { goldAnswer, MathGoldError } from "./boxed.ts";
export { scoreHendrycksMath } from "./hendrycks.ts";
export { scoreMinervaMath } from "./minerva.ts";
