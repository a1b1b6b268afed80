import { describe, expect, it } from "vitest";
import { argmax, referenceGreedy, referenceLogits, rotaryInverseFrequencies } from "./reference.ts";
import { loadSourceModel } from "./source.ts";
import { buildRecurrentWeights } from "./surgery.ts";
import { STORY_PROMPTS, stories260kDir, stories260kTokenizer } from "./testing/stories.ts";
import type { ModelDims } from "./weights.ts";

// llama2.c's run.c with stories260K at temperature 0 and no prompt prints these 565 characters (the
// 256 tokens after BOS, its default step count), as published in llama2.c's doc/stories260K.md.
const RUN_C_GREEDY_OUTPUT =
  "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. " +
  "One day, she saw a big, red ball. She wanted to play with it, but it was too high.\n" +
  "Lily's mom said, \"Lily, let's go to the park.\" Lily was sad and didn't know what to do. " +
  'She said, "I want to play with your ball, but I can\'t find it."\n' +
  "Lily was sad and didn't know what to do. She said, \"I'm sorry, Lily. I didn't know what to do.\"\n" +
  "Lily didn't want to help her mom, so she said, \"I'm sorry, mom. I didn't know what to do.\" " +
  "Her mom said, \"Don't worry, Lily. We can help you.";
// Run on until the model emits BOS (llama2.c's sample.py with more tokens prints this ending).
const STORY_ENDING =
  '"\nLily and her mom went to the park to play. They played together and had fun. After a ' +
  "while, Lily's mom came into the room and saw the park. She was so happy and said, " +
  '"Thank you, Lily! You are a good friend."';

describe("reference forward on stories260k", () => {
  const source = loadSourceModel(stories260kDir);
  const plain = buildRecurrentWeights(source);
  const tokenizer = stories260kTokenizer();

  it("decodes greedily from BOS the way llama2.c does", () => {
    const ids = referenceGreedy(plain, [1], { recurrences: 1, maxNewTokens: 60, stopIds: [1] });
    expect(ids).toHaveLength(60);
    expect(RUN_C_GREEDY_OUTPUT.startsWith(tokenizer.decode(ids))).toBe(true);
  });

  it("reproduces the published greedy story token for token, stopping at BOS", () => {
    // The reference is causal, so one pass over the whole story checks every greedy step: each
    // token must be the argmax at the position before it (referenceGreedy would take ~100x longer).
    const story = [1, ...tokenizer.encode(RUN_C_GREEDY_OUTPUT + STORY_ENDING).ids.slice(1)];
    expect(tokenizer.decode(story.slice(1, 257))).toBe(RUN_C_GREEDY_OUTPUT);
    const vocab = plain.dims.vocabSize;
    const logits = referenceLogits(plain, story, { recurrences: 1 });
    const predicted = story.map((_, p) => argmax(logits.subarray(p * vocab, (p + 1) * vocab)));
    expect(predicted.slice(0, -1)).toEqual(story.slice(1));
    expect(predicted.at(-1)).toBe(1);
  });

  it("equals the source at r = 1 with the identity adapter, at every position", () => {
    const identity = buildRecurrentWeights(source, { split: [1, 3, 1], adapter: "identity" });
    for (const prompt of STORY_PROMPTS.slice(0, 3)) {
      const ids = tokenizer.encode(prompt).ids;
      const a = referenceLogits(plain, ids, { recurrences: 1 });
      const b = referenceLogits(identity, ids, { recurrences: 1 });
      expect(maxAbsDiff(a, b)).toBeLessThan(1e-5);
    }
  });

  it("changes with r when the adapter is random, and r = 1 differs from the source", () => {
    const random = buildRecurrentWeights(source, { split: [1, 3, 1], adapter: "random", seed: 3 });
    const ids = tokenizer.encode(STORY_PROMPTS[1]).ids;
    const r1 = referenceLogits(random, ids, { recurrences: 1 });
    const r4 = referenceLogits(random, ids, { recurrences: 4 });
    expect(maxAbsDiff(r1, r4)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(r1, referenceLogits(plain, ids, { recurrences: 1 }))).toBeGreaterThan(1e-3);
  });

  it("uses the state: a non-zero s_0 changes a random-adapter model's logits", () => {
    const random = buildRecurrentWeights(source, { split: [1, 3, 1], adapter: "random", seed: 3 });
    const ids = tokenizer.encode(STORY_PROMPTS[0]).ids;
    const state = new Float32Array(ids.length * 64).fill(0.5);
    const zero = referenceLogits(random, ids, { recurrences: 2 });
    const nonZero = referenceLogits(random, ids, { recurrences: 2, initialState: state });
    expect(maxAbsDiff(zero, nonZero)).toBeGreaterThan(1e-4);
  });
  it("ignores left padding: real positions match the unpadded sequence", () => {
    const random = buildRecurrentWeights(source, { split: [1, 3, 1], adapter: "random", seed: 3 });
    const ids = tokenizer.encode(STORY_PROMPTS[2]).ids;
    const vocab = plain.dims.vocabSize;
    for (const weights of [plain, random]) {
      const unpadded = referenceLogits(weights, ids, { recurrences: 3 });
      const padded = referenceLogits(weights, [0, 0, 0, ...ids], {
        recurrences: 3,
        attentionMask: [0, 0, 0, ...ids.map(() => 1)],
      });
      expect(maxAbsDiff(padded.subarray(3 * vocab), unpadded)).toBeLessThan(1e-5);
      expect(Number.isFinite(padded[0])).toBe(true);
    }
    const greedy = (mask?: number[]) =>
      referenceGreedy(plain, mask ? [7, 7, ...ids] : ids, {
        recurrences: 1,
        maxNewTokens: 8,
        stopIds: [],
        attentionMask: mask,
      });
    expect(greedy([0, 0, ...ids.map(() => 1)])).toEqual(greedy());
  });

  it("refuses a mask whose length differs from the ids", () => {
    expect(() =>
      referenceLogits(plain, [1, 2, 3], { recurrences: 1, attentionMask: [1, 1] }),
    ).toThrow(/attentionMask has 2 entries for 3 tokens/);
  });
});

describe("rotaryInverseFrequencies", () => {
  const dims: ModelDims = {
    hiddenSize: 8,
    numHeads: 1,
    numKvHeads: 1,
    headDim: 8,
    intermediateSize: 8,
    vocabSize: 8,
    maxPositionEmbeddings: 64,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    ropeScaling: null,
    embedScale: 1,
    normPlacement: "pre",
  };

  it("is theta^(-2i/d) without scaling", () => {
    expect(Array.from(rotaryInverseFrequencies(dims))).toEqual(
      [1, 0.1, 0.01, 0.001].map((v, i) => (i === 0 ? 1 : expect.closeTo(v, 12))),
    );
  });

  it("applies llama3 scaling: high frequencies kept, low ones divided, the middle smoothed", () => {
    const scaled = rotaryInverseFrequencies({
      ...dims,
      ropeScaling: {
        type: "llama3",
        factor: 8,
        lowFreqFactor: 1,
        highFreqFactor: 4,
        originalMaxPositionEmbeddings: 32,
      },
    });
    // wavelengths 2π/inv: 6.28 (< 32/4 = 8: kept), 62.8 and 628 and 6283 (> 32: divided by 8).
    expect(scaled[0]).toBeCloseTo(1, 12);
    expect(scaled[1]).toBeCloseTo(0.1 / 8, 12);
    expect(scaled[3]).toBeCloseTo(0.001 / 8, 12);
    const middle = rotaryInverseFrequencies({
      ...dims,
      ropeScaling: {
        type: "llama3",
        factor: 8,
        lowFreqFactor: 1,
        highFreqFactor: 4,
        originalMaxPositionEmbeddings: 200,
      },
    });
    // wavelength 62.8 lies between 200/4 = 50 and 200/1: smooth = (200/62.83 - 1) / 3.
    const smooth = (200 / ((2 * Math.PI) / 0.1) - 1) / 3;
    expect(middle[1]).toBeCloseTo((1 - smooth) * (0.1 / 8) + smooth * 0.1, 12);
  });
});

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}
