// The reference forward of DESIGN §4 in plain TypeScript: no ONNX, no KV cache, the whole sequence
// recomputed. Slow on purpose and simple to audit; every backend is tested against it. Norm
// placement, q/k norms and biases follow the raven flavours of shared/RAVEN-FORMATS.md §3-4.
import type { LayerWeights, ModelDims, RecurrentWeights } from "./weights.ts";

export interface ReferenceOptions {
  recurrences: number;
  /** s_0 as [t, h]; zeros when absent. */
  initialState?: Float32Array;
  /**
   * 1 for real tokens, 0 for left padding (length t). Padding is never attended to and real tokens
   * are numbered from 0, as transformers' generate does; logits at padded positions mean nothing.
   */
  attentionMask?: readonly number[];
  /**
   * Quantize the input of every linear layer to int8 per row (per token, symmetric: scale =
   * max |x_row| / 127) before the product: the i8 graphs' arithmetic, given their dequantized
   * weights (model/graphs.md, "int8 graphs").
   */
  int8Activations?: boolean;
}

/** Logits [t, vocab] for every position of `ids`. */
export function referenceLogits(
  weights: RecurrentWeights,
  ids: readonly number[],
  options: ReferenceOptions,
): Float32Array {
  const { dims } = weights;
  const t = ids.length;
  const h = dims.hiddenSize;
  const mask = options.attentionMask ?? new Array<number>(t).fill(1);
  if (mask.length !== t) {
    throw new RangeError(`attentionMask has ${mask.length} entries for ${t} tokens`);
  }
  const rope = ropeTables(dims, positionIds(mask));
  const linear = options.int8Activations ? int8ActivationLinear : floatLinear;
  const attend: AttentionContext = { rope, mask, linear };

  let x: Float32Array = new Float32Array(t * h);
  for (let p = 0; p < t; p++) {
    const row = weights.embed.subarray(ids[p] * h, (ids[p] + 1) * h);
    for (let j = 0; j < h; j++) x[p * h + j] = row[j] * dims.embedScale;
  }
  for (const layer of weights.prelude) x = decoderLayer(layer, x, t, dims, attend);

  if (weights.block.length > 0) {
    const e = x;
    let state: Float32Array = options.initialState
      ? options.initialState.slice()
      : new Float32Array(t * h);
    for (let i = 0; i < options.recurrences; i++) {
      let y = linear(concatState(state, e, t, h), t, 2 * h, weights.adapter!, h);
      for (const layer of weights.block) y = decoderLayer(layer, y, t, dims, attend);
      state = y;
    }
    x = state;
  }

  if (weights.finalNormBeforeCoda) x = rmsNorm(x, t, h, weights.finalNorm, dims.rmsNormEps);
  for (const layer of weights.coda) x = decoderLayer(layer, x, t, dims, attend);
  const normed = rmsNorm(x, t, h, weights.finalNorm, dims.rmsNormEps);
  return linear(normed, t, h, weights.head, dims.vocabSize);
}

/** s_0 grows with the sequence, so greedy decoding always starts the state at zeros. */
export interface GreedyOptions extends Omit<ReferenceOptions, "initialState"> {
  maxNewTokens: number;
  stopIds: readonly number[];
}

/** Greedy continuation of `promptIds` (new tokens only; a stop id ends it and is included). */
export function referenceGreedy(
  weights: RecurrentWeights,
  promptIds: readonly number[],
  options: GreedyOptions,
): number[] {
  const ids = [...promptIds];
  const mask = options.attentionMask ? [...options.attentionMask] : undefined;
  const generated: number[] = [];
  const vocab = weights.dims.vocabSize;
  for (let step = 0; step < options.maxNewTokens; step++) {
    const logits = referenceLogits(weights, ids, {
      recurrences: options.recurrences,
      attentionMask: mask,
    });
    const next = argmax(logits.subarray((ids.length - 1) * vocab, ids.length * vocab));
    generated.push(next);
    ids.push(next);
    mask?.push(1);
    if (options.stopIds.includes(next)) break;
  }
  return generated;
}

/** Index of the largest value; the lowest index wins ties, as torch.argmax does. */
export function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/**
 * RoPE inverse frequencies per pair, including `rope_scaling` type llama3 computed as transformers'
 * `_compute_llama3_parameters` does. The ONNX exporter builds its cos/sin tables from this too.
 */
export function rotaryInverseFrequencies(dims: ModelDims): Float64Array {
  const half = dims.headDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / dims.ropeTheta ** ((2 * i) / dims.headDim);
  const scaling = dims.ropeScaling;
  if (!scaling) return inv;
  const lowWavelen = scaling.originalMaxPositionEmbeddings / scaling.lowFreqFactor;
  const highWavelen = scaling.originalMaxPositionEmbeddings / scaling.highFreqFactor;
  for (let i = 0; i < half; i++) {
    const wavelen = (2 * Math.PI) / inv[i];
    if (wavelen > lowWavelen) {
      inv[i] = inv[i] / scaling.factor;
    } else if (wavelen >= highWavelen) {
      const smooth =
        (scaling.originalMaxPositionEmbeddings / wavelen - scaling.lowFreqFactor) /
        (scaling.highFreqFactor - scaling.lowFreqFactor);
      inv[i] = (1 - smooth) * (inv[i] / scaling.factor) + smooth * inv[i];
    }
  }
  return inv;
}

export interface RopeTables {
  cos: Float32Array; // [t, half]
  sin: Float32Array;
}

interface AttentionContext {
  rope: RopeTables;
  mask: readonly number[];
  /** The product every linear layer computes (float, or with int8-quantized inputs). */
  linear: Linear;
}

/** cumsum(mask) - 1, padding at 0: the position_ids transformers' generate builds. */
function positionIds(mask: readonly number[]): number[] {
  let seen = 0;
  return mask.map((m) => (m ? seen++ : 0));
}

/** cos/sin [positions, headDim/2] of every rotation angle; the ONNX export builds its tables here too. */
export function ropeTables(dims: ModelDims, positions: readonly number[]): RopeTables {
  const inv = rotaryInverseFrequencies(dims);
  const half = inv.length;
  const t = positions.length;
  const cos = new Float32Array(t * half);
  const sin = new Float32Array(t * half);
  for (let p = 0; p < t; p++) {
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(positions[p] * Math.fround(inv[i]));
      cos[p * half + i] = Math.cos(angle);
      sin[p * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

function decoderLayer(
  layer: LayerWeights,
  x: Float32Array,
  t: number,
  dims: ModelDims,
  context: AttentionContext,
): Float32Array {
  const h = dims.hiddenSize;
  const { linear } = context;
  const norm = (v: Float32Array, w: Float32Array) => rmsNorm(v, t, h, w, dims.rmsNormEps);
  const mlp = (v: Float32Array) => {
    const gate = linear(v, t, h, layer.gate, dims.intermediateSize);
    const up = linear(v, t, h, layer.up, dims.intermediateSize);
    for (let i = 0; i < gate.length; i++) gate[i] = (gate[i] / (1 + Math.exp(-gate[i]))) * up[i];
    return linear(gate, t, dims.intermediateSize, layer.down, h);
  };
  const attn = (v: Float32Array) => attention(layer, v, t, dims, context);
  switch (dims.normPlacement) {
    case "pre": {
      const afterAttn = add(x, attn(norm(x, layer.inputNorm)));
      return add(afterAttn, mlp(norm(afterAttn, layer.postNorm)));
    }
    case "post": {
      const afterAttn = add(x, norm(attn(x), layer.inputNorm));
      return add(afterAttn, norm(mlp(afterAttn), layer.postNorm));
    }
    case "sandwich": {
      const afterAttn = norm(add(x, attn(norm(x, layer.inputNorm))), layer.postNorm);
      const mlpOut = mlp(norm(afterAttn, layer.mlpInputNorm!));
      return norm(add(afterAttn, mlpOut), layer.mlpOutputNorm!);
    }
  }
}

function attention(
  layer: LayerWeights,
  x: Float32Array,
  t: number,
  dims: ModelDims,
  { rope, mask, linear }: AttentionContext,
): Float32Array {
  const { numHeads, numKvHeads, headDim, hiddenSize: h } = dims;
  let q = linear(x, t, h, layer.q, numHeads * headDim);
  let k = linear(x, t, h, layer.k, numKvHeads * headDim);
  const v = linear(x, t, h, layer.v, numKvHeads * headDim);
  // OLMo-2 normalises the whole projection, before the split into heads; Huginn adds a bias.
  if (layer.qNorm) q = rmsNorm(q, t, numHeads * headDim, layer.qNorm, dims.rmsNormEps);
  if (layer.kNorm) k = rmsNorm(k, t, numKvHeads * headDim, layer.kNorm, dims.rmsNormEps);
  if (layer.qBias) addRows(q, layer.qBias);
  if (layer.kBias) addRows(k, layer.kBias);
  applyRope(q, t, numHeads, headDim, rope);
  applyRope(k, t, numKvHeads, headDim, rope);
  const out = new Float32Array(t * numHeads * headDim);
  const scale = 1 / Math.sqrt(headDim);
  const groups = numHeads / numKvHeads;
  const scores = new Float64Array(t);
  for (let head = 0; head < numHeads; head++) {
    const kvHead = Math.floor(head / groups);
    for (let i = 0; i < t; i++) {
      const qOff = (i * numHeads + head) * headDim;
      let max = Number.NEGATIVE_INFINITY;
      for (let j = 0; j <= i; j++) {
        // Padding is invisible; a padded query sees only itself so its row stays finite.
        if (!visible(mask, i, j)) {
          scores[j] = Number.NEGATIVE_INFINITY;
          continue;
        }
        const kOff = (j * numKvHeads + kvHead) * headDim;
        let dot = 0;
        for (let d = 0; d < headDim; d++) dot += q[qOff + d] * k[kOff + d];
        scores[j] = dot * scale;
        if (scores[j] > max) max = scores[j];
      }
      let sum = 0;
      for (let j = 0; j <= i; j++) {
        scores[j] = Math.exp(scores[j] - max);
        sum += scores[j];
      }
      for (let j = 0; j <= i; j++) {
        const weight = scores[j] / sum;
        const vOff = (j * numKvHeads + kvHead) * headDim;
        for (let d = 0; d < headDim; d++) out[qOff + d] += weight * v[vOff + d];
      }
    }
  }
  return linear(out, t, numHeads * headDim, layer.o, h);
}

function visible(mask: readonly number[], query: number, key: number): boolean {
  return mask[query] ? mask[key] !== 0 : key === query;
}

/** HF rotate-half RoPE: the first half of each head turns against the second half. */
function applyRope(
  x: Float32Array,
  t: number,
  heads: number,
  headDim: number,
  rope: RopeTables,
): void {
  const half = headDim / 2;
  for (let p = 0; p < t; p++) {
    for (let head = 0; head < heads; head++) {
      const off = (p * heads + head) * headDim;
      for (let i = 0; i < half; i++) {
        const c = rope.cos[p * half + i];
        const s = rope.sin[p * half + i];
        const a = x[off + i];
        const b = x[off + half + i];
        x[off + i] = a * c - b * s;
        x[off + half + i] = b * c + a * s;
      }
    }
  }
}

function rmsNorm(
  x: Float32Array,
  t: number,
  h: number,
  weight: Float32Array,
  eps: number,
): Float32Array {
  const out = new Float32Array(t * h);
  for (let p = 0; p < t; p++) {
    let sum = 0;
    for (let j = 0; j < h; j++) sum += x[p * h + j] ** 2;
    const scale = 1 / Math.sqrt(sum / h + eps);
    for (let j = 0; j < h; j++) out[p * h + j] = x[p * h + j] * scale * weight[j];
  }
  return out;
}

type Linear = typeof floatLinear;

/** x [t, inDim] times Wᵀ where W is [outDim, inDim] (the Hugging Face layout). */
function floatLinear(
  x: Float32Array,
  t: number,
  inDim: number,
  w: Float32Array,
  outDim: number,
): Float32Array {
  const out = new Float32Array(t * outDim);
  for (let p = 0; p < t; p++) {
    const xOff = p * inDim;
    for (let o = 0; o < outDim; o++) {
      const wOff = o * inDim;
      let sum = 0;
      for (let i = 0; i < inDim; i++) sum += x[xOff + i] * w[wOff + i];
      out[p * outDim + o] = sum;
    }
  }
  return out;
}

/**
 * floatLinear of x quantized and dequantized per row (per token), symmetric int8: scale =
 * max |x_row| · fround(1/127) in float32 (a zero row stays zero), q = round(x / scale) half to even, so
 * −127..127; x ≈ q · scale. No row's codes depend on another row.
 */
function int8ActivationLinear(
  x: Float32Array,
  t: number,
  inDim: number,
  w: Float32Array,
  outDim: number,
): Float32Array {
  const dequantized = new Float32Array(x.length);
  for (let p = 0; p < t; p++) {
    let max = 0;
    for (let i = 0; i < inDim; i++) max = Math.max(max, Math.abs(x[p * inDim + i]));
    if (max === 0) continue;
    const scale = Math.fround(max * Math.fround(1 / 127));
    for (let i = 0; i < inDim; i++) {
      dequantized[p * inDim + i] = roundHalfEven(Math.fround(x[p * inDim + i] / scale)) * scale;
    }
  }
  return floatLinear(dequantized, t, inDim, w, outDim);
}

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function concatState(state: Float32Array, e: Float32Array, t: number, h: number): Float32Array {
  const out = new Float32Array(t * 2 * h);
  for (let p = 0; p < t; p++) {
    out.set(state.subarray(p * h, (p + 1) * h), p * 2 * h);
    out.set(e.subarray(p * h, (p + 1) * h), p * 2 * h + h);
  }
  return out;
}

/** x [t, n] += bias [n] on every row, in place. */
function addRows(x: Float32Array, bias: Float32Array): void {
  for (let i = 0; i < x.length; i++) x[i] += bias[i % bias.length];
}

function add(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] + b[i];
  return out;
}
