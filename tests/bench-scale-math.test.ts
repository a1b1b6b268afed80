// The arithmetic behind bench/scale.ts's projections, against values worked out by hand.
import { describe, expect, it } from "vitest";
import { writtenSolution } from "../bench/gsm8k-lengths.ts";
import { llama3Lengths } from "../bench/llama3-lengths.ts";
import {
  affineInR,
  bandwidthBoundCosts,
  cacheBound,
  cachedVsRecompute,
  type DocLengths,
  fitPolynomial,
  type MeasuredShape,
  measuredCosts,
  projectRun,
  type RunCosts,
  type StepBytes,
} from "../bench/scale-math.ts";

describe("fits", () => {
  it("recovers a quadratic exactly and gives the least-squares line", () => {
    const xs = [0, 1, 2, 3];
    const fit = fitPolynomial(
      xs,
      xs.map((x) => 2 + 3 * x + 0.5 * x * x),
      2,
    );
    for (const [i, c] of fit.entries()) expect(c).toBeCloseTo([2, 3, 0.5][i], 10);
    // Mean x 1, mean y 2, Sxy 1, Sxx 2: slope 0.5, intercept 1.5.
    const line = fitPolynomial([0, 1, 2], [1, 3, 2], 1);
    expect(line[0]).toBeCloseTo(1.5, 10);
    expect(line[1]).toBeCloseTo(0.5, 10);
    expect(() => fitPolynomial([1, 1], [2, 3], 1)).toThrow(/do not determine/);
    expect(() => fitPolynomial([1], [2], 1)).toThrow(/at least 2 points/);
  });

  it("puts a step's time as fixed + r × per-iteration", () => {
    const t = affineInR(1, 3, 4, 9);
    expect(t.perIteration).toBe(2);
    expect(t.fixed).toBe(1);
    expect(t.at(32)).toBe(65);
  });
});

describe("cached vs recompute", () => {
  it("sums a forward per new token against one prefill and a decode step per further token", () => {
    // Forward over n tokens: n seconds; a decode step: 1 second. Prompt 2, 3 new tokens:
    // cached = F(2) + D(2) + D(3) = 4; recompute = F(2) + F(3) + F(4) = 9.
    const lengths = [2, 10, 20];
    const estimate = cachedVsRecompute(
      {
        forward: lengths.map((n) => ({ n, seconds: n })),
        decode: lengths.map((t) => ({ t, seconds: 1 })),
      },
      2,
      3,
    );
    expect(estimate.cached).toBeCloseTo(4, 9);
    expect(estimate.recompute).toBeCloseTo(9, 9);
    expect(estimate.ratio).toBeCloseTo(2.25, 9);
  });

  it("bounds the gain by decode steps at the bandwidth floor", () => {
    // Forward over n tokens: n seconds; a floor of 0.5 s a step. Prompt 2, 3 new tokens:
    // cached = F(2) + 2 × 0.5 = 3; recompute = F(2) + F(3) + F(4) = 9; the measured decode
    // times (here 7 s a step) do not enter.
    const lengths = [2, 10, 20];
    const bound = cacheBound(
      {
        forward: lengths.map((n) => ({ n, seconds: n })),
        decode: lengths.map((t) => ({ t, seconds: 7 })),
      },
      2,
      3,
      0.5,
    );
    expect(bound.cached).toBeCloseTo(3, 9);
    expect(bound.recompute).toBeCloseTo(9, 9);
    expect(bound.ratio).toBeCloseTo(3, 9);
  });
});

describe("projecting a run", () => {
  const docs: DocLengths[] = [
    { prompt: 5, generated: 3 },
    { prompt: 2, generated: 1 },
  ];
  const contexts: number[] = [];
  const costs: RunCosts = {
    decodeStep: (r, rows, context) => {
      contexts.push(context);
      return r * rows;
    },
    prefill: (r, rows, length) => r * rows * length,
  };

  it("batches by prompt length, prefills once at the largest r and drops finished rows", () => {
    contexts.length = 0;
    // One batch padded to 5: prefill 2 (r) × 2 rows × 5 = 20. The second document ends with its
    // prefill token, so steps 1 and 2 run one row: r = 1 costs 2, r = 2 costs 4.
    const run = projectRun(docs, 2, [1, 2], costs);
    expect(run.prefill).toBe(20);
    expect(run.decode.get(1)).toBe(2);
    expect(run.decode.get(2)).toBe(4);
    expect(run.total).toBe(26);
    expect(contexts).toEqual([5, 6, 5, 6]);
    // Batch 1: prefills 2·1·2 + 2·1·5 = 14, the same decode steps.
    expect(projectRun(docs, 1, [1, 2], costs).total).toBe(20);
  });

  const bytes: StepBytes = {
    weights: { prelude: 1, block: 2, coda: 3 },
    kvPerPositionPerLayer: 10,
    layers: { prelude: 1, block: 1, coda: 1 },
  };

  it("bounds a GPU step by the weights once per batch plus every row's KV cache", () => {
    const gpu = bandwidthBoundCosts(bytes, 8, 100, (r, rows, length) => r * rows * length * 1000);
    // r = 2: weights 1 + 2·2 + 3 = 8; KV 2 rows × 3 positions × 10 × (1 + 2 + 1) layers = 240.
    expect(gpu.decodeStep(2, 2, 3)).toBe(248 / 8);
    // Prefill: weights 8 / 8 = 1 s against FLOPs 2·1·4·1000 / 100 = 80 s.
    expect(gpu.prefill(2, 1, 4)).toBe(80);
    expect(gpu.prefill(2, 1, 0)).toBe(1);
  });

  it("rebuilds this machine's costs from shapes timed at r = 1, 4 and batch 1, 8", () => {
    // Timed as step = 1 + 2r + 0.5(batch − 1) at context 8, prefill = r per 8 positions.
    const shapes: MeasuredShape[] = [1, 4].flatMap((r) =>
      [1, 8].map((batch) => ({
        r,
        batch,
        promptTokens: 8,
        prefillSeconds: r * batch,
        stepSeconds: 1 + 2 * r + 0.5 * (batch - 1),
        context: 8,
      })),
    );
    const here = measuredCosts(shapes, bytes, 1000);
    expect(here.decodeStep(16, 4, 8)).toBeCloseTo(1 + 32 + 1.5, 9);
    // 10 positions more: 2 rows × 10 × 10 bytes × (1 + 1 + 1) layers at 1000 B/s = 0.6 s.
    expect(here.decodeStep(1, 2, 18)).toBeCloseTo(3.5 + 0.6, 9);
    // 400 positions at r = 3: 3 s per 8 positions → 150 s.
    expect(here.prefill(3, 4, 100)).toBeCloseTo(150, 9);
    expect(() => measuredCosts(shapes.slice(0, 2), bytes, 1000)).toThrow(/two r's/);
    // A batch of 8 timed faster than a batch of 1 is noise: 4 rows cost what 1 row did.
    const noisy = shapes.map((s) => (s.batch === 8 ? { ...s, stepSeconds: 1 } : s));
    expect(measuredCosts(noisy, bytes, 1000).decodeStep(4, 4, 8)).toBeCloseTo(9, 9);
    // An r = 4 prefill timed faster than r = 1 is noise too: every r costs what r = 1 did.
    const flat = shapes.map((s) => (s.r === 4 ? { ...s, prefillSeconds: 0.5 * s.batch } : s));
    expect(measuredCosts(flat, bytes, 1000).prefill(32, 8, 8)).toBeCloseTo(8, 9);
  });
});

it("writes a GSM8K reference solution as the chain-of-thought exemplars do", () => {
  const answer =
    "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\nShe makes 9 * 2 = $<<9*2=18>>18 every day.\n#### 18";
  expect(writtenSolution("gsm8k_cot_sean", answer)).toBe(
    "Janet sells 16 - 3 - 4 = 9 duck eggs a day. She makes 9 * 2 = $18 every day. The answer is 18.",
  );
  expect(writtenSolution("gsm8k", answer)).toBe(answer);
});

describe("Llama 3 token counts (--tokenizer llama3)", () => {
  it("prompts start with <|begin_of_text|>, text alone has no special token (Meta's ids)", () => {
    expect(llama3Lengths.encodePrompt("Hello world")).toEqual([128000, 9906, 1917]);
    expect(llama3Lengths.encodeText("Hello world", false)).toEqual([9906, 1917]);
    expect(llama3Lengths.encodeText("", false)).toEqual([]);
  });
});
