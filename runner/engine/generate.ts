// Greedy generation over a RecurrentModel: left-padded batches whose rows never see each other,
// stop ids and lm-eval-style stop strings, per-request seeds for the initial state.

import { adapterStd } from "../../model/init-scale.ts";
import type { Manifest } from "../../model/manifest.ts";
import { SeededRandom } from "../../model/rng.ts";
import {
  ContextWindowExceededError,
  GenerationRequestError,
  NonFiniteValueError,
} from "./errors.ts";
import type { KvStrategy, RecurrentModel, SweepRun } from "./recurrent-model.ts";

export const MAX_RECURRENCES = 256;

export type StateInit = "zeros" | "normal";

export interface GenerationConfig {
  recurrences: number;
  maxNewTokens: number;
  kv: KvStrategy;
  stateInit: StateInit;
  /** Token ids that end a row (included in `ids`, removed from `text`). */
  stopIds: readonly number[];
  /** Text that ends a row; the text is cut before the first one (lm-eval's `until`). */
  stopStrings: readonly string[];
  /**
   * Whether finished rows leave the batch (default true; CPU caches, and WebGPU caches where the
   * page copies its buffers). The tokens are the same either way; false keeps every row running
   * until the last one stops.
   */
  dropFinished?: boolean;
  /** Also return the five largest logits of every decode step (`GenerationResult.stepTop5`). */
  stepTop5?: boolean;
}

export interface GenerationRequest {
  promptIds: readonly number[];
  /** Seed of this request's initial-state stream (only used with stateInit "normal"). */
  seed: number;
}

export interface GenerationResult {
  ids: number[];
  text: string;
  /** The five largest logits at the last prompt position, [id, logit]. */
  top5: [number, number][];
  /**
   * With `stepTop5`: the five largest logits after each decode step, [id, logit] (entry k chose
   * ids[k + 1]), to compare backends and cache layouts step by step.
   */
  stepTop5?: [number, number][][];
  stopReason: "stop_id" | "stop_string" | "max_new_tokens";
}

export type Decode = (ids: readonly number[]) => string;

/** Checks a request before any graph runs; throws a named error saying what to change. */
export function validateGeneration(
  manifest: Pick<Manifest, "architecture">,
  config: GenerationConfig,
  requests: readonly GenerationRequest[],
): void {
  const r = config.recurrences;
  if (!Number.isInteger(r) || r < 1 || r > MAX_RECURRENCES) {
    throw new GenerationRequestError(
      `recurrences ${r} must be an integer from 1 to ${MAX_RECURRENCES}`,
    );
  }
  if (!Number.isInteger(config.maxNewTokens) || config.maxNewTokens < 1) {
    throw new GenerationRequestError(
      `max new tokens ${config.maxNewTokens} must be a positive integer`,
    );
  }
  const positions = manifest.architecture.max_position_embeddings;
  requests.forEach((request, i) => {
    if (request.promptIds.length === 0) {
      throw new GenerationRequestError(`prompt ${i} is empty; give at least one token of text`);
    }
    const needed = request.promptIds.length + config.maxNewTokens;
    if (needed > positions) {
      throw new ContextWindowExceededError(
        `prompt ${i} has ${request.promptIds.length} tokens; with ${config.maxNewTokens} new tokens it needs ` +
          `${needed} positions but the model has ${positions}; shorten the prompt or lower --max-new-tokens`,
      );
    }
  });
}

/** Greedy decoding of a batch; results are in request order. */
export async function generateBatch(
  model: RecurrentModel,
  requests: readonly GenerationRequest[],
  config: GenerationConfig,
  decode: Decode,
): Promise<GenerationResult[]> {
  const [only] = await generateSweep(model, requests, config, [config.recurrences], decode);
  return only.results;
}

/** One r of a sweep: its results in request order and its share of the wall time. */
export interface SweepGeneration {
  recurrences: number;
  results: GenerationResult[];
  /** This r's decoding plus an equal share of the prefill it shared with the others. */
  ms: number;
}

/**
 * Greedy decoding of one batch at every r of `recurrences` (ascending, distinct). The prefill is
 * computed once at the largest r and read after each smaller r's last iteration
 * (RecurrentModel.prefillSweep); each r then decodes on its own cache with its own copy of every
 * request's s_0 stream. Each r's results are those of generateBatch at that r alone.
 */
export async function generateSweep(
  model: RecurrentModel,
  requests: readonly GenerationRequest[],
  config: Omit<GenerationConfig, "recurrences">,
  recurrences: readonly number[],
  decode: Decode,
): Promise<SweepGeneration[]> {
  for (const r of recurrences)
    validateGeneration(model.manifest, { ...config, recurrences: r }, requests);
  const started = performance.now();
  const batch = requests.length;
  const h = model.hiddenSize;
  const longest = Math.max(...requests.map((r) => r.promptIds.length));
  const padding = requests.map((r) => longest - r.promptIds.length);
  const padId = BigInt(
    model.manifest.tokens.pad_token_id ?? model.manifest.tokens.eos_token_ids[0] ?? 0,
  );
  const stateStd =
    model.manifest.state_init.kind === "trunc_normal"
      ? model.manifest.state_init.std
      : adapterStd(h);
  const streams = requests.map((r) => new SeededRandom(r.seed));
  /** s_0 for `rows` (requests), each drawn from its own stream: the same whatever r reads it. */
  const initialState = (
    rows: readonly number[],
    from: readonly SeededRandom[],
    seq: number,
    real: (b: number, k: number) => boolean,
  ) => {
    if (config.stateInit === "zeros") return undefined;
    const state = new Float32Array(rows.length * seq * h);
    rows.forEach((b, i) => {
      for (let k = 0; k < seq; k++) {
        if (!real(b, k)) continue;
        const row = state.subarray((i * seq + k) * h, (i * seq + k + 1) * h);
        for (let j = 0; j < h; j++) row[j] = from[b].truncatedNormal(stateStd);
      }
    });
    return state;
  };

  // Prefill: left padding, masked, positions counted from each row's first real token.
  const inputIds = new BigInt64Array(batch * longest).fill(padId);
  const mask: number[][] = requests.map((_, b) =>
    Array.from({ length: longest }, (_, k) => (k < padding[b] ? 0 : 1)),
  );
  const positions = new BigInt64Array(batch * longest);
  requests.forEach((request, b) => {
    request.promptIds.forEach((id, k) => {
      inputIds[b * longest + padding[b] + k] = BigInt(id);
      positions[b * longest + padding[b] + k] = BigInt(k);
    });
  });
  const inputs = {
    batch,
    inputIds,
    attentionMask: flatMask(mask),
    positionIds: positions,
    initialState: initialState(
      requests.map((_, b) => b),
      streams,
      longest,
      (b, k) => k >= padding[b],
    ),
  };
  const check = (name: string, data: Float32Array, iteration: number | null) =>
    assertFinite(name, data, iteration);
  const sweep = await model.prefillSweep(inputs, recurrences, config.kv, 1, check);
  const prefills = sweep.runs;
  const prefillMs = (performance.now() - started) / prefills.length;

  const out: SweepGeneration[] = [];
  for (const prefill of prefills) {
    const decodeStarted = performance.now();
    // Each r continues every request's stream from where the shared prefill left it.
    const own = streams.map((stream) => stream.clone());
    const results = await decodeFrom(
      model,
      prefill,
      { ...config, recurrences: prefill.recurrences },
      {
        padding,
        mask: mask.map((row) => [...row]),
        initialState: (rows, seq) => initialState(rows, own, seq, () => true),
      },
      decode,
    );
    out.push({
      recurrences: prefill.recurrences,
      results,
      ms: prefillMs + performance.now() - decodeStarted,
    });
  }
  sweep.release();
  return out;
}

/** Greedy decoding from a prefilled batch until every row stops; frees the cache at the end. */
async function decodeFrom(
  model: RecurrentModel,
  prefill: SweepRun,
  config: GenerationConfig,
  rowState: {
    padding: readonly number[];
    /** Each request's attention mask so far (grown here). */
    mask: number[][];
    initialState: (rows: readonly number[], seq: number) => Float32Array | undefined;
  },
  decode: Decode,
): Promise<GenerationResult[]> {
  const { padding, mask } = rowState;
  const batch = padding.length;
  const vocab = model.manifest.architecture.vocab_size;
  const check = (name: string, data: Float32Array, iteration: number | null) =>
    assertFinite(name, data, iteration);
  let { cache, logits } = prefill;
  // Where the backend can, decode into preallocated buffers that one-token steps write in place
  // (RecurrentModel.reserveDecode reserves up to the longest generation and grows on overrun).
  const roomy = model.reserveDecode(cache, mask[0].length + config.maxNewTokens);
  if (roomy) {
    model.releaseCache(cache);
    cache = roomy;
  }
  // `rows` maps each row of the running batch to its request; finished rows leave it.
  let rows = padding.map((_, b) => b);
  const results: GenerationResult[] = padding.map((_, b) => ({
    ids: [],
    text: "",
    top5: topK(logitsRow(logits.data as Float32Array, b, vocab), 5),
    ...(config.stepTop5 ? { stepTop5: [] } : {}),
    stopReason: "max_new_tokens",
  }));
  const done = new Array(batch).fill(false);
  const stopIds = new Set(config.stopIds);

  for (let step = 0; step < config.maxNewTokens; step++) {
    let next = rows.map((_, i) => argmax(logitsRow(logits.data as Float32Array, i, vocab)));
    rows.forEach((b, i) => {
      if (done[b]) return;
      const result = results[b];
      result.ids.push(next[i]);
      if (stopIds.has(next[i])) {
        result.stopReason = "stop_id";
        done[b] = true;
        return;
      }
      const text = decode(result.ids);
      const cut = firstStop(text, config.stopStrings);
      if (cut !== null) {
        result.stopReason = "stop_string";
        done[b] = true;
      }
    });
    if (done.every(Boolean) || step === config.maxNewTokens - 1) break;
    // Finished rows leave the batch, so later steps cost only the rows still generating.
    const running = rows.flatMap((b, i) => (done[b] ? [] : [i]));
    if (config.dropFinished !== false && running.length < rows.length) {
      const smaller = model.selectRows(cache, running);
      if (smaller) {
        model.releaseCache(cache);
        cache = smaller;
        rows = running.map((i) => rows[i]);
        next = running.map((i) => next[i]);
      }
    }
    for (const b of rows) mask[b].push(1);
    const total = mask[rows[0]].length;
    logits = await model.step(
      {
        batch: rows.length,
        inputIds: BigInt64Array.from(next.map(BigInt)),
        attentionMask: flatMask(rows.map((b) => mask[b])),
        positionIds: BigInt64Array.from(rows.map((b) => BigInt(total - 1 - padding[b]))),
        initialState: rowState.initialState(rows, 1),
      },
      config.recurrences,
      cache,
      1,
      check,
    );
    if (config.stepTop5) {
      for (const [i, b] of rows.entries())
        results[b].stepTop5!.push(topK(logitsRow(logits.data as Float32Array, i, vocab), 5));
    }
  }

  model.releaseCache(cache);
  for (const result of results) {
    const ids = result.stopReason === "stop_id" ? result.ids.slice(0, -1) : result.ids;
    const text = decode(ids);
    const cut = firstStop(text, config.stopStrings);
    result.text = cut === null ? text : text.slice(0, cut);
  }
  return results;
}

function flatMask(mask: number[][]): BigInt64Array {
  return BigInt64Array.from(mask.flat().map(BigInt));
}

function logitsRow(data: Float32Array, row: number, vocab: number): Float32Array {
  return data.subarray(row * vocab, (row + 1) * vocab);
}

/** Index of the largest logit; the lowest index wins ties (torch.argmax). */
export function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

export function topK(values: Float32Array, k: number): [number, number][] {
  const top: [number, number][] = [];
  for (let i = 0; i < values.length; i++) {
    if (top.length < k || values[i] > top[top.length - 1][1]) {
      top.push([i, values[i]]);
      top.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
      if (top.length > k) top.pop();
    }
  }
  return top;
}

/** Position of the earliest stop string in `text`, or null. */
export function firstStop(text: string, stops: readonly string[]): number | null {
  let first: number | null = null;
  for (const stop of stops) {
    if (!stop) continue;
    const at = text.indexOf(stop);
    if (at >= 0 && (first === null || at < first)) first = at;
  }
  return first;
}

export function assertFinite(graph: string, data: Float32Array, iteration: number | null): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      const where = iteration === null ? graph : `${graph} at recurrence ${iteration + 1}`;
      const error = new NonFiniteValueError(
        `${Number.isNaN(data[i]) ? "NaN" : "Inf"} in the output of ${where}; the checkpoint's weights or ` +
          "the adapter scale make the state diverge (try fewer recurrences or check the export)",
      );
      error.graph = graph;
      throw error;
    }
  }
}
