import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ModelConfigError, UnsupportedArchitectureError } from "./errors.ts";
import { parseSourceConfig, readSourceConfig } from "./hf-config.ts";
import { stories260kDir } from "./testing/stories.ts";

const work = mkdtempSync(join(tmpdir(), "evals-config-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// The config.json of Llama-3.2-1B, as published (fields evals reads).
const LLAMA_32_1B = {
  architectures: ["LlamaForCausalLM"],
  model_type: "llama",
  hidden_size: 2048,
  intermediate_size: 8192,
  num_hidden_layers: 16,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  head_dim: 64,
  vocab_size: 128256,
  max_position_embeddings: 131072,
  rms_norm_eps: 1e-5,
  rope_theta: 500000.0,
  rope_scaling: {
    factor: 32.0,
    high_freq_factor: 4.0,
    low_freq_factor: 1.0,
    original_max_position_embeddings: 8192,
    rope_type: "llama3",
  },
  hidden_act: "silu",
  attention_bias: false,
  mlp_bias: false,
  tie_word_embeddings: true,
  bos_token_id: 128000,
  eos_token_id: 128001,
};

describe("config.json of a Llama", () => {
  it("reads stories260k", () => {
    const config = readSourceConfig(stories260kDir);
    expect(config.family).toBe("llama");
    expect(config.numLayers).toBe(5);
    expect(config.tieWordEmbeddings).toBe(true);
    expect(config.dims).toMatchObject({
      hiddenSize: 64,
      numHeads: 8,
      numKvHeads: 4,
      headDim: 8,
      intermediateSize: 172,
      vocabSize: 512,
      ropeScaling: null,
      embedScale: 1,
    });
  });

  it("reads Llama 3.2's GQA and llama3 rope scaling", () => {
    const config = parseSourceConfig(LLAMA_32_1B, "config.json");
    expect(config.dims.ropeScaling).toEqual({
      type: "llama3",
      factor: 32,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositionEmbeddings: 8192,
    });
    expect(config.dims.ropeTheta).toBe(500000);
    expect(config.dims.numKvHeads).toBe(8);
    expect(config.bosTokenId).toBe(128000);
    expect(config.eosTokenIds).toEqual([128001]);
  });

  it("derives head_dim and kv heads when the config leaves them out", () => {
    const { head_dim: _, num_key_value_heads: __, ...older } = LLAMA_32_1B;
    const config = parseSourceConfig({ ...older, rope_scaling: null }, "config.json");
    expect(config.dims.headDim).toBe(64);
    expect(config.dims.numKvHeads).toBe(32);
    expect(config.dims.ropeScaling).toBeNull();
  });
});

describe("config.json that evals cannot import", () => {
  it("names the model_type and architectures of an unsupported model", () => {
    const gpt2 = { model_type: "gpt2", architectures: ["GPT2LMHeadModel"], n_embd: 768 };
    expect(() => parseSourceConfig(gpt2, "x/config.json")).toThrow(UnsupportedArchitectureError);
    expect(() => parseSourceConfig(gpt2, "x/config.json")).toThrow(
      'x/config.json: model_type "gpt2", architectures [GPT2LMHeadModel] is not supported',
    );
    expect(() => parseSourceConfig({}, "y/config.json")).toThrow(/model_type "\(none\)"/);
  });

  it("refuses Llama variants the graphs do not compute", () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ hidden_act: "gelu" }, /hidden_act "gelu"/],
      [{ attention_bias: true }, /attention_bias/],
      [{ rope_scaling: { rope_type: "yarn", factor: 4 } }, /rope_scaling type "yarn"/],
    ];
    for (const [change, message] of cases) {
      const config = { ...LLAMA_32_1B, ...change };
      expect(() => parseSourceConfig(config, "c.json")).toThrow(UnsupportedArchitectureError);
      expect(() => parseSourceConfig(config, "c.json")).toThrow(message);
    }
  });

  it("names the bad field", () => {
    expect(() => parseSourceConfig({ ...LLAMA_32_1B, hidden_size: "big" }, "c.json")).toThrow(
      /c\.json: field hidden_size: .*; fix config\.json/,
    );
    expect(() => parseSourceConfig({ ...LLAMA_32_1B, num_key_value_heads: 5 }, "c.json")).toThrow(
      "c.json: num_attention_heads 32 is not a multiple of num_key_value_heads 5",
    );
    expect(() =>
      parseSourceConfig(
        { ...LLAMA_32_1B, head_dim: null, num_attention_heads: 3, num_key_value_heads: 3 },
        "c.json",
      ),
    ).toThrow(/hidden size not divisible by the head count/);
  });

  it("says when config.json is missing or not JSON", () => {
    expect(() => readSourceConfig(work)).toThrow(ModelConfigError);
    expect(() => readSourceConfig(work)).toThrow(/no config\.json in/);
    writeFileSync(join(work, "config.json"), "{ not json");
    expect(() => readSourceConfig(work)).toThrow(/config\.json is not valid JSON/);
  });
});

describe("config.json of a raven checkpoint", () => {
  it("reads the split, embed scale and training recurrence, and leaves bos/eos to the tokenizer", () => {
    const config = parseSourceConfig(
      {
        architectures: ["RavenForCausalLM"],
        model_type: "huginn_raven",
        n_embd: 2048,
        intermediate_size: 8192,
        num_attention_heads: 32,
        num_key_value_heads: 8,
        n_layers_in_prelude: 4,
        n_layers_in_recurrent_block: 6,
        n_layers_in_coda: 4,
        vocab_size: 128256,
        rope_base: 500000,
        mean_recurrence: 32,
        init_values: { embed_scale: 1, std: 0.008 },
        bos_token_id: 65504,
        eos_token_id: 65505,
      },
      "raven/config.json",
    );
    expect(config.family).toBe("raven");
    expect(config.ravenSplit).toEqual({ prelude: 4, block: 6, coda: 4 });
    expect(config.numLayers).toBe(14);
    expect(config.trainRecurrence).toBe(32);
    expect(config.stateInitStd).toBe(0.008);
    expect(config.dims.headDim).toBe(64);
    expect(config.bosTokenId).toBeNull();
    expect(config.eosTokenIds).toEqual([]);
  });
});
