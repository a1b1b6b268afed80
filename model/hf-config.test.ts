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

describe("config.json of a raven checkpoint, as RavenConfig serialises it", () => {
  // The keys a Llama-3.2 retrofit's config.json carries (RAVEN-FORMATS §1.2-1.3): n_heads, not
  // num_attention_heads; a dead rope_base; Huginn's bos/eos and mean_recurrence inherited.
  const RETROFIT = {
    architectures: ["RavenForCausalLM"],
    model_type: "huginn_raven",
    n_embd: 2048,
    n_heads: 32,
    n_layers: 14,
    num_key_value_heads: 8,
    intermediate_size: 8192,
    n_layers_in_prelude: 4,
    n_layers_in_recurrent_block: 6,
    n_layers_in_coda: 4,
    vocab_size: 128256,
    padded_vocab_size: 128256,
    block_size: 4096,
    norm_eps: 1e-5,
    rope_base: 500000,
    rope_theta: 500000,
    rope_scaling: LLAMA_32_1B.rope_scaling,
    max_position_embeddings: 131072,
    mean_recurrence: 32,
    qk_bias: false,
    bias: false,
    tie_embeddings: false,
    tie_word_embeddings: false,
    init_values: { embed_scale: 1, std: 0.008703882797784892 },
    bos_token_id: 65504,
    eos_token_id: 65505,
  };

  it("reads n_heads/n_embd, rope_theta, the source's position limit, and r as a config default", () => {
    const config = parseSourceConfig(RETROFIT, "raven/config.json");
    expect(config.family).toBe("raven");
    expect(config.flavour).toBe("retrofit-llama");
    expect(config.ravenSplit).toEqual({ prelude: 4, block: 6, coda: 4 });
    expect(config.numLayers).toBe(14);
    expect(config.dims).toMatchObject({
      hiddenSize: 2048,
      numHeads: 32,
      numKvHeads: 8,
      headDim: 64,
      ropeTheta: 500000,
      maxPositionEmbeddings: 131072,
      embedScale: 1,
      normPlacement: "pre",
    });
    expect(config.dims.ropeScaling?.type).toBe("llama3");
    expect(config.configDefaultRecurrence).toBe(32);
    expect(config.stateInitStd).toBe(0.008703882797784892);
    expect(config.tieWordEmbeddings).toBe(false);
  });

  it("takes theta from rope_theta, never from the converter's dead rope_base, and says so", () => {
    const config = parseSourceConfig({ ...RETROFIT, rope_theta: 10000 }, "c.json");
    expect(config.dims.ropeTheta).toBe(10000);
    expect(config.notes.join("\n")).toMatch(/rope_base 500000 ignored/);
  });

  it("accepts the HF aliases num_attention_heads/hidden_size", () => {
    const { n_heads, n_embd, ...rest } = RETROFIT;
    const config = parseSourceConfig(
      { ...rest, num_attention_heads: n_heads, hidden_size: n_embd },
      "c.json",
    );
    expect(config.dims).toMatchObject({ hiddenSize: 2048, numHeads: 32 });
  });

  it("Huginn: rope_base, block_size limit, sqrt(n_embd) embedding scale, scaled s0 std", () => {
    const { rope_theta, rope_scaling, max_position_embeddings, ...base } = RETROFIT;
    const config = parseSourceConfig(
      {
        ...base,
        n_embd: 5280,
        n_heads: 55,
        num_key_value_heads: 55,
        rope_base: 50000,
        qk_bias: true,
        tie_embeddings: true,
        tie_word_embeddings: undefined,
        init_values: { std: 0.008703882797784892, embed_scale: Math.sqrt(5280) },
      },
      "h/config.json",
      () => ["transformer.core_block.0.norm_3.weight"],
    );
    expect(config.flavour).toBe("huginn");
    expect(config.dims).toMatchObject({
      ropeTheta: 50000,
      maxPositionEmbeddings: 4096,
      headDim: 96,
      normPlacement: "sandwich",
      ropeScaling: null,
    });
    expect(config.dims.embedScale).toBeCloseTo(72.6636, 3);
    expect(config.stateInitStd).toBeCloseTo(0.632, 3);
    expect(config.tieWordEmbeddings).toBe(true);
  });

  it("refuses mixed markers, Huginn GQA, a missing rope_theta and an adapter bias, naming the fix", () => {
    const huginnTensors = () => ["transformer.prelude.0.attn.qk_bias"];
    expect(() => parseSourceConfig(RETROFIT, "m/config.json", huginnTensors)).toThrow(
      /mixes markers of two raven flavours: Huginn tensor transformer\.prelude\.0\.attn\.qk_bias .* and retrofit key rope_theta/,
    );
    expect(() =>
      parseSourceConfig(RETROFIT, "m/config.json", () => [
        "transformer.coda.0.norm_4.weight",
        "transformer.coda.0.attn.q_norm.weight",
      ]),
    ).toThrow(UnsupportedArchitectureError);
    const { rope_theta, ...noTheta } = RETROFIT;
    expect(() => parseSourceConfig(noTheta, "t/config.json")).toThrow(
      /t\/config\.json: no rope_theta .* add rope_theta to config\.json/,
    );
    expect(() =>
      parseSourceConfig({ ...noTheta, qk_bias: true }, "g/config.json", huginnTensors),
    ).toThrow(/key num_key_value_heads 8 differs from n_heads 32; .*fix config\.json/);
    expect(() => parseSourceConfig({ ...RETROFIT, bias: true }, "b/config.json")).toThrow(
      /b\/config\.json: key bias is true/,
    );
    const { n_heads, ...noHeads } = RETROFIT;
    expect(() => parseSourceConfig(noHeads, "n/config.json")).toThrow(/field n_heads: Required/);
  });
});

describe("config.json of a plain OLMo-2", () => {
  it("is a post-norm source for surgery", () => {
    const config = parseSourceConfig(
      {
        architectures: ["Olmo2ForCausalLM"],
        model_type: "olmo2",
        hidden_size: 2048,
        intermediate_size: 8192,
        num_hidden_layers: 16,
        num_attention_heads: 16,
        num_key_value_heads: 16,
        vocab_size: 100352,
        max_position_embeddings: 4096,
        rms_norm_eps: 1e-6,
        rope_theta: 500000,
        tie_word_embeddings: false,
      },
      "o/config.json",
    );
    expect(config.family).toBe("olmo2");
    expect(config.flavour).toBe("olmo2");
    expect(config.dims.normPlacement).toBe("post");
  });
});
