import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportModel } from "../../model/export-model.ts";
import { loadSourceModel } from "../../model/source.ts";
import { buildRecurrentWeights } from "../../model/surgery.ts";
import { checkGreedyAgainstReference } from "../../model/testing/greedy-oracle.ts";
import { STORY_PROMPTS, stories260kDir } from "../../model/testing/stories.ts";
import type { RecurrentWeights } from "../../model/weights.ts";
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
      for (const prompt of prompts) {
        const promptIds = loaded.tokenizer.encodePrompt(prompt);
        const [result] = await generateBatch(
          loaded.model,
          [{ promptIds, seed: 0 }],
          config,
          decode,
        );
        expect(result.ids).toHaveLength(NEW_TOKENS);
        const check = checkGreedyAgainstReference(weights, promptIds, result.ids, r);
        expect(check.firstMismatch, `prompt "${prompt}"`).toBe(-1);
        for (const [id, logit] of result.top5) {
          expect(Math.abs(logit - check.promptLogits[id])).toBeLessThanOrEqual(
            2e-3 + 2e-3 * Math.abs(logit),
          );
        }
      }
    });
  },
);
