// Builds a raven-format checkpoint (DESIGN §4.7) from stories260k by renaming and concatenating its
// Llama weights, so the raven import path is tested against a model whose outputs we know.
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadSourceModel } from "../source.ts";
import { makeAdapter } from "../surgery.ts";
import { stories260kDir } from "./stories.ts";
import { type TestTensor, writeSafetensors } from "./write-safetensors.ts";

export const RAVEN_SPLIT = [1, 3, 1] as const;

export interface RavenFixtureOptions {
  /** Merged over the generated config.json. */
  config?: Record<string, unknown>;
  /** Written beside the generated tensors. */
  extraTensors?: Record<string, TestTensor>;
}

/** Writes the raven checkpoint into `dir`; its adapter is `makeAdapter(h, "random", adapterSeed)`. */
export function writeRavenFromStories(
  dir: string,
  adapterSeed: number,
  options: RavenFixtureOptions = {},
): void {
  const { tensors, config } = loadSourceModel(stories260kDir);
  const h = config.dims.hiddenSize;
  const out: Record<string, TestTensor> = {};
  const put = (name: string, data: Float32Array, shape: number[]) => {
    out[name] = { data, shape };
  };
  const cat = (...parts: Float32Array[]) => {
    const joined = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      joined.set(p, at);
      at += p.length;
    }
    return joined;
  };
  const parts: [string, number[]][] = [
    ["prelude", [0]],
    ["core_block", [1, 2, 3]],
    ["coda", [4]],
  ];
  for (const [part, layers] of parts) {
    layers.forEach((source, i) => {
      const read = (n: string) => tensors.read(`model.layers.${source}.${n}.weight`);
      const p = `transformer.${part}.${i}`;
      put(`${p}.norm_1.weight`, read("input_layernorm"), [h]);
      const qkv = cat(read("self_attn.q_proj"), read("self_attn.k_proj"), read("self_attn.v_proj"));
      put(`${p}.attn.Wqkv.weight`, qkv, [qkv.length / h, h]);
      put(`${p}.attn.proj.weight`, read("self_attn.o_proj"), [h, h]);
      put(`${p}.norm_2.weight`, read("post_attention_layernorm"), [h]);
      const fc = cat(read("mlp.gate_proj"), read("mlp.up_proj"));
      put(`${p}.mlp.fc.weight`, fc, [fc.length / h, h]);
      put(`${p}.mlp.proj.weight`, read("mlp.down_proj"), [h, fc.length / (2 * h)]);
    });
  }
  put("transformer.wte.weight", tensors.read("model.embed_tokens.weight"), [
    config.dims.vocabSize,
    h,
  ]);
  put("transformer.adapter.weight", makeAdapter(h, "random", adapterSeed), [h, 2 * h]);
  put("transformer.ln_f.weight", tensors.read("model.norm.weight"), [h]);
  put("lm_head.weight", tensors.read("lm_head.weight"), [config.dims.vocabSize, h]);

  Object.assign(out, options.extraTensors);

  mkdirSync(dir, { recursive: true });
  writeSafetensors(join(dir, "model.safetensors"), out);
  writeFileSync(
    join(dir, "config.json"),
    JSON.stringify({
      architectures: ["RavenForCausalLM"],
      model_type: "huginn_raven",
      n_embd: h,
      intermediate_size: config.dims.intermediateSize,
      num_attention_heads: config.dims.numHeads,
      num_key_value_heads: config.dims.numKvHeads,
      n_layers_in_prelude: RAVEN_SPLIT[0],
      n_layers_in_recurrent_block: RAVEN_SPLIT[1],
      n_layers_in_coda: RAVEN_SPLIT[2],
      vocab_size: config.dims.vocabSize,
      block_size: config.dims.maxPositionEmbeddings,
      norm_eps: config.dims.rmsNormEps,
      rope_base: config.dims.ropeTheta,
      tie_embeddings: false,
      mean_recurrence: 4,
      init_values: { embed_scale: 1, std: 0.02 },
      // The released configs carry these wrong ids; the importer must take the tokenizer's.
      bos_token_id: 65504,
      eos_token_id: 65505,
      ...options.config,
    }),
  );
  for (const name of ["tokenizer.json", "tokenizer_config.json", "generation_config.json"]) {
    copyFileSync(join(stories260kDir, name), join(dir, name));
  }
}
