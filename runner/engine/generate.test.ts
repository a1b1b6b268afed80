import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportModel } from "../../model/export-model.ts";
import { referenceGreedy } from "../../model/reference.ts";
import { loadSourceModel } from "../../model/source.ts";
import { buildRecurrentWeights } from "../../model/surgery.ts";
import { expectGreedyMatchesReference } from "../../model/testing/expect-greedy.ts";
import { STORY_PROMPTS, stories260kDir } from "../../model/testing/stories.ts";
import type { RecurrentWeights } from "../../model/weights.ts";
import { ContextWindowExceededError, GenerationRequestError } from "./errors.ts";
import { type GenerationConfig, generateBatch } from "./generate.ts";
import { type LoadedCheckpoint, loadNodeCheckpoint } from "./load-node.ts";

const work = mkdtempSync(join(tmpdir(), "evals-generate-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const source = loadSourceModel(stories260kDir);
const prompts = STORY_PROMPTS.slice(0, 10);
const NEW_TOKENS = 48;

const cases: { name: string; split?: [number, number, number]; recurrences: number[] }[] = [
  { name: "non-recurrent", recurrences: [1] },
  { name: "split 1,3,1 random adapter", split: [1, 3, 1], recurrences: [1, 2, 4, 8, 16] },
];

describe.each(cases)(
  "node backend greedy = reference greedy: $name",
  ({ name, split, recurrences }) => {
    let loaded: LoadedCheckpoint;
    let weights: RecurrentWeights;
    beforeAll(async () => {
      const out = join(work, name.replace(/\W+/g, "-"));
      await exportModel({ from: stories260kDir, out, split, adapter: "random", seed: 7 });
      loaded = await loadNodeCheckpoint(out);
      weights = buildRecurrentWeights(source, { split, adapter: "random", seed: 7 });
    });

    it.each(recurrences)("r = %i: 10 prompts × 48 tokens, top5 within 2e-3", async (r) => {
      const config: GenerationConfig = {
        recurrences: r,
        maxNewTokens: NEW_TOKENS,
        kv: "full",
        stateInit: "zeros",
        stopIds: [],
        stopStrings: [],
      };
      const decode = (ids: readonly number[]) => loaded.tokenizer.decode(ids);
      const cases = [];
      for (const prompt of prompts) {
        const promptIds = loaded.tokenizer.encodePrompt(prompt);
        const [result] = await generateBatch(
          loaded.model,
          [{ promptIds, seed: 0 }],
          config,
          decode,
        );
        cases.push({ label: `prompt "${prompt}"`, promptIds, ...result });
      }
      expectGreedyMatchesReference(weights, cases, r, NEW_TOKENS);
    });
  },
);

describe("batches, KV strategies, state init and bad requests", () => {
  let loaded: LoadedCheckpoint;
  let weights: RecurrentWeights;
  const base: GenerationConfig = {
    recurrences: 4,
    maxNewTokens: 24,
    kv: "full",
    stateInit: "zeros",
    stopIds: [],
    stopStrings: [],
  };
  const decode = (ids: readonly number[]) => loaded.tokenizer.decode(ids);
  beforeAll(async () => {
    const out = join(work, "batching");
    await exportModel({ from: stories260kDir, out, split: [1, 3, 1], adapter: "random", seed: 7 });
    loaded = await loadNodeCheckpoint(out);
    weights = buildRecurrentWeights(source, { split: [1, 3, 1], adapter: "random", seed: 7 });
  });

  it("matches referenceGreedy itself on two prompts", async () => {
    for (const prompt of prompts.slice(0, 2)) {
      const promptIds = loaded.tokenizer.encodePrompt(prompt);
      const [result] = await generateBatch(loaded.model, [{ promptIds, seed: 0 }], base, decode);
      expect(result.ids).toEqual(
        referenceGreedy(weights, promptIds, { recurrences: 4, maxNewTokens: 24, stopIds: [] }),
      );
    }
  });

  it("stepTop5: each decode step's top 5 is what a prefill of the tokens so far gives", async () => {
    const promptIds = loaded.tokenizer.encodePrompt(prompts[3]);
    const config = { ...base, maxNewTokens: 6 };
    const [plain] = await generateBatch(loaded.model, [{ promptIds, seed: 0 }], config, decode);
    expect(plain.stepTop5).toBeUndefined();
    const [result] = await generateBatch(
      loaded.model,
      [{ promptIds, seed: 0 }],
      { ...config, stepTop5: true },
      decode,
    );
    expect(result.ids).toEqual(plain.ids);
    expect(result.stepTop5).toHaveLength(5);
    for (const [k, top] of result.stepTop5!.entries()) {
      expect(top[0][0]).toBe(result.ids[k + 1]);
      const context = [...promptIds, ...result.ids.slice(0, k + 1)];
      const [prefilled] = await generateBatch(
        loaded.model,
        [{ promptIds: context, seed: 0 }],
        { ...config, maxNewTokens: 1 },
        decode,
      );
      for (const [j, [id, logit]] of prefilled.top5.entries()) {
        expect(top[j][0], `step ${k}`).toBe(id);
        expect(top[j][1], `step ${k}`).toBeCloseTo(logit, 4);
      }
    }
  });

  it("a batch of 4 prompts of different lengths gives each prompt's tokens alone", async () => {
    const requests = [prompts[0], prompts[2], prompts[7], prompts[5]].map((p, i) => ({
      promptIds: loaded.tokenizer.encodePrompt(p),
      seed: 100 + i,
    }));
    expect(new Set(requests.map((r) => r.promptIds.length)).size).toBe(4);
    for (const stateInit of ["zeros", "normal"] as const) {
      const config = { ...base, stateInit };
      const together = await generateBatch(loaded.model, requests, config, decode);
      for (const [i, request] of requests.entries()) {
        const [alone] = await generateBatch(loaded.model, [request], config, decode);
        expect(together[i].ids, `${stateInit} prompt ${i}`).toEqual(alone.ids);
        for (const [k, [id, logit]] of alone.top5.entries()) {
          expect(together[i].top5[k][0]).toBe(id);
          expect(together[i].top5[k][1]).toBeCloseTo(logit, 4);
        }
      }
    }
  });

  it("finished rows leave the batch without changing any row's tokens", async () => {
    // Four prompts of different lengths; each row gets a stop it meets at a different step, one
    // a stop string, so the batch shrinks 4 → 3 → 2 → 1 while the longest row runs to the cap.
    const requests = [prompts[1], prompts[4], prompts[8], prompts[6]].map((p, i) => ({
      promptIds: loaded.tokenizer.encodePrompt(p),
      seed: 200 + i,
    }));
    expect(new Set(requests.map((r) => r.promptIds.length)).size).toBe(4);
    for (const [stateInit, kv] of [
      ["zeros", "full"],
      ["normal", "shared"],
    ] as const) {
      const config = { ...base, stateInit, kv };
      const free = await generateBatch(loaded.model, requests, config, decode);
      // Stops found in one row's free continuation only: row 0 ends by id early, row 1 by id
      // later, row 2 by text, row 3 runs to the cap.
      const others = (row: number) => free.filter((_, i) => i !== row);
      const uniqueId = (row: number, from: number) =>
        free[row].ids.find(
          (id, k) => k >= from && others(row).every((other) => !other.ids.includes(id)),
        );
      const text = free[2].text;
      const word = Array.from({ length: text.length - 3 }, (_, k) => text.slice(k + 3, k + 5)).find(
        (piece) => piece.length === 2 && others(2).every((other) => !other.text.includes(piece)),
      );
      const stopIds = [uniqueId(0, 1), uniqueId(1, 6)];
      expect(stopIds.every((id) => id !== undefined) && word !== undefined).toBe(true);
      const stopping = { ...config, stopIds: stopIds as number[], stopStrings: [word!] };
      const kept = await generateBatch(
        loaded.model,
        requests,
        { ...stopping, dropFinished: false },
        decode,
      );
      const dropped = await generateBatch(loaded.model, requests, stopping, decode);
      expect(dropped).toEqual(kept);
      const lengths = kept.map((r) => r.ids.length);
      expect(new Set(lengths).size, `${lengths}`).toBeGreaterThanOrEqual(3);
      expect(kept.map((r) => r.stopReason)).toEqual([
        "stop_id",
        "stop_id",
        "stop_string",
        "max_new_tokens",
      ]);
      // And each row is what the prompt gives alone (batch 1: nothing to drop, no padding).
      for (const [i, request] of requests.entries()) {
        const [alone] = await generateBatch(loaded.model, [request], stopping, decode);
        expect(dropped[i].ids, `${stateInit} prompt ${i}`).toEqual(alone.ids);
        expect(dropped[i].text).toBe(alone.text);
      }
    }
  });

  it("normal state init is reproducible from the seed and differs across seeds", async () => {
    const promptIds = loaded.tokenizer.encodePrompt(prompts[3]);
    const config = { ...base, stateInit: "normal" as const };
    const [a] = await generateBatch(loaded.model, [{ promptIds, seed: 1 }], config, decode);
    const [b] = await generateBatch(loaded.model, [{ promptIds, seed: 1 }], config, decode);
    const [c] = await generateBatch(loaded.model, [{ promptIds, seed: 2 }], config, decode);
    expect(a.top5).toEqual(b.top5);
    expect(a.top5[0][1]).not.toBe(c.top5[0][1]);
  });

  it("shared KV runs, equals full at r = 1 and diverges from it at larger r", async () => {
    let agreeing = 0;
    for (const prompt of prompts) {
      const promptIds = loaded.tokenizer.encodePrompt(prompt);
      const request = [{ promptIds, seed: 0 }];
      const [full1] = await generateBatch(
        loaded.model,
        request,
        { ...base, recurrences: 1 },
        decode,
      );
      const [shared1] = await generateBatch(
        loaded.model,
        request,
        { ...base, recurrences: 1, kv: "shared" },
        decode,
      );
      expect(shared1.ids).toEqual(full1.ids);
      const [full] = await generateBatch(loaded.model, request, base, decode);
      const [shared] = await generateBatch(
        loaded.model,
        request,
        { ...base, kv: "shared" },
        decode,
      );
      expect(shared.top5).toEqual(full.top5); // the prefill sees no cache: identical
      if (shared.ids.join() === full.ids.join()) agreeing++;
    }
    expect(agreeing).toBeLessThan(prompts.length);
  });

  it("stops at stop ids and cuts the text before stop strings", async () => {
    const promptIds = loaded.tokenizer.encodePrompt(prompts[0]);
    const [free] = await generateBatch(loaded.model, [{ promptIds, seed: 0 }], base, decode);
    const stopId = free.ids[5];
    const [byId] = await generateBatch(
      loaded.model,
      [{ promptIds, seed: 0 }],
      { ...base, stopIds: [stopId] },
      decode,
    );
    expect(byId.stopReason).toBe("stop_id");
    expect(byId.ids).toEqual(free.ids.slice(0, free.ids.indexOf(stopId) + 1));
    const word = free.text.trim().split(/\s+/)[2];
    const [byText] = await generateBatch(
      loaded.model,
      [{ promptIds, seed: 0 }],
      { ...base, stopStrings: [word] },
      decode,
    );
    expect(byText.stopReason).toBe("stop_string");
    expect(byText.text).toBe(free.text.slice(0, free.text.indexOf(word)));
  });

  it("refuses bad requests before running anything", async () => {
    const promptIds = loaded.tokenizer.encodePrompt(prompts[0]);
    const run = (config: Partial<GenerationConfig>, ids: readonly number[] = promptIds) =>
      generateBatch(loaded.model, [{ promptIds: ids, seed: 0 }], { ...base, ...config }, decode);
    await expect(run({ recurrences: 0 })).rejects.toThrow(GenerationRequestError);
    await expect(run({ recurrences: 257 })).rejects.toThrow(/1 to 256/);
    await expect(run({}, [])).rejects.toThrow(/prompt 0 is empty/);
    await expect(run({ maxNewTokens: 510 })).rejects.toThrow(ContextWindowExceededError);
  });
});
