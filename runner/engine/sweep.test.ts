// A sweep over r (one prefill at the largest r, read after each smaller one) gives every r exactly
// what running that r alone gives: generation and loglikelihood, both KV strategies, zeros and
// seeded normal s_0, on the stories260k checkpoint and a random tiny one, each with a block.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportModel } from "../../model/export-model.ts";
import { STORY_PROMPTS, stories260kDir } from "../../model/testing/stories.ts";
import { type GenerationConfig, generateBatch, generateSweep } from "./generate.ts";
import { type LoadedCheckpoint, loadNodeCheckpoint } from "./load-node.ts";
import { type EncodedPair, scoreLoglikelihood, scoreLoglikelihoodSweep } from "./loglikelihood.ts";

const work = mkdtempSync(join(tmpdir(), "evals-sweep-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const SWEEP = [1, 2, 5, 8];

const checkpoints = [
  {
    name: "stories260k 1,3,1",
    export: { from: stories260kDir, split: [1, 3, 1] as [number, number, number] },
  },
  {
    name: "random tiny 1,1,1",
    export: { random: "tiny", split: [1, 1, 1] as [number, number, number] },
  },
];

describe.each(checkpoints)("sweep over r = separate runs: $name", (checkpoint) => {
  let loaded: LoadedCheckpoint;
  let prompts: number[][];
  beforeAll(async () => {
    const out = join(work, checkpoint.name.replace(/\W+/g, "-"));
    await exportModel({ ...checkpoint.export, out, adapter: "random", seed: 7 });
    loaded = await loadNodeCheckpoint(out);
    // Different lengths, so rows are left-padded in one batch.
    prompts = STORY_PROMPTS.slice(0, 3).map((p, i) =>
      loaded.tokenizer.encodePrompt(p).slice(0, 6 + 3 * i),
    );
  });
  const decode = (ids: readonly number[]) => loaded.tokenizer.decode(ids);

  for (const kv of ["full", "shared"] as const) {
    for (const stateInit of ["zeros", "normal"] as const) {
      it(`generation, kv ${kv}, s_0 ${stateInit}`, async () => {
        const config: GenerationConfig = {
          recurrences: 1,
          maxNewTokens: 10,
          kv,
          stateInit,
          stopIds: [],
          stopStrings: [],
        };
        const requests = prompts.map((promptIds, i) => ({ promptIds, seed: 40 + i }));
        // Stop ids that end some rows early at some r, so finished rows leave the batch.
        const probe = await generateBatch(loaded.model, requests, config, decode);
        const stopping = { ...config, stopIds: [probe[0].ids[2], probe[1].ids[5]] };
        const sweep = await generateSweep(loaded.model, requests, stopping, SWEEP, decode);
        expect(sweep.map((s) => s.recurrences)).toEqual(SWEEP);
        let stoppedEarly = 0;
        for (const [k, r] of SWEEP.entries()) {
          const alone = await generateBatch(
            loaded.model,
            requests,
            { ...stopping, recurrences: r },
            decode,
          );
          for (const [b, result] of sweep[k].results.entries()) {
            const label = `r = ${r}, row ${b}`;
            expect(result.ids, label).toEqual(alone[b].ids);
            expect(result.text, label).toBe(alone[b].text);
            expect(result.stopReason, label).toBe(alone[b].stopReason);
            result.top5.forEach(([id, logit], j) => {
              expect(id, label).toBe(alone[b].top5[j][0]);
              expect(Math.abs(logit - alone[b].top5[j][1]), label).toBeLessThan(1e-5);
            });
            if (result.stopReason === "stop_id") stoppedEarly++;
          }
        }
        expect(stoppedEarly).toBeGreaterThan(0);
      });
    }

    it(`loglikelihood, kv ${kv}: shared contexts and lone pairs`, async () => {
      const [a, b, c] = prompts;
      const pairs: EncodedPair[] = [
        { contextIds: a, continuationIds: b.slice(0, 4) },
        { contextIds: a, continuationIds: c.slice(2, 3) },
        { contextIds: a, continuationIds: c.slice(0, 7) },
        { contextIds: b, continuationIds: a.slice(1, 5) },
        { contextIds: c, continuationIds: [a[3]] },
      ];
      for (const reuseContext of [true, false]) {
        const config = { kv, batchSize: 2, reuseContext };
        const sweep = await scoreLoglikelihoodSweep(loaded.model, pairs, config, SWEEP);
        for (const [k, r] of SWEEP.entries()) {
          const alone = await scoreLoglikelihood(loaded.model, pairs, {
            ...config,
            recurrences: r,
          });
          for (const [i, result] of sweep[k].entries()) {
            const label = `r = ${r}, pair ${i}, reuse ${reuseContext}`;
            expect(Math.abs(result.logprob - alone[i].logprob), label).toBeLessThan(1e-5);
            expect(result.isGreedy, label).toBe(alone[i].isGreedy);
            expect(result.inputTokens, label).toBe(alone[i].inputTokens);
          }
        }
      }
    });
  }
});

describe("sweep requests", () => {
  it("refuses recurrences that are not ascending and distinct", async () => {
    const fake = { manifest: { architecture: { max_position_embeddings: 64 } } };
    await expect(
      scoreLoglikelihoodSweep(
        fake as never,
        [{ contextIds: [1], continuationIds: [2] }],
        { kv: "full", batchSize: 1, reuseContext: true },
        [4, 1],
      ),
    ).rejects.toThrow(/recurrences 4,1 must be ascending and distinct/);
  });
});
