// The test oracle for raven checkpoints: a forward written from shared/RAVEN-FORMATS.md §3-5 alone,
// reading config.json keys and tensors by the names the authors' converters write. It shares no
// code with model/reference.ts, the importer or the exporter: RoPE is computed the way each
// flavour's own code does (Huginn's interleaved complex pairs; HF rotate-half with transformers'
// llama3 scaling for retrofits), Wqkv and mlp.fc are split here, and so on.
//
// `mutation` switches exactly one rule of the spec to a plausible wrong reading, so tests can show
// that each rule is observable: if our export agreed with a mutated oracle, the rule would be
// untested.

export type RavenFlavourName = "retrofit-llama" | "retrofit-olmo2" | "huginn";

export type SpecMutation =
  | "theta-from-rope_base"
  | "rope-scaling-ignored"
  | "adapter-e-first"
  | "fc-up-first"
  | "qk-norm-per-head"
  | "norm-placement"
  | "huginn-no-inner-ln_f"
  | "no-qk-bias"
  | "embed-scale"
  | "huginn-rotate-half";

export const SPEC_MUTATIONS: readonly SpecMutation[] = [
  "theta-from-rope_base",
  "rope-scaling-ignored",
  "adapter-e-first",
  "fc-up-first",
  "qk-norm-per-head",
  "norm-placement",
  "huginn-no-inner-ln_f",
  "no-qk-bias",
  "embed-scale",
  "huginn-rotate-half",
];

export interface SpecCheckpoint {
  flavour: RavenFlavourName;
  config: Record<string, unknown>;
  tensors: ReadonlyMap<string, Float32Array>;
}

export interface SpecForwardOptions {
  recurrences: number;
  mutation?: SpecMutation;
}

/** The config.json keys the oracle reads (RAVEN-FORMATS §1.3). */
interface RopeJson {
  rope_base?: number;
  rope_theta?: number;
  rope_scaling?: {
    rope_type?: string;
    type?: string;
    factor: number;
    low_freq_factor: number;
    high_freq_factor: number;
    original_max_position_embeddings: number;
  } | null;
}

interface RavenJson extends RopeJson {
  n_embd: number;
  n_heads: number;
  num_key_value_heads?: number;
  head_dim?: number;
  intermediate_size: number;
  vocab_size: number;
  padded_vocab_size?: number;
  norm_eps: number;
  init_values?: { embed_scale?: number };
  n_layers_in_prelude: number;
  n_layers_in_recurrent_block: number;
  n_layers_in_coda: number;
}

interface Olmo2Json {
  hidden_size: number;
  num_attention_heads: number;
  num_key_value_heads?: number;
  head_dim?: number;
  intermediate_size: number;
  vocab_size: number;
  rms_norm_eps: number;
  rope_theta: number;
  num_hidden_layers: number;
  tie_word_embeddings?: boolean;
}

interface Cfg {
  h: number;
  nh: number;
  nkv: number;
  d: number;
  inter: number;
  vocab: number;
  eps: number;
  flavour: RavenFlavourName;
  mutation: SpecMutation | undefined;
  invFreq: number[];
}

/** Logits [t, padded_vocab] of every position, s₀ = zeros (the authors' deterministic mode). */
export function specRavenLogits(
  ckpt: SpecCheckpoint,
  ids: readonly number[],
  options: SpecForwardOptions,
): Float64Array[] {
  const c = ckpt.config as unknown as RavenJson;
  const mutation = options.mutation;
  const flavour = ckpt.flavour;
  const huginn = flavour === "huginn";
  const h: number = c.n_embd;
  const nh: number = c.n_heads;
  const nkv: number = c.num_key_value_heads ?? nh;
  // §4: huginn and llama retrofits use n_embd // n_heads; OLMo reads head_dim.
  const d: number = flavour === "retrofit-olmo2" ? (c.head_dim ?? h / nh) : h / nh;
  const cfg: Cfg = {
    h,
    nh,
    nkv,
    d,
    inter: c.intermediate_size,
    vocab: c.padded_vocab_size ?? c.vocab_size,
    eps: c.norm_eps,
    flavour,
    mutation,
    invFreq: inverseFrequencies(c, flavour, d, mutation),
  };
  const w = (name: string) => {
    const t = ckpt.tensors.get(name);
    if (!t) throw new Error(`oracle: tensor ${name} missing`);
    return t;
  };

  // §3.1 embedding scale: retrofits init_values.embed_scale (1.0), Huginn sqrt(n_embd).
  let scale = huginn ? Math.sqrt(h) : (c.init_values?.embed_scale ?? 1);
  if (mutation === "embed-scale") scale = huginn ? 1 : Math.sqrt(h);
  const wte = w("transformer.wte.weight");
  let x = ids.map((id) => Array.from(wte.subarray(id * h, (id + 1) * h), (v) => v * scale));

  const layer = (part: string, i: number, input: number[][]) =>
    ravenLayer(cfg, (n) => w(`transformer.${part}.${i}.${n}`), input);
  for (let i = 0; i < c.n_layers_in_prelude; i++) x = layer("prelude", i, x);
  const e = x;
  let state = e.map(() => new Array<number>(h).fill(0));
  const adapter = w("transformer.adapter.weight");
  for (let step = 0; step < options.recurrences; step++) {
    // §3.3: adapter input is [state ; e].
    let y = state.map((s, p) =>
      matvec(adapter, mutation === "adapter-e-first" ? [...e[p], ...s] : [...s, ...e[p]], h),
    );
    for (let i = 0; i < c.n_layers_in_recurrent_block; i++) y = layer("core_block", i, y);
    state = y;
  }
  x = state;
  const lnF = w("transformer.ln_f.weight");
  // §3.3.4: Huginn's iterate_forward returns ln_f(x); retrofits go straight into the coda.
  if (huginn && mutation !== "huginn-no-inner-ln_f") x = x.map((row) => rms(row, lnF, cfg.eps));
  for (let i = 0; i < c.n_layers_in_coda; i++) x = layer("coda", i, x);
  x = x.map((row) => rms(row, lnF, cfg.eps));
  const head = huginn ? wte : w("lm_head.weight");
  return x.map((row) => Float64Array.from(matvec(head, row, cfg.vocab)));
}

/**
 * The source OLMo-2 forward (transformers' Olmo2ForCausalLM, HF tensor names): post-norm on the
 * branch outputs, q_norm/k_norm over whole projections, rotate-half RoPE from rope_theta.
 */
export function specOlmo2Logits(
  json: Record<string, unknown>,
  tensors: ReadonlyMap<string, Float32Array>,
  ids: readonly number[],
): Float64Array[] {
  const config = json as unknown as Olmo2Json;
  const h: number = config.hidden_size;
  const nh: number = config.num_attention_heads;
  const nkv: number = config.num_key_value_heads ?? nh;
  const d: number = config.head_dim ?? h / nh;
  const cfg: Cfg = {
    h,
    nh,
    nkv,
    d,
    inter: config.intermediate_size,
    vocab: config.vocab_size,
    eps: config.rms_norm_eps,
    flavour: "retrofit-olmo2",
    mutation: undefined,
    invFreq: inverseFrequencies({ rope_theta: config.rope_theta }, "retrofit-olmo2", d, undefined),
  };
  const w = (name: string) => {
    const t = tensors.get(name);
    if (!t) throw new Error(`oracle: tensor ${name} missing`);
    return t;
  };
  const wte = w("model.embed_tokens.weight");
  let x = ids.map((id) => Array.from(wte.subarray(id * h, (id + 1) * h)));
  for (let i = 0; i < config.num_hidden_layers; i++) {
    const p = `model.layers.${i}`;
    x = olmo2Layer(cfg, x, {
      q: w(`${p}.self_attn.q_proj.weight`),
      k: w(`${p}.self_attn.k_proj.weight`),
      v: w(`${p}.self_attn.v_proj.weight`),
      o: w(`${p}.self_attn.o_proj.weight`),
      qNorm: w(`${p}.self_attn.q_norm.weight`),
      kNorm: w(`${p}.self_attn.k_norm.weight`),
      attnNorm: w(`${p}.post_attention_layernorm.weight`),
      mlpNorm: w(`${p}.post_feedforward_layernorm.weight`),
      gate: w(`${p}.mlp.gate_proj.weight`),
      up: w(`${p}.mlp.up_proj.weight`),
      down: w(`${p}.mlp.down_proj.weight`),
    });
  }
  x = x.map((row) => rms(row, w("model.norm.weight"), cfg.eps));
  const head = config.tie_word_embeddings ? wte : w("lm_head.weight");
  return x.map((row) => Float64Array.from(matvec(head, row, cfg.vocab)));
}

interface Olmo2LayerWeights {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  o: Float32Array;
  qNorm: Float32Array;
  kNorm: Float32Array;
  attnNorm: Float32Array;
  mlpNorm: Float32Array;
  gate: Float32Array;
  up: Float32Array;
  down: Float32Array;
}

function olmo2Layer(cfg: Cfg, x: number[][], l: Olmo2LayerWeights): number[][] {
  const attn = attention(cfg, x, {
    q: l.q,
    k: l.k,
    v: l.v,
    o: l.o,
    qNorm: l.qNorm,
    kNorm: l.kNorm,
    qBias: null,
    kBias: null,
  });
  const a = x.map((row, p) => add(row, rms(attn[p], l.attnNorm, cfg.eps)));
  return a.map((row) => add(row, rms(mlp(cfg, row, l.gate, l.up, l.down), l.mlpNorm, cfg.eps)));
}

/** One raven layer by its stored names (§2, §3.2). */
function ravenLayer(cfg: Cfg, w: (name: string) => Float32Array, x: number[][]): number[][] {
  const { h, nh, nkv, d, inter, eps, flavour, mutation } = cfg;
  const qkv = w("attn.Wqkv.weight");
  const rows = (from: number, n: number) => qkv.subarray(from * h, (from + n) * h);
  const fc = w("mlp.fc.weight");
  let gate = fc.subarray(0, inter * h);
  let up = fc.subarray(inter * h, 2 * inter * h);
  if (mutation === "fc-up-first") [gate, up] = [up, gate];
  const proj = w("mlp.proj.weight");
  const qkBias = flavour === "huginn" && mutation !== "no-qk-bias" ? w("attn.qk_bias") : null;
  const weights: AttentionWeights = {
    q: rows(0, nh * d),
    k: rows(nh * d, nkv * d),
    v: rows((nh + nkv) * d, nkv * d),
    o: w("attn.proj.weight"),
    qNorm: flavour === "retrofit-olmo2" ? w("attn.q_norm.weight") : null,
    kNorm: flavour === "retrofit-olmo2" ? w("attn.k_norm.weight") : null,
    qBias: qkBias ? qkBias.subarray(0, nh * d) : null,
    kBias: qkBias ? qkBias.subarray(nh * d, 2 * nh * d) : null,
  };
  const n1 = w("norm_1.weight");
  const n2 = w("norm_2.weight");
  const attn = (input: number[][]) => attention(cfg, input, weights);
  const ffn = (row: number[]) => mlp(cfg, row, gate, up, proj);
  const norm = (row: number[], weight: Float32Array) => rms(row, weight, eps);

  // The mutation reads the layer with the placement of a different flavour.
  let placement: "pre" | "post" | "sandwich" =
    flavour === "retrofit-llama" ? "pre" : flavour === "retrofit-olmo2" ? "post" : "sandwich";
  if (mutation === "norm-placement") placement = placement === "pre" ? "post" : "pre";

  if (placement === "pre") {
    const a = attn(x.map((row) => norm(row, n1)));
    const afterAttn = x.map((row, p) => add(row, a[p]));
    return afterAttn.map((row) => add(row, ffn(norm(row, n2))));
  }
  if (placement === "post") {
    const a = attn(x);
    const afterAttn = x.map((row, p) => add(row, norm(a[p], n1)));
    return afterAttn.map((row) => add(row, norm(ffn(row), n2)));
  }
  const n3 = w("norm_3.weight");
  const n4 = w("norm_4.weight");
  const a = attn(x.map((row) => norm(row, n1)));
  const afterAttn = x.map((row, p) => norm(add(row, a[p]), n2));
  return afterAttn.map((row) => norm(add(row, ffn(norm(row, n3))), n4));
}

interface AttentionWeights {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  o: Float32Array;
  qNorm: Float32Array | null;
  kNorm: Float32Array | null;
  qBias: Float32Array | null;
  kBias: Float32Array | null;
}

function attention(cfg: Cfg, x: number[][], l: AttentionWeights): number[][] {
  const { h, nh, nkv, d, eps, mutation } = cfg;
  const t = x.length;
  const project = (
    weight: Float32Array,
    heads: number,
    normW: Float32Array | null,
    bias: Float32Array | null,
  ) =>
    x.map((row) => {
      let out = matvec(weight, row, heads * d);
      if (normW) {
        if (mutation === "qk-norm-per-head") {
          // The wrong reading of [RO]'s comment: a norm over each head's d features.
          const perHead: number[] = [];
          for (let j = 0; j < heads; j++) {
            perHead.push(
              ...rms(out.slice(j * d, (j + 1) * d), normW.subarray(j * d, (j + 1) * d), eps),
            );
          }
          out = perHead;
        } else {
          out = rms(out, normW, eps);
        }
      }
      if (bias) out = out.map((v, j) => v + bias[j]);
      return out;
    });
  const q = project(l.q, nh, l.qNorm, l.qBias);
  const k = project(l.k, nkv, l.kNorm, l.kBias);
  const v = project(l.v, nkv, null, null);
  for (let p = 0; p < t; p++) {
    rotate(cfg, q[p], nh, p);
    rotate(cfg, k[p], nkv, p);
  }
  const out = x.map(() => new Array<number>(nh * d).fill(0));
  const group = nh / nkv;
  for (let head = 0; head < nh; head++) {
    const kvHead = Math.floor(head / group); // repeat_interleave (enable_gqa)
    for (let i = 0; i < t; i++) {
      const scores: number[] = [];
      for (let j = 0; j <= i; j++) {
        let dot = 0;
        for (let f = 0; f < d; f++) dot += q[i][head * d + f] * k[j][kvHead * d + f];
        scores.push(dot / Math.sqrt(d));
      }
      const max = Math.max(...scores);
      const exps = scores.map((s) => Math.exp(s - max));
      const sum = exps.reduce((a, b) => a + b, 0);
      for (let j = 0; j <= i; j++) {
        for (let f = 0; f < d; f++) out[i][head * d + f] += (exps[j] / sum) * v[j][kvHead * d + f];
      }
    }
  }
  return out.map((row) => matvec(l.o, row, h));
}

/** RoPE at position p on every head of `row` ([heads·d]). */
function rotate(cfg: Cfg, row: number[], heads: number, p: number): void {
  const { d, invFreq, flavour, mutation } = cfg;
  const interleaved = flavour === "huginn" && mutation !== "huginn-rotate-half";
  for (let head = 0; head < heads; head++) {
    const o = head * d;
    for (let i = 0; i < d / 2; i++) {
      const angle = p * invFreq[i];
      const cos = Math.cos(angle);
      const sin = Math.sin(angle);
      // Huginn: complex pairs (x[2i], x[2i+1]); HF: x[i] with x[i + d/2].
      const ia = interleaved ? o + 2 * i : o + i;
      const ib = interleaved ? o + 2 * i + 1 : o + i + d / 2;
      const a = row[ia];
      const b = row[ib];
      row[ia] = a * cos - b * sin;
      row[ib] = b * cos + a * sin;
    }
  }
}

/** §4: Huginn inv_i = rope_base^(−2i/d); retrofits rope_theta with llama3 scaling as [TR] does. */
function inverseFrequencies(
  c: RopeJson,
  flavour: RavenFlavourName,
  d: number,
  mutation: SpecMutation | undefined,
): number[] {
  const useBase =
    flavour === "huginn"
      ? mutation !== "theta-from-rope_base"
      : mutation === "theta-from-rope_base";
  const base = (useBase ? c.rope_base : c.rope_theta) ?? 10000;
  const inv = Array.from({ length: d / 2 }, (_, i) => 1 / base ** ((2 * i) / d));
  const scaling = c.rope_scaling;
  if (flavour === "huginn" || !scaling || mutation === "rope-scaling-ignored") return inv;
  if ((scaling.rope_type ?? scaling.type) !== "llama3") throw new Error("oracle: llama3 only");
  const { factor, low_freq_factor: low, high_freq_factor: high } = scaling;
  const original = scaling.original_max_position_embeddings;
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < original / high) return f;
    if (wavelen > original / low) return f / factor;
    const smooth = (original / wavelen - low) / (high - low);
    return (1 - smooth) * (f / factor) + smooth * f;
  });
}

function mlp(
  cfg: Cfg,
  x: number[],
  gate: Float32Array,
  up: Float32Array,
  down: Float32Array,
): number[] {
  const g = matvec(gate, x, cfg.inter);
  const u = matvec(up, x, cfg.inter);
  return matvec(
    down,
    g.map((v, i) => (v / (1 + Math.exp(-v))) * u[i]),
    cfg.h,
  );
}

function rms(x: number[], weight: Float32Array, eps: number): number[] {
  const mean = x.reduce((s, v) => s + v * v, 0) / x.length;
  const r = 1 / Math.sqrt(mean + eps);
  return x.map((v, i) => v * r * weight[i]);
}

/** W [out, in] (HF layout) times x. */
function matvec(w: Float32Array, x: number[], out: number): number[] {
  const n = x.length;
  const y = new Array<number>(out);
  for (let o = 0; o < out; o++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += w[o * n + i] * x[i];
    y[o] = s;
  }
  return y;
}

function add(a: number[], b: number[]): number[] {
  return a.map((v, i) => v + b[i]);
}
