// A tiny plain OLMo-2 checkpoint in the Hugging Face layout (transformers' Olmo2ForCausalLM tensor
// names: post_attention_layernorm / post_feedforward_layernorm after each branch, q_norm/k_norm
// over the whole q/k projections), for surgery tests. Random weights, seeded.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { byteTokenizerFiles } from "../random-tokenizer.ts";
import { SeededRandom } from "../rng.ts";
import { writeSafetensors } from "./write-safetensors.ts";

export interface Olmo2Fixture {
  dir: string;
  config: Record<string, unknown>;
  tensors: Map<string, Float32Array>;
}

export function writeOlmo2Fixture(dir: string, seed = 3): Olmo2Fixture {
  const h = 64;
  const heads = 4;
  const kvHeads = 4;
  const d = h / heads;
  const inter = 96;
  const vocab = 300;
  const layers = 6;
  const rng = new SeededRandom(seed);
  const tensors = new Map<string, Float32Array>();
  const shapes: Record<string, number[]> = {};
  const put = (name: string, shape: number[], std: number, mean = 0) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = mean + std * rng.normal();
    tensors.set(name, data);
    shapes[name] = shape;
  };
  put("model.embed_tokens.weight", [vocab, h], 1);
  for (let i = 0; i < layers; i++) {
    const p = `model.layers.${i}`;
    put(`${p}.self_attn.q_proj.weight`, [heads * d, h], 1 / Math.sqrt(h));
    put(`${p}.self_attn.k_proj.weight`, [kvHeads * d, h], 1 / Math.sqrt(h));
    put(`${p}.self_attn.v_proj.weight`, [kvHeads * d, h], 1 / Math.sqrt(h));
    put(`${p}.self_attn.o_proj.weight`, [h, heads * d], 1 / Math.sqrt(h));
    put(`${p}.self_attn.q_norm.weight`, [heads * d], 0.2, 1);
    put(`${p}.self_attn.k_norm.weight`, [kvHeads * d], 0.2, 1);
    put(`${p}.post_attention_layernorm.weight`, [h], 0.1, 1);
    put(`${p}.post_feedforward_layernorm.weight`, [h], 0.1, 1);
    put(`${p}.mlp.gate_proj.weight`, [inter, h], 1 / Math.sqrt(h));
    put(`${p}.mlp.up_proj.weight`, [inter, h], 1 / Math.sqrt(h));
    put(`${p}.mlp.down_proj.weight`, [h, inter], 1 / Math.sqrt(inter));
  }
  put("model.norm.weight", [h], 0.1, 1);
  put("lm_head.weight", [vocab, h], 1 / Math.sqrt(h));
  mkdirSync(dir, { recursive: true });
  writeSafetensors(
    join(dir, "model.safetensors"),
    Object.fromEntries([...tensors].map(([name, data]) => [name, { data, shape: shapes[name] }])),
  );
  const config = {
    architectures: ["Olmo2ForCausalLM"],
    model_type: "olmo2",
    hidden_size: h,
    intermediate_size: inter,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    num_key_value_heads: kvHeads,
    vocab_size: vocab,
    max_position_embeddings: 4096,
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    rope_scaling: null,
    attention_bias: false,
    attention_dropout: 0,
    hidden_act: "silu",
    tie_word_embeddings: false,
    bos_token_id: null,
    eos_token_id: 2,
    pad_token_id: 1,
    torch_dtype: "float32",
  };
  writeFileSync(join(dir, "config.json"), JSON.stringify(config, null, 2));
  for (const [name, json] of Object.entries(byteTokenizerFiles(vocab))) {
    writeFileSync(join(dir, name), JSON.stringify(json));
  }
  return { dir, config, tensors };
}
