// Loglikelihood requests as lm-eval's HF model scores them: (context, continuation) → the summed
// log-probability of the continuation's tokens and whether each is the greedy (argmax) token.
// Encoding follows `_encode_pair`; inputs are `(context + continuation)[-(max_length + 1):][:-1]`.
// Batches run longest first. With context reuse, pairs whose contexts encode identically share
// one prefill of the context; their continuations then run on (copies of) that cache.

import type * as Ort from "onnxruntime-common";
import type { Manifest } from "../../model/manifest.ts";
import { ContextWindowExceededError, LoglikelihoodRequestError } from "./errors.ts";
import { assertFinite, MAX_RECURRENCES } from "./generate.ts";
import type { KvCache, KvStrategy, RecurrentModel, StepInputs } from "./recurrent-model.ts";
import type { PromptTokenizer } from "./tokenizer.ts";

export interface LoglikelihoodRequest {
  context: string;
  continuation: string;
}

export interface EncodedPair {
  contextIds: number[];
  continuationIds: number[];
}

export interface LoglikelihoodConfig {
  recurrences: number;
  kv: KvStrategy;
  /** Rows per model call (pairs, or continuations of one shared context). */
  batchSize: number;
  /** One prefill per distinct context, then its continuations (same numbers, less compute). */
  reuseContext: boolean;
}

export interface LoglikelihoodResult {
  /** Σ log p(continuation token | everything before it). */
  logprob: number;
  /** Every continuation token is the argmax at its position (lm-eval's is_greedy). */
  isGreedy: boolean;
  /** Tokens fed to the model for this pair alone (after left truncation): the FLOPs count. */
  inputTokens: number;
  continuationTokens: number;
  /** The context lost tokens on the left to fit the model's window. */
  truncated: boolean;
}

/**
 * lm-eval's `_encode_pair`: trailing whitespace of the context moves to the front of the
 * continuation; the continuation's tokens are those of `encode(context + continuation)` after the
 * first `len(encode(context))`. BOS is prepended to both encodings when `bos` is set. An empty
 * context becomes the BOS (else EOS) token alone, as lm-eval's `prefix_token_id`.
 */
export function encodePair(
  tokenizer: Pick<PromptTokenizer, "encodeText">,
  tokens: Manifest["tokens"],
  request: LoglikelihoodRequest,
  bos: boolean,
): EncodedPair {
  let { context, continuation } = request;
  if (context === "") {
    const prefix = tokens.bos_token_id ?? tokens.eos_token_ids[0];
    if (prefix === undefined)
      throw new LoglikelihoodRequestError("an empty context needs a BOS or EOS token id");
    return { contextIds: [prefix], continuationIds: tokenizer.encodeText(continuation, false) };
  }
  const spaces = context.length - context.trimEnd().length;
  if (spaces > 0) {
    continuation = context.slice(context.length - spaces) + continuation;
    context = context.slice(0, context.length - spaces);
  }
  const whole = tokenizer.encodeText(context + continuation, bos);
  const contextIds = tokenizer.encodeText(context, bos);
  return { contextIds, continuationIds: whole.slice(contextIds.length) };
}

interface Window {
  /** Model input: (context + continuation) cut to max_length + 1 on the left, minus the last. */
  input: number[];
  target: number[];
  truncated: boolean;
}

function windowOf(pair: EncodedPair, maxLength: number, index: number): Window {
  const target = pair.continuationIds;
  if (target.length === 0) {
    throw new LoglikelihoodRequestError(
      `request ${index}: the continuation encodes to no tokens; give a non-empty continuation`,
    );
  }
  if (target.length > maxLength) {
    throw new ContextWindowExceededError(
      `request ${index}: the continuation has ${target.length} tokens but the model has ${maxLength} positions`,
    );
  }
  const whole = [...pair.contextIds, ...target];
  const kept = whole.slice(-(maxLength + 1));
  return { input: kept.slice(0, -1), target, truncated: kept.length < whole.length };
}

/** Scores encoded pairs; results are in request order. */
export async function scoreLoglikelihood(
  model: RecurrentModel,
  pairs: readonly EncodedPair[],
  config: LoglikelihoodConfig,
): Promise<LoglikelihoodResult[]> {
  const [only] = await scoreLoglikelihoodSweep(model, pairs, config, [config.recurrences]);
  return only;
}

/**
 * Scores encoded pairs at every r of `recurrences` (ascending, distinct): each prefill runs once at
 * the largest r and is read after each smaller r (RecurrentModel.prefillSweep); continuations after
 * a shared context then run per r on that r's cache. Results per r, in request order, are those of
 * scoreLoglikelihood at that r alone.
 */
export async function scoreLoglikelihoodSweep(
  model: RecurrentModel,
  pairs: readonly EncodedPair[],
  config: Omit<LoglikelihoodConfig, "recurrences">,
  recurrences: readonly number[],
): Promise<LoglikelihoodResult[][]> {
  for (const r of recurrences) {
    if (!Number.isInteger(r) || r < 1 || r > MAX_RECURRENCES) {
      throw new LoglikelihoodRequestError(
        `recurrences ${r} must be an integer from 1 to ${MAX_RECURRENCES}`,
      );
    }
  }
  if (recurrences.some((r, i) => i > 0 && r <= recurrences[i - 1])) {
    throw new LoglikelihoodRequestError(
      `recurrences ${recurrences.join(",")} must be ascending and distinct`,
    );
  }
  if (!Number.isInteger(config.batchSize) || config.batchSize < 1)
    throw new LoglikelihoodRequestError(
      `batch size ${config.batchSize} must be a positive integer`,
    );
  const maxLength = model.manifest.architecture.max_position_embeddings;
  const windows = pairs.map((pair, i) => windowOf(pair, maxLength, i));
  const results = recurrences.map(() => new Array<LoglikelihoodResult>(pairs.length));
  const alone: number[] = [];
  const shared = new Map<string, number[]>();
  for (const [i, window] of windows.entries()) {
    if (!config.reuseContext || window.truncated) {
      alone.push(i);
      continue;
    }
    const key = pairs[i].contextIds.join(",");
    shared.set(key, [...(shared.get(key) ?? []), i]);
  }
  const sweep = { ...config, recurrences };
  for (const group of shared.values()) {
    if (group.length === 1) alone.push(group[0]);
    else
      await scoreSharedContext(model, pairs[group[0]].contextIds, group, windows, sweep, results);
  }
  await scoreAlone(model, alone, windows, sweep, results);
  return results;
}

/** The engine settings of a sweep: every r at once. */
type SweepConfig = Omit<LoglikelihoodConfig, "recurrences"> & { recurrences: readonly number[] };

/** Pairs scored independently, in batches of similar length, longest first (as lm-eval sorts). */
async function scoreAlone(
  model: RecurrentModel,
  indices: number[],
  windows: readonly Window[],
  config: SweepConfig,
  results: LoglikelihoodResult[][],
): Promise<void> {
  const order = [...indices].sort(
    (a, b) => windows[b].input.length - windows[a].input.length || a - b,
  );
  const padId = BigInt(padIdOf(model.manifest));
  const vocab = model.manifest.architecture.vocab_size;
  for (let start = 0; start < order.length; start += config.batchSize) {
    const rows = order.slice(start, start + config.batchSize).map((i) => windows[i]);
    const batch = rows.length;
    const longest = Math.max(...rows.map((w) => w.input.length));
    // Left padding, masked; positions count from each row's first real token.
    const inputIds = new BigInt64Array(batch * longest).fill(padId);
    const mask = new BigInt64Array(batch * longest);
    const positions = new BigInt64Array(batch * longest);
    rows.forEach((w, b) => {
      const pad = longest - w.input.length;
      w.input.forEach((id, k) => {
        inputIds[b * longest + pad + k] = BigInt(id);
        mask[b * longest + pad + k] = 1n;
        positions[b * longest + pad + k] = BigInt(k);
      });
    });
    const keep = Math.max(...rows.map((w) => w.target.length));
    const sweep = await model.prefillSweep(
      { batch, inputIds, attentionMask: mask, positionIds: positions },
      config.recurrences,
      config.kv,
      keep,
      assertFinite,
    );
    for (const [n, run] of sweep.runs.entries()) {
      model.releaseCache(run.cache);
      const data = run.logits.data as Float32Array;
      rows.forEach((w, b) => {
        const m = w.target.length;
        const at = (j: number) => rowOf(data, (b * keep + keep - m + j) * vocab, vocab);
        results[n][order[start + b]] = { ...sumTargets(w.target, at), ...countsOf(w) };
      });
    }
    sweep.release();
  }
}

/** One prefill of `contextIds` (every r), then every continuation of the group on each r's cache. */
async function scoreSharedContext(
  model: RecurrentModel,
  contextIds: readonly number[],
  group: readonly number[],
  windows: readonly Window[],
  config: SweepConfig,
  results: LoglikelihoodResult[][],
): Promise<void> {
  const vocab = model.manifest.architecture.vocab_size;
  const n = contextIds.length;
  const sweep = await model.prefillSweep(
    {
      batch: 1,
      inputIds: BigInt64Array.from(contextIds.map(BigInt)),
      attentionMask: new BigInt64Array(n).fill(1n),
      positionIds: BigInt64Array.from(contextIds.map((_, k) => BigInt(k))),
    },
    config.recurrences,
    config.kv,
    1,
    assertFinite,
  );
  // Row j of a continuation's logits predicts target token j + 1; token 0 comes from the prefill.
  const firsts = sweep.runs.map((run) => (run.logits.data as Float32Array).slice(0, vocab));
  const rests = sweep.runs.map(() => new Map<number, (j: number) => Float32Array>());
  const followers = group.filter((i) => windows[i].target.length > 1);
  const caches = sweep.runs.map((run) => run.cache);
  for (let start = 0; start < followers.length; start += config.batchSize) {
    const chunk = followers.slice(start, start + config.batchSize);
    // `full` caches: a continuation's iteration i reads only iteration i's cache, the same for
    // every r >= i, so the continuations are one more sweep step (on CPU copies of the caches).
    const expanded =
      config.kv === "full" && caches.length > 1 ? model.expandSweep(caches, chunk.length) : null;
    if (expanded) {
      const { inputs, seg } = continuationInputs(model, n, chunk, windows);
      const logits = await model.stepSweep(inputs, config.recurrences, expanded, seg, assertFinite);
      for (const [k, tensor] of logits.entries()) readRows(tensor, chunk, seg, vocab, rests[k]);
      for (const cache of expanded) model.releaseCache(cache);
      continue;
    }
    for (const [k, run] of sweep.runs.entries()) {
      await runContinuations(model, run.cache, n, chunk, windows, run.recurrences, rests[k]);
    }
  }
  for (const [k, run] of sweep.runs.entries()) {
    model.releaseCache(run.cache);
    for (const i of group) {
      const w = windows[i];
      const at = (j: number) => (j === 0 ? firsts[k] : rests[k].get(i)!(j - 1));
      results[k][i] = { ...sumTargets(w.target, at), ...countsOf(w) };
    }
  }
  sweep.release();
}

/**
 * The continuations (all but their last token) after a prefilled context of n tokens: one call
 * on a batch copy of the cache when it is on the CPU, else one call per continuation on a fork.
 */
async function runContinuations(
  model: RecurrentModel,
  cache: KvCache,
  n: number,
  chunk: readonly number[],
  windows: readonly Window[],
  recurrences: number,
  rows: Map<number, (j: number) => Float32Array>,
): Promise<void> {
  const vocab = model.manifest.architecture.vocab_size;
  const run = async (indices: readonly number[], on: KvCache) => {
    const { inputs, seg } = continuationInputs(model, n, indices, windows);
    const logits = await model.step(inputs, recurrences, on, seg, assertFinite);
    readRows(logits, indices, seg, vocab, rows);
  };
  const expanded = model.expandCache(cache, chunk.length);
  if (expanded) {
    await run(chunk, expanded);
    model.releaseCache(expanded);
    return;
  }
  for (const i of chunk) {
    const fork = cache.fork();
    await run([i], fork);
    model.releaseCache(fork);
  }
}

/** The model inputs of continuations (all but their last token) after a context of n tokens. */
function continuationInputs(
  model: RecurrentModel,
  n: number,
  indices: readonly number[],
  windows: readonly Window[],
): { inputs: StepInputs; seg: number } {
  const padId = BigInt(padIdOf(model.manifest));
  const batch = indices.length;
  const seg = Math.max(...indices.map((i) => windows[i].target.length - 1));
  // Right padding inside the new segment: real tokens never attend to the pads after them.
  const inputIds = new BigInt64Array(batch * seg).fill(padId);
  const mask = new BigInt64Array(batch * (n + seg));
  const positions = new BigInt64Array(batch * seg);
  indices.forEach((i, b) => {
    const tokens = windows[i].target.slice(0, -1);
    mask.fill(1n, b * (n + seg), b * (n + seg) + n + tokens.length);
    for (let q = 0; q < seg; q++) {
      inputIds[b * seg + q] = q < tokens.length ? BigInt(tokens[q]) : padId;
      positions[b * seg + q] = BigInt(n + q);
    }
  });
  return { inputs: { batch, inputIds, attentionMask: mask, positionIds: positions }, seg };
}

/** Each continuation's logit rows, by pair index. */
function readRows(
  logits: Ort.Tensor,
  indices: readonly number[],
  seg: number,
  vocab: number,
  rows: Map<number, (j: number) => Float32Array>,
): void {
  const data = logits.data as Float32Array;
  for (const [b, i] of indices.entries()) {
    rows.set(i, (j) => rowOf(data, (b * seg + j) * vocab, vocab));
  }
}

function rowOf(data: Float32Array, offset: number, vocab: number): Float32Array {
  return data.subarray(offset, offset + vocab);
}

/** Σ log_softmax(row_j)[target_j] in double precision, and whether every target is the argmax. */
function sumTargets(
  target: readonly number[],
  rowAt: (j: number) => Float32Array,
): Pick<LoglikelihoodResult, "logprob" | "isGreedy"> {
  let logprob = 0;
  let isGreedy = true;
  target.forEach((token, j) => {
    const row = rowAt(j);
    let best = 0;
    for (let v = 1; v < row.length; v++) if (row[v] > row[best]) best = v;
    let sum = 0;
    for (let v = 0; v < row.length; v++) sum += Math.exp(row[v] - row[best]);
    logprob += row[token] - row[best] - Math.log(sum);
    if (best !== token) isGreedy = false;
  });
  return { logprob, isGreedy };
}

function countsOf(
  w: Window,
): Pick<LoglikelihoodResult, "inputTokens" | "continuationTokens" | "truncated"> {
  return {
    inputTokens: w.input.length,
    continuationTokens: w.target.length,
    truncated: w.truncated,
  };
}

function padIdOf(manifest: Manifest): number {
  return manifest.tokens.pad_token_id ?? manifest.tokens.eos_token_ids[0] ?? 0;
}
