import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportModel } from "../../model/export-model.ts";
import { referenceLogits } from "../../model/reference.ts";
import { loadSourceModel } from "../../model/source.ts";
import { buildRecurrentWeights } from "../../model/surgery.ts";
import {
  STORY_PROMPTS,
  stories260kDir,
  stories260kTokenizer,
} from "../../model/testing/stories.ts";
import type { RecurrentWeights } from "../../model/weights.ts";
import { ContextWindowExceededError, LoglikelihoodRequestError } from "./errors.ts";
import { type LoadedCheckpoint, loadNodeCheckpoint } from "./load-node.ts";
import {
  type EncodedPair,
  encodePair,
  type LoglikelihoodConfig,
  type LoglikelihoodResult,
  scoreLoglikelihood,
} from "./loglikelihood.ts";

const work = mkdtempSync(join(tmpdir(), "evals-loglikelihood-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const source = loadSourceModel(stories260kDir);
const BOS = 1;

/** Σ log p(continuation) and the greedy check from the reference forward over the whole sequence. */
function referenceScore(weights: RecurrentWeights, pair: EncodedPair, recurrences: number) {
  const ids = [...pair.contextIds, ...pair.continuationIds];
  const vocab = weights.dims.vocabSize;
  const logits = referenceLogits(weights, ids, { recurrences });
  let logprob = 0;
  let isGreedy = true;
  pair.continuationIds.forEach((token, j) => {
    const p = pair.contextIds.length - 1 + j;
    const row = Array.from(logits.subarray(p * vocab, (p + 1) * vocab));
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((a, x) => a + Math.exp(x - max), 0));
    logprob += row[token] - lse;
    if (row.indexOf(max) !== token) isGreedy = false;
  });
  return { logprob, isGreedy };
}

describe("encodePair follows lm-eval's _encode_pair", () => {
  const tokenizer = stories260kTokenizer();
  const encode = (text: string) => tokenizer.encode(text, { add_special_tokens: false }).ids;
  const engine = {
    encodeText: (text: string, bos: boolean) => (bos ? [BOS] : []).concat(encode(text)),
  };
  const tokens = { bos_token_id: BOS, eos_token_ids: [2], pad_token_id: null, add_bos_token: true };

  it("moves the context's trailing whitespace to the continuation and splits encode(whole)", () => {
    // _encode_pair: n_spaces = len(context) - len(context.rstrip()); continuation =
    // context[-n_spaces:] + continuation; context = context[:-n_spaces];
    // whole_enc = tok_encode(context + continuation); context_enc = tok_encode(context);
    // continuation_enc = whole_enc[len(context_enc):]
    const pair = encodePair(
      engine,
      tokens,
      { context: "Tom had a ball. \n", continuation: "It" },
      true,
    );
    expect(pair.contextIds).toEqual([BOS, ...encode("Tom had a ball.")]);
    expect(pair.continuationIds).toEqual(
      encode("Tom had a ball. \nIt").slice(pair.contextIds.length - 1),
    );
    const plain = encodePair(
      engine,
      tokens,
      { context: "Once upon a", continuation: " time" },
      false,
    );
    expect(plain.contextIds).toEqual(encode("Once upon a"));
    expect([...plain.contextIds, ...plain.continuationIds]).toEqual(encode("Once upon a time"));
  });

  it("an empty context is the BOS token alone", () => {
    const pair = encodePair(engine, tokens, { context: "", continuation: "Once" }, true);
    expect(pair).toEqual({ contextIds: [BOS], continuationIds: encode("Once") });
  });
});

describe("scoreLoglikelihood on stories260k (split 1,3,1) = the reference forward", () => {
  let loaded: LoadedCheckpoint;
  let weights: RecurrentWeights;
  let pairs: EncodedPair[];
  beforeAll(async () => {
    const out = join(work, "split");
    await exportModel({ from: stories260kDir, out, split: [1, 3, 1], adapter: "random", seed: 7 });
    loaded = await loadNodeCheckpoint(out);
    weights = buildRecurrentWeights(source, { split: [1, 3, 1], adapter: "random", seed: 7 });
    const { tokens } = loaded.model.manifest;
    // Three documents with four choices each (one-token and multi-token continuations), and
    // two contexts against one continuation (winogrande's shape).
    const requests = [
      ...[" time", " day there was a cat", " big", " dog and a cat played"].map((c) => ({
        context: STORY_PROMPTS[0],
        continuation: c,
      })),
      ...[" home.", " to the park and saw a bird", " happy", " sad"].map((c) => ({
        context: `${STORY_PROMPTS[2]} `,
        continuation: c,
      })),
      ...[" Lily", " Ben", " the dog", " Mom"].map((c) => ({
        context: "The little dog ran to the park and met",
        continuation: c,
      })),
      { context: "Sara wanted a cake so Sara", continuation: " baked it." },
      { context: "Sara wanted a cake so Mom", continuation: " baked it." },
    ];
    pairs = requests.map((r) => encodePair(loaded.tokenizer, tokens, r, true));
  });

  const config = (r: number, reuseContext: boolean): LoglikelihoodConfig => ({
    recurrences: r,
    kv: "full",
    batchSize: 3,
    reuseContext,
  });

  it.each([1, 4])(
    "r = %i: each pair within 1e-3 of the reference, shared context = alone",
    async (r) => {
      const alone = await scoreLoglikelihood(loaded.model, pairs, config(r, false));
      const shared = await scoreLoglikelihood(loaded.model, pairs, config(r, true));
      const oneByOne: LoglikelihoodResult[] = [];
      for (const pair of pairs)
        oneByOne.push(...(await scoreLoglikelihood(loaded.model, [pair], config(r, false))));
      pairs.forEach((pair, i) => {
        const want = referenceScore(weights, pair, r);
        expect(Math.abs(alone[i].logprob - want.logprob), `pair ${i}`).toBeLessThan(1e-3);
        expect(alone[i].isGreedy, `pair ${i}`).toBe(want.isGreedy);
        // The three shared contexts differ in length: one left-padded prefill, then rounds.
        expect(Math.abs(shared[i].logprob - want.logprob), `pair ${i}`).toBeLessThan(1e-3);
        expect(shared[i].isGreedy, `pair ${i}`).toBe(want.isGreedy);
        expect(Math.abs(shared[i].logprob - oneByOne[i].logprob), `pair ${i}`).toBeLessThan(1e-4);
        expect(Math.abs(alone[i].logprob - oneByOne[i].logprob), `pair ${i}`).toBeLessThan(1e-4);
        expect(shared[i].isGreedy).toBe(oneByOne[i].isGreedy);
        expect(alone[i].inputTokens).toBe(pair.contextIds.length + pair.continuationIds.length - 1);
      });
    },
  );

  it("a greedy continuation is reported greedy", async () => {
    const context = loaded.tokenizer.encodeText(STORY_PROMPTS[5], true);
    const vocab = weights.dims.vocabSize;
    const greedy: number[] = [];
    for (let k = 0; k < 4; k++) {
      const ids = [...context, ...greedy];
      const logits = referenceLogits(weights, ids, { recurrences: 4 });
      const row = Array.from(logits.subarray((ids.length - 1) * vocab, ids.length * vocab));
      greedy.push(row.indexOf(Math.max(...row)));
    }
    const pair = { contextIds: context, continuationIds: greedy };
    const notGreedy = {
      contextIds: context,
      continuationIds: [...greedy.slice(0, 3), (greedy[3] + 1) % vocab],
    };
    const [yes, no] = await scoreLoglikelihood(loaded.model, [pair, notGreedy], config(4, true));
    expect(yes.isGreedy).toBe(true);
    expect(no.isGreedy).toBe(false);
  });

  it("left-truncates to max_length + 1 tokens, then drops the last (lm-eval's window)", async () => {
    const long = Array.from({ length: 60 }, (_, i) => STORY_PROMPTS[i % STORY_PROMPTS.length]).join(
      " ",
    );
    const pair = encodePair(
      loaded.tokenizer,
      loaded.model.manifest.tokens,
      { context: long, continuation: " the end" },
      true,
    );
    expect(pair.contextIds.length).toBeGreaterThan(512);
    const [result] = await scoreLoglikelihood(loaded.model, [pair], config(1, true));
    expect(result.truncated).toBe(true);
    expect(result.inputTokens).toBe(512);
    const kept = [...pair.contextIds, ...pair.continuationIds].slice(-513);
    const m = pair.continuationIds.length;
    const want = referenceScore(
      weights,
      { contextIds: kept.slice(0, -m), continuationIds: kept.slice(-m) },
      1,
    );
    expect(Math.abs(result.logprob - want.logprob)).toBeLessThan(1e-3);

    // Choices of a truncated document: those of equal token length keep the same context
    // tokens, so they share a prefill (batched with the others'); each equals its pair scored
    // alone, the path checked against the reference above.
    const choices = [[pair.continuationIds[0]], [7], [8, 9], [10, 11]];
    const truncatedPairs = choices.map((ids) => ({
      contextIds: pair.contextIds,
      continuationIds: ids,
    }));
    const shared = await scoreLoglikelihood(loaded.model, truncatedPairs, config(1, true));
    const alone = await scoreLoglikelihood(loaded.model, truncatedPairs, config(1, false));
    shared.forEach((got, i) => {
      expect([got.truncated, got.inputTokens]).toEqual([true, 512]);
      expect(Math.abs(got.logprob - alone[i].logprob), `choice ${i}`).toBeLessThan(1e-4);
      expect(got.isGreedy, `choice ${i}`).toBe(alone[i].isGreedy);
    });
  });

  it("refuses empty continuations, continuations longer than the window and bad r", async () => {
    const context = [BOS, 5, 6];
    await expect(
      scoreLoglikelihood(
        loaded.model,
        [{ contextIds: context, continuationIds: [] }],
        config(1, false),
      ),
    ).rejects.toThrow(LoglikelihoodRequestError);
    await expect(
      scoreLoglikelihood(
        loaded.model,
        [{ contextIds: context, continuationIds: new Array(600).fill(5) }],
        config(1, false),
      ),
    ).rejects.toThrow(ContextWindowExceededError);
    await expect(
      scoreLoglikelihood(
        loaded.model,
        [{ contextIds: context, continuationIds: [5] }],
        config(0, false),
      ),
    ).rejects.toThrow(/1 to 256/);
  });
});
