// Loglikelihood requests as lm-eval's HF model scores them: (context, continuation) → the summed
// log-probability of the continuation's tokens and whether each is the greedy (argmax) token.
// Encoding follows `_encode_pair`; inputs are `(context + continuation)[-(max_length + 1):][:-1]`.
// Batches run longest first. With context reuse, pairs whose windows hold the same tokens before
// their continuation share one prefill of them (a batch of documents' contexts per call); their
// continuations then run on forks of that cache.

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
  /** Rows per model call (pairs, shared contexts, or one continuation of each shared context). */
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
  /** The input's tokens before the first target token: what a shared prefill computes. */
  context: number[];
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
  return {
    input: kept.slice(0, -1),
    target,
    context: kept.slice(0, kept.length - target.length),
    truncated: kept.length < whole.length,
  };
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
    if (!config.reuseContext) {
      alone.push(i);
      continue;
    }
    // Left-truncated windows too: continuations of equal length keep the same context tokens.
    const key = window.context.join(",");
    shared.set(key, [...(shared.get(key) ?? []), i]);
  }
  const groups: number[][] = [];
  for (const group of shared.values()) {
    if (group.length === 1) alone.push(group[0]);
    else groups.push(group);
  }
  const sweep = { ...config, recurrences };
  await scoreSharedContexts(model, groups, windows, sweep, results);
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
  const lengths = order.map((i) => windows[i].input.length);
  for (let start = 0, end = 0; start < order.length; start = end) {
    end = start + paddedBatchSize(lengths.slice(start, start + config.batchSize));
    const rows = order.slice(start, end).map((i) => windows[i]);
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

/**
 * Documents' shared contexts, `batchSize` contexts per prefill (longest first, as lm-eval sorts,
 * so a batch pads little), then their continuations on forks of that prefilled cache.
 */
async function scoreSharedContexts(
  model: RecurrentModel,
  groups: readonly number[][],
  windows: readonly Window[],
  config: SweepConfig,
  results: LoglikelihoodResult[][],
): Promise<void> {
  const contextOf = (group: readonly number[]) => windows[group[0]].context;
  // Tokens a group's longest continuation feeds after its context (all but its last token).
  const segmentOf = (group: readonly number[]) =>
    Math.max(...group.map((i) => windows[i].target.length - 1));
  const order = [...groups].sort(
    (a, b) => contextOf(b).length - contextOf(a).length || a[0] - b[0],
  );
  // A batch's cache is as long as its longest context, and every continuation comes after it:
  // both must fit the model's positions together, as each group alone does.
  const maxLength = model.manifest.architecture.max_position_embeddings;
  let batch: number[][] = [];
  let longest = 0;
  let segment = 0;
  const flush = async () => {
    if (batch.length) await scoreContextBatch(model, batch, windows, config, results);
    batch = [];
  };
  for (const group of order) {
    const length = contextOf(group).length;
    const fits =
      Math.max(longest, length) + Math.max(segment, segmentOf(group)) <= maxLength &&
      withinPadding([...batch.map((g) => contextOf(g).length), length]);
    if (batch.length === config.batchSize || !fits) await flush();
    if (batch.length === 0) [longest, segment] = [0, 0];
    batch.push(group);
    longest = Math.max(longest, length);
    segment = Math.max(segment, segmentOf(group));
  }
  await flush();
}

/**
 * One prefill (every r) of a batch of contexts, left padded, masked, positions from each row's
 * first real token; then the continuations in rounds: round j runs every group's j-th continuation
 * (all but its last token) as one batch on forks of each r's prefilled cache; a group with fewer
 * continuations runs a masked pad row. Forks read the prefilled tensors wherever they live.
 */
async function scoreContextBatch(
  model: RecurrentModel,
  groups: readonly (readonly number[])[],
  windows: readonly Window[],
  config: SweepConfig,
  results: LoglikelihoodResult[][],
): Promise<void> {
  const vocab = model.manifest.architecture.vocab_size;
  const padId = BigInt(padIdOf(model.manifest));
  const contexts = groups.map((group) => windows[group[0]].context);
  const batch = contexts.length;
  const longest = Math.max(...contexts.map((ids) => ids.length));
  const inputIds = new BigInt64Array(batch * longest).fill(padId);
  const contextMask = new BigInt64Array(batch * longest);
  const positions = new BigInt64Array(batch * longest);
  contexts.forEach((ids, b) => {
    const pad = longest - ids.length;
    ids.forEach((id, k) => {
      inputIds[b * longest + pad + k] = BigInt(id);
      contextMask[b * longest + pad + k] = 1n;
      positions[b * longest + pad + k] = BigInt(k);
    });
  });
  const sweep = await model.prefillSweep(
    { batch, inputIds, attentionMask: contextMask, positionIds: positions },
    config.recurrences,
    config.kv,
    1,
    assertFinite,
  );
  // Row b of a prefill's logits predicts the first token of each of group b's continuations.
  const firsts = sweep.runs.map((run) => (run.logits.data as Float32Array).slice());
  // Row j of a continuation's logits predicts target token j + 1.
  const rests = sweep.runs.map(() => new Map<number, (j: number) => Float32Array>());
  const followers = groups.map((group) => group.filter((i) => windows[i].target.length > 1));
  const rounds = Math.max(...followers.map((f) => f.length));
  for (let round = 0; round < rounds; round++) {
    const rows = followers.map((f) => f[round] ?? null);
    const tokens = rows.map((i) => (i === null ? [] : windows[i].target.slice(0, -1)));
    const seg = Math.max(...tokens.map((t) => t.length));
    const segIds = new BigInt64Array(batch * seg).fill(padId);
    const mask = new BigInt64Array(batch * (longest + seg));
    const segPositions = new BigInt64Array(batch * seg);
    tokens.forEach((row, b) => {
      mask.set(contextMask.subarray(b * longest, (b + 1) * longest), b * (longest + seg));
      // Right padding inside the new segment: real tokens never attend to the pads after them.
      mask.fill(1n, b * (longest + seg) + longest, b * (longest + seg) + longest + row.length);
      for (let q = 0; q < seg; q++) {
        if (q < row.length) segIds[b * seg + q] = BigInt(row[q]);
        segPositions[b * seg + q] = BigInt(contexts[b].length + q);
      }
    });
    const inputs = { batch, inputIds: segIds, attentionMask: mask, positionIds: segPositions };
    const forks = sweep.runs.map((run) => run.cache.fork());
    // `full` caches: a continuation's iteration i reads only iteration i's cache, the same for
    // every r >= i, so the round is one more sweep step for all r.
    const logits =
      config.kv === "full"
        ? await model.stepSweep(inputs, config.recurrences, forks, seg, assertFinite)
        : await stepEach(model, inputs, sweep.runs, forks, seg);
    for (const fork of forks) model.releaseCache(fork);
    for (const [k, tensor] of logits.entries()) {
      const data = tensor.data as Float32Array;
      rows.forEach((i, b) => {
        if (i !== null) rests[k].set(i, (j) => rowOf(data, (b * seg + j) * vocab, vocab));
      });
    }
  }
  for (const [k, run] of sweep.runs.entries()) {
    model.releaseCache(run.cache);
    groups.forEach((group, b) => {
      for (const i of group) {
        const w = windows[i];
        const at = (j: number) =>
          j === 0 ? rowOf(firsts[k], b * vocab, vocab) : rests[k].get(i)!(j - 1);
        results[k][i] = { ...sumTargets(w.target, at), ...countsOf(w) };
      }
    });
  }
  sweep.release();
}

/**
 * Padding a batch may add, as a share of its real tokens. On CPU backends a padded position costs
 * what a real one does, so a batch of very unequal prompts stops at the first that would pass it.
 */
const MAX_PADDING = 0.25;

/** Whether rows of these lengths (longest first) batch within MAX_PADDING. */
function withinPadding(lengths: readonly number[]): boolean {
  const real = lengths.reduce((sum, n) => sum + n, 0);
  return lengths.length * Math.max(...lengths) <= (1 + MAX_PADDING) * real;
}

/** How many of `lengths` (longest first, at most a batch) go in the next batch. */
function paddedBatchSize(lengths: readonly number[]): number {
  let n = 1;
  while (n < lengths.length && withinPadding(lengths.slice(0, n + 1))) n++;
  return n;
}

/** One step per r, each on its own fork (`shared` caches differ between the r's). */
async function stepEach(
  model: RecurrentModel,
  inputs: StepInputs,
  runs: readonly { recurrences: number }[],
  forks: readonly KvCache[],
  seg: number,
): Promise<Ort.Tensor[]> {
  const out: Ort.Tensor[] = [];
  for (const [k, run] of runs.entries())
    out.push(await model.step(inputs, run.recurrences, forks[k], seg, assertFinite));
  return out;
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
