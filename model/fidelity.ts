// The fidelity gate of a lossy export (fp16, q8, q4): how far its next-token distributions are
// from the fp32 graphs of the same weights. Teacher-forced, so one early disagreement does not
// send the two models down different texts: each prompt is continued greedily by the fp32 model,
// and both models then score that same continuation in one prefill.
import type { KvCache, RecurrentModel } from "../runner/engine/recurrent-model.ts";
import type { Fidelity } from "./manifest.ts";

export interface FidelityOptions {
  /** Tokens of the fp32 greedy continuation scored per prompt. */
  tokens: number;
  recurrences: number[];
  /** Where the prompts came from, recorded as is (e.g. `gsm8k test[0:32]`). */
  promptSource: string;
  /** Whose arithmetic `lossy` is (Fidelity.computed_on); default `onnxruntime-node`. */
  computedOn?: string;
}

export const DEFAULT_FIDELITY_PROMPTS = 32;
export const DEFAULT_FIDELITY_TOKENS = 64;
export const FIDELITY_RECURRENCES = [1, 4, 32];

/**
 * Compares `lossy` with `reference` (the fp32 graphs) on each prompt's fp32 greedy continuation,
 * at every recurrence: top-1 agreement, and mean and max KL(fp32 ‖ lossy) over the scored
 * positions. The initial state is zeros for both, so the comparison has no sampling noise.
 */
export async function measureFidelity(
  reference: RecurrentModel,
  lossy: RecurrentModel,
  prompts: readonly (readonly number[])[],
  options: FidelityOptions,
): Promise<Fidelity> {
  const vocab = reference.manifest.architecture.vocab_size;
  // Leave room for the continuation within the positions the model supports (keep the prompt's end).
  const room = reference.manifest.architecture.max_position_embeddings - options.tokens;
  const clipped = prompts.map((p) => p.slice(Math.max(0, p.length - room)));
  const perRecurrence: Fidelity["per_recurrence"] = [];
  for (const r of options.recurrences) {
    let agree = 0;
    let positions = 0;
    let klSum = 0;
    let klMax = 0;
    for (const prompt of clipped) {
      const continuation = await greedyContinuation(reference, prompt, r, options.tokens);
      const sequence = [...prompt, ...continuation];
      const a = await allLogits(reference, sequence, r);
      const b = await allLogits(lossy, sequence, r);
      // The logits at position p predict token p + 1: score the predictions of the continuation.
      for (let p = prompt.length - 1; p < sequence.length - 1; p++) {
        const ref = a.subarray(p * vocab, (p + 1) * vocab);
        const got = b.subarray(p * vocab, (p + 1) * vocab);
        if (argmax(ref) === argmax(got)) agree++;
        const kl = klDivergence(ref, got);
        klSum += kl;
        klMax = Math.max(klMax, kl);
        positions++;
      }
    }
    perRecurrence.push({
      recurrences: r,
      top1_agreement: positions ? agree / positions : 1,
      mean_kl: positions ? klSum / positions : 0,
      max_kl: klMax,
    });
  }
  return {
    reference: "fp32",
    prompts: options.promptSource,
    prompt_count: prompts.length,
    continuation_tokens: options.tokens,
    computed_on: options.computedOn ?? "onnxruntime-node",
    per_recurrence: perRecurrence,
  };
}

/** KL(p ‖ q) in nats between the softmaxes of two logit rows, in double precision. */
export function klDivergence(p: Float32Array, q: Float32Array): number {
  const logP = logSoftmax(p);
  const logQ = logSoftmax(q);
  let kl = 0;
  for (let i = 0; i < p.length; i++) kl += Math.exp(logP[i]) * (logP[i] - logQ[i]);
  return Math.max(0, kl);
}

function logSoftmax(x: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of x) max = Math.max(max, v);
  let sum = 0;
  for (const v of x) sum += Math.exp(v - max);
  const logZ = max + Math.log(sum);
  return Float64Array.from(x, (v) => v - logZ);
}

function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

async function greedyContinuation(
  model: RecurrentModel,
  prompt: readonly number[],
  recurrences: number,
  tokens: number,
): Promise<number[]> {
  const cache = model.newCache(1, "full", recurrences);
  const out: number[] = [];
  let logits = await run(model, prompt, 0, recurrences, cache, 1);
  for (let i = 0; i < tokens; i++) {
    const next = argmax(logits);
    out.push(next);
    if (i + 1 < tokens) logits = await run(model, [next], prompt.length + i, recurrences, cache, 1);
  }
  return out;
}

async function allLogits(
  model: RecurrentModel,
  ids: readonly number[],
  recurrences: number,
): Promise<Float32Array> {
  return run(model, ids, 0, recurrences, model.newCache(1, "full", recurrences), 0);
}

async function run(
  model: RecurrentModel,
  ids: readonly number[],
  past: number,
  recurrences: number,
  cache: KvCache,
  keep: number,
): Promise<Float32Array> {
  const logits = await model.step(
    {
      batch: 1,
      inputIds: BigInt64Array.from(ids.map(BigInt)),
      attentionMask: new BigInt64Array(past + ids.length).fill(1n),
      positionIds: BigInt64Array.from(ids.map((_, i) => BigInt(past + i))),
    },
    recurrences,
    cache,
    keep,
  );
  return logits.data as Float32Array;
}
