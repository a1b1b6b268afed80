// math_verify (huggingface's Math-Verify) as lm-eval's minerva_math calls it:
// verify(gold=parse(solution), target=parse(completion)).
export { verifyAnswer } from "./compare.ts";
export { bareListAsSet, type Extraction, type ParsedAnswer, parseAnswer } from "./extract.ts";
