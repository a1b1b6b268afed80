// Synthetic raven checkpoints laid out as the authors' code writes them (shared/RAVEN-FORMATS.md
// §1-2), one per released flavour: config keys as serialised (`n_heads`, `n_embd`, `n_layers`, the
// Huginn leftovers retrofits inherit), fused `Wqkv` rows [q; k; v] and `mlp.fc` rows [gate; up],
// bf16 and a sharded `model.safetensors.index.json` where the release has them, Huginn's
// `freqs_cis` buffer and no `lm_head`. Nothing here comes from the importer: the spec oracle
// (raven-spec-forward.ts) reads the same tensors by these names.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { byteTokenizerFiles } from "../random-tokenizer.ts";
import { SeededRandom } from "../rng.ts";
import { bf16Rounded } from "./bf16.ts";
import type { RavenFlavourName, SpecCheckpoint } from "./raven-spec-forward.ts";
import { type TestDtype, writeSafetensors } from "./write-safetensors.ts";

export type RavenFixtureKind =
  | "retrofit-llama32"
  | "retrofit-tinyllama"
  | "retrofit-olmo2"
  | "huginn";

export const RAVEN_FIXTURE_KINDS: readonly RavenFixtureKind[] = [
  "retrofit-llama32",
  "retrofit-tinyllama",
  "retrofit-olmo2",
  "huginn",
];

export interface RavenFixture {
  kind: RavenFixtureKind;
  dir: string;
  /** config.json exactly as written. */
  config: Record<string, unknown>;
  /** Every stored tensor, as float32 values of what is on disk (after bf16 rounding). */
  tensors: Map<string, Float32Array>;
  /** The split as [P, B, C]. */
  split: [number, number, number];
}

interface Shape {
  h: number;
  heads: number;
  kvHeads: number;
  intermediate: number;
  vocab: number;
  paddedVocab: number;
  split: [number, number, number];
  dtype: TestDtype;
  shards: number;
}

const SHAPES: Record<RavenFixtureKind, Shape> = {
  // Llama-3.2-1B: GQA 32/8, fp32 as the retrofit training saves it, sharded.
  "retrofit-llama32": {
    h: 64,
    heads: 4,
    kvHeads: 2,
    intermediate: 96,
    vocab: 300,
    paddedVocab: 300,
    split: [1, 2, 1],
    dtype: "F32",
    shards: 2,
  },
  // TinyLlama-1.1B: GQA 32/4, theta 10000, one file.
  "retrofit-tinyllama": {
    h: 64,
    heads: 4,
    kvHeads: 1,
    intermediate: 96,
    vocab: 300,
    paddedVocab: 300,
    split: [1, 2, 1],
    dtype: "F32",
    shards: 1,
  },
  // OLMo-2-0425-1B: MHA, q/k norms, bf16 (the converter keeps the source dtype).
  "retrofit-olmo2": {
    h: 64,
    heads: 4,
    kvHeads: 4,
    intermediate: 96,
    vocab: 300,
    paddedVocab: 300,
    split: [1, 2, 1],
    dtype: "BF16",
    shards: 1,
  },
  // Huginn-0125: MHA, sandwich norms, qk_bias, padded vocab, tied head, bf16, sharded.
  huginn: {
    h: 64,
    heads: 4,
    kvHeads: 4,
    intermediate: 96,
    vocab: 300,
    paddedVocab: 320,
    split: [1, 2, 1],
    dtype: "BF16",
    shards: 2,
  },
};

/** Huginn's `block_size` for the fixture: the RoPE table length and the hard context limit. */
export const HUGINN_FIXTURE_BLOCK_SIZE = 64;

export interface RavenFixtureOptions {
  seed?: number;
  /** Merged over config.json (for bad-input tests). */
  config?: Record<string, unknown>;
  /** Stored beside the flavour's tensors, float32 (for bad-input tests). */
  extraTensors?: Record<string, { data: Float32Array; shape: number[] }>;
}

/** Writes one flavour's checkpoint into `dir` and returns what was written. */
export function writeRavenFixture(
  dir: string,
  kind: RavenFixtureKind,
  options: RavenFixtureOptions = {},
): RavenFixture {
  const seed = options.seed ?? 1;
  const s = SHAPES[kind];
  const huginn = kind === "huginn";
  const olmo = kind === "retrofit-olmo2";
  const d = s.h / s.heads;
  const rng = new SeededRandom(seed);
  const tensors = new Map<string, Float32Array>();
  const shapes = new Map<string, number[]>();
  const round = (x: Float32Array) => (s.dtype === "BF16" ? bf16Rounded(x) : x);
  const normal = (shape: number[], std: number, mean = 0) => {
    const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < out.length; i++) out[i] = mean + std * rng.normal();
    return out;
  };
  const put = (name: string, shape: number[], std: number, mean = 0) => {
    tensors.set(name, round(normal(shape, std, mean)));
    shapes.set(name, shape);
  };

  put("transformer.wte.weight", [s.paddedVocab, s.h], huginn ? 0.3 : 1);
  const parts: [string, number][] = [
    ["prelude", s.split[0]],
    ["core_block", s.split[1]],
    ["coda", s.split[2]],
  ];
  for (const [part, count] of parts) {
    for (let i = 0; i < count; i++) {
      const p = `transformer.${part}.${i}`;
      put(`${p}.norm_1.weight`, [s.h], 0.1, 1);
      put(`${p}.attn.Wqkv.weight`, [(s.heads + 2 * s.kvHeads) * d, s.h], 1 / Math.sqrt(s.h));
      if (huginn) put(`${p}.attn.qk_bias`, [2, 1, s.heads, d], 0.5);
      if (olmo) {
        put(`${p}.attn.q_norm.weight`, [s.heads * d], 0.2, 1);
        put(`${p}.attn.k_norm.weight`, [s.kvHeads * d], 0.2, 1);
      }
      put(`${p}.attn.proj.weight`, [s.h, s.heads * d], 1 / Math.sqrt(s.h));
      put(`${p}.norm_2.weight`, [s.h], 0.1, 1);
      if (huginn) {
        put(`${p}.norm_3.weight`, [s.h], 0.1, 1);
        put(`${p}.norm_4.weight`, [s.h], 0.1, 1);
      }
      put(`${p}.mlp.fc.weight`, [2 * s.intermediate, s.h], 1 / Math.sqrt(s.h));
      put(`${p}.mlp.proj.weight`, [s.h, s.intermediate], 1 / Math.sqrt(s.intermediate));
    }
  }
  put("transformer.adapter.weight", [s.h, 2 * s.h], 1 / Math.sqrt(2 * s.h));
  put("transformer.ln_f.weight", [s.h], 0.1, 1);
  if (!huginn) put("lm_head.weight", [s.paddedVocab, s.h], 1 / Math.sqrt(s.h));

  mkdirSync(dir, { recursive: true });
  const onDisk = [...tensors.keys()].map((name) => ({ name, dtype: s.dtype }));
  if (huginn) {
    // The persistent RoPE buffer, float32 [1, block_size, 1, d/2, (cos, sin)]; importers skip it.
    const freqs = new Float32Array(HUGINN_FIXTURE_BLOCK_SIZE * (d / 2) * 2);
    for (let t = 0; t < HUGINN_FIXTURE_BLOCK_SIZE; t++) {
      for (let i = 0; i < d / 2; i++) {
        const angle = t / 50000 ** ((2 * i) / d);
        freqs[(t * (d / 2) + i) * 2] = Math.cos(angle);
        freqs[(t * (d / 2) + i) * 2 + 1] = Math.sin(angle);
      }
    }
    tensors.set("freqs_cis", freqs);
    shapes.set("freqs_cis", [1, HUGINN_FIXTURE_BLOCK_SIZE, 1, d / 2, 2]);
    onDisk.push({ name: "freqs_cis", dtype: "F32" });
  }
  for (const [name, { data, shape }] of Object.entries(options.extraTensors ?? {})) {
    tensors.set(name, data);
    shapes.set(name, shape);
    onDisk.push({ name, dtype: "F32" });
  }
  writeShards(dir, onDisk, tensors, shapes, s.shards);

  const config = { ...configFor(kind, s), ...options.config };
  writeFileSync(join(dir, "config.json"), `${JSON.stringify(config, null, 2)}\n`);
  // The retrofits keep the source tokenizer; the ids Huginn's configs carry are not in it.
  for (const [name, json] of Object.entries(byteTokenizerFiles(s.vocab))) {
    writeFileSync(join(dir, name), JSON.stringify(json));
  }
  writeFileSync(
    join(dir, "generation_config.json"),
    JSON.stringify({ bos_token_id: 65504, eos_token_id: [65505, 65508], pad_token_id: 65509 }),
  );
  return { kind, dir, config, tensors, split: s.split };
}

function writeShards(
  dir: string,
  onDisk: { name: string; dtype: TestDtype }[],
  tensors: Map<string, Float32Array>,
  shapes: Map<string, number[]>,
  shards: number,
): void {
  const entry = ({ name, dtype }: { name: string; dtype: TestDtype }) => [
    name,
    { data: tensors.get(name)!, shape: shapes.get(name)!, dtype },
  ];
  if (shards === 1) {
    writeSafetensors(join(dir, "model.safetensors"), Object.fromEntries(onDisk.map(entry)));
    return;
  }
  const per = Math.ceil(onDisk.length / shards);
  const weightMap: Record<string, string> = {};
  let totalSize = 0;
  for (let k = 0; k < shards; k++) {
    const file = `model-${String(k + 1).padStart(5, "0")}-of-${String(shards).padStart(5, "0")}.safetensors`;
    const chunk = onDisk.slice(k * per, (k + 1) * per);
    for (const { name, dtype } of chunk) {
      weightMap[name] = file;
      totalSize += tensors.get(name)!.length * (dtype === "F32" ? 4 : 2);
    }
    writeSafetensors(join(dir, file), Object.fromEntries(chunk.map(entry)));
  }
  writeFileSync(
    join(dir, "model.safetensors.index.json"),
    JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2),
  );
}

/**
 * config.json as RavenConfig + save_pretrained serialise it (RAVEN-FORMATS §1.2-1.3): Huginn's own
 * keys, or Huginn's config edited by the retrofit converter (rope_theta/rope_scaling added,
 * a dead rope_base 500000, tie_embeddings false, Huginn's bos/eos ids and mean_recurrence kept).
 */
function configFor(kind: RavenFixtureKind, s: Shape): Record<string, unknown> {
  const huginn = kind === "huginn";
  const layers = s.split[0] + s.split[1] + s.split[2];
  const common = {
    architectures: ["RavenForCausalLM"],
    auto_map: {
      AutoConfig: "raven_config_minimal.RavenConfig",
      AutoModelForCausalLM: "raven_modeling_minimal.RavenForCausalLM",
    },
    model_type: "huginn_raven",
    n_embd: s.h,
    n_heads: s.heads,
    n_layers: layers,
    num_key_value_heads: s.kvHeads,
    head_dim: s.h / s.heads,
    intermediate_size: s.intermediate,
    n_layers_in_prelude: s.split[0],
    n_layers_in_recurrent_block: s.split[1],
    n_layers_in_coda: s.split[2],
    vocab_size: s.vocab,
    padded_vocab_size: s.paddedVocab,
    block_size: huginn ? HUGINN_FIXTURE_BLOCK_SIZE : 4096,
    bias: false,
    architecture_class_name: "RecurrentGPT",
    block_class_name: "SandwichBlock",
    norm_class_name: "RMSNorm_llama",
    mlp_class_name: "GatedMLP",
    injection_type: "linear",
    state_init: "like-init",
    mean_recurrence: 32,
    mean_backprop_depth: 8,
    sampling_scheme: "poisson-lognormal-filling",
    test_time_noise: 0,
    test_time_noise_type: "fixed",
    effective_expected_depth: 132,
    bos_token_id: 65504,
    eos_token_id: 65505,
    pad_token_id: 65509,
    torch_dtype: s.dtype === "BF16" ? "bfloat16" : "float32",
    transformers_version: "4.51.0",
  };
  const std = 0.008703882797784892;
  if (huginn) {
    return {
      ...common,
      norm_eps: 1e-6,
      rope_base: 50000,
      qk_bias: true,
      tie_embeddings: true,
      init_values: {
        std,
        out_proj: std / Math.sqrt(2 * 132),
        embedding: std,
        embed_scale: Math.sqrt(s.h),
      },
    };
  }
  const retrofit = {
    ...common,
    rope_base: 500000.0,
    qk_bias: false,
    tie_embeddings: false,
    tie_word_embeddings: false,
    init_values: { std, out_proj: std / Math.sqrt(2 * 132), embedding: std, embed_scale: 1.0 },
  };
  if (kind === "retrofit-llama32") {
    return {
      ...retrofit,
      norm_eps: 1e-5,
      rope_theta: 500000.0,
      max_position_embeddings: 131072,
      // Llama-3.2's rope_type llama3, with original_max_position_embeddings shrunk to the fixture's
      // head size so the smoothed band touches its frequencies.
      rope_scaling: {
        factor: 8.0,
        low_freq_factor: 1.0,
        high_freq_factor: 4.0,
        original_max_position_embeddings: 64,
        rope_type: "llama3",
      },
    };
  }
  if (kind === "retrofit-tinyllama") {
    return { ...retrofit, norm_eps: 1e-5, rope_theta: 10000.0, max_position_embeddings: 2048 };
  }
  return { ...retrofit, norm_eps: 1e-6, rope_theta: 500000.0, max_position_embeddings: 4096 };
}

/** The flavour each fixture is, by construction (the oracle is told, never the importer's guess). */
export const FIXTURE_FLAVOUR: Record<RavenFixtureKind, RavenFlavourName> = {
  "retrofit-llama32": "retrofit-llama",
  "retrofit-tinyllama": "retrofit-llama",
  "retrofit-olmo2": "retrofit-olmo2",
  huginn: "huginn",
};

/** What the spec oracle reads of a fixture. */
export function specCheckpointOf(fixture: RavenFixture): SpecCheckpoint {
  return {
    flavour: FIXTURE_FLAVOUR[fixture.kind],
    config: fixture.config,
    tensors: fixture.tensors,
  };
}

/** max |a − b| over logits [t·vocab] against the oracle's rows. */
export function maxDifference(a: Float32Array, rows: readonly Float64Array[]): number {
  const vocab = rows[0].length;
  if (a.length !== rows.length * vocab)
    throw new Error(`length ${a.length} ≠ ${rows.length}×${vocab}`);
  let worst = 0;
  rows.forEach((row, p) => {
    for (let j = 0; j < vocab; j++) worst = Math.max(worst, Math.abs(a[p * vocab + j] - row[j]));
  });
  return worst;
}
