import { describe, expect, it } from "vitest";
import { stories260kTokenizer } from "../../../model/testing/stories.ts";
import { getLoglikelihoodTask } from "./registry.ts";
import { perplexity, scoreDocument } from "./score.ts";

const arc = getLoglikelihoodTask("arc_easy")!;
const ll = (...values: number[]) => values.map((logprob) => ({ logprob, isGreedy: false }));

describe("lm-eval's multiple-choice metrics", () => {
  it("acc is the argmax of the summed loglikelihoods, ties to the first", () => {
    const doc = { gold: 1, choices: ["x", "y", "z"] };
    expect(scoreDocument(arc, doc, ll(-3, -1, -2)).metrics.acc).toBe(1);
    expect(scoreDocument(arc, doc, ll(-1, -1, -2)).metrics.acc).toBe(0);
  });

  it("acc_norm divides by the choice's length in code points, without the delimiter", () => {
    // ll / len: "a" → -1.1, "bcd" → -1.0 picks choice 1. With the delimiter (" a", " bcd") it
    // would be -0.55 vs -0.75 and pick choice 0.
    const delimiter = scoreDocument(arc, { gold: 1, choices: ["a", "bcd"] }, ll(-1.1, -3));
    expect(delimiter.metrics).toEqual({ acc: 0, acc_norm: 1 });
    // "😀😀": 2 code points (Python len), 4 UTF-16 units, 8 UTF-8 bytes. "éé": 2 code points,
    // 4 bytes. Code points: -2.1/2 vs -2.0/2 picks 1; bytes (-0.2625 vs -0.5) or UTF-16 (-0.525
    // vs -1) would pick 0.
    const emoji = scoreDocument(arc, { gold: 1, choices: ["😀😀", "éé"] }, ll(-2.1, -2));
    expect(emoji.metrics.acc_norm).toBe(1);
  });

  it("acc_norm differs from normalising by token count", () => {
    const tokenizer = stories260kTokenizer();
    const choices = ["photosynthesis", "a cat"];
    const tokens = choices.map(
      (c) => tokenizer.encode(` ${c}`, { add_special_tokens: false }).ids.length,
    );
    // Characters 14 : 5, tokens a different ratio (the stories tokenizer splits the rare word).
    const [c0, c1] = choices.map((c) => [...c].length);
    expect(tokens[0] / tokens[1]).toBeLessThan(c0 / c1);
    // ll_1 = -c1; ll_0 between -c0 and -c1·t0/t1: per character choice 0 wins, per token choice 1.
    const lls = [(-c0 - (c1 * tokens[0]) / tokens[1]) / 2, -c1];
    expect(lls[0] / tokens[0]).toBeLessThan(lls[1] / tokens[1]);
    const score = scoreDocument(arc, { gold: 0, choices }, ll(...lls));
    expect(score.metrics).toEqual({ acc: 0, acc_norm: 1 });
  });

  it("winogrande: acc over two contexts, no acc_norm", () => {
    const wino = getLoglikelihoodTask("winogrande")!;
    const score = scoreDocument(
      wino,
      { gold: 1, choices: ["… so Sarah", "… so Maria"] },
      ll(-9, -8),
    );
    expect(score.metrics).toEqual({ acc: 1 });
  });

  it("loglikelihood tasks: acc = is_greedy, perplexity = exp(-mean ll)", () => {
    const lambada = getLoglikelihoodTask("lambada_openai")!;
    const a = scoreDocument(lambada, { gold: 0, choices: [] }, [{ logprob: -2, isGreedy: true }]);
    expect(a.metrics).toEqual({ acc: 1, perplexity: -2 });
    expect(perplexity([-2, -4])).toBeCloseTo(Math.exp(3), 12);
  });
});
