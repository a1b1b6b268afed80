// A checkpoint as the API sees one: a valid manifest (stories260k's shapes, split 1,3,1) and the
// bytes of every file it names. The API treats graph files as opaque content-addressed blobs.
// Pure (no workerd imports): the API benchmark builds the same checkpoint in Node.
import type { Manifest } from "../../model/manifest.ts";

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export interface CheckpointFixture {
  manifest: Manifest;
  files: Map<string, Uint8Array<ArrayBuffer>>;
}

/**
 * `variant` changes the graph bytes, hence the graph hashes and every result key. `blockData`,
 * when given, puts the block's weights in `block.onnx.data` with that content (the graph file
 * itself stays the same), as exports with external data do.
 */
export async function checkpointFixture(
  variant = "a",
  graphBytes = 256,
  blockData?: string,
): Promise<CheckpointFixture> {
  const files = new Map<string, Uint8Array<ArrayBuffer>>();
  const file = async (name: string, size: number) => {
    const bytes = new TextEncoder().encode(`${variant}:${name}:`.padEnd(size, "."));
    files.set(name, bytes);
    return { file: name, sha256: await sha256Hex(bytes), bytes: bytes.length };
  };
  const graph = async (name: string) => ({ ...(await file(name, graphBytes)), externalData: null });
  const withData = async (name: string) => {
    if (blockData === undefined) return graph(name);
    const bytes = new TextEncoder().encode(blockData);
    files.set(`${name}.data`, bytes);
    const data = { file: `${name}.data`, sha256: await sha256Hex(bytes), bytes: bytes.length };
    return { ...(await file(name, graphBytes)), externalData: data };
  };
  const tokenizer = await file("tokenizer.json", 64);
  const tokenizerConfig = await file("tokenizer_config.json", 32);
  const manifest: Manifest = {
    format_version: 1,
    name: `stories260k-1-3-1-${variant}`,
    source: {
      kind: "path",
      repo: null,
      revision: null,
      path: "../shared/models/stories260k",
      preset: null,
      files: {},
      architecture: "LlamaForCausalLM",
    },
    architecture: {
      flavour: "llama",
      hidden_size: 64,
      num_attention_heads: 8,
      num_key_value_heads: 4,
      head_dim: 8,
      intermediate_size: 172,
      vocab_size: 512,
      max_position_embeddings: 512,
      rms_norm_eps: 1e-5,
      rope: { theta: 10000, scaling: null },
      embed_scale: 1,
      tie_word_embeddings: true,
    },
    layers: { prelude: [0], block: [1, 2, 3], coda: [4] },
    adapter: { init: "random", std: 0.08, seed: 0 },
    state_init: { kind: "zeros" },
    train_recurrence: null,
    tokens: { bos_token_id: 1, eos_token_ids: [2], pad_token_id: null, add_bos_token: true },
    dtype: "fp32",
    graphs: {
      prelude: await graph("prelude.onnx"),
      block: await withData("block.onnx"),
      coda: await graph("coda.onnx"),
    },
    tokenizer: {
      files: {
        "tokenizer.json": tokenizer.sha256,
        "tokenizer_config.json": tokenizerConfig.sha256,
      },
    },
    parameters: {
      embedding: 32768,
      prelude: 45184,
      adapter: 8192,
      block: 135552,
      coda: 45184,
      head: 32832,
      total: 267072,
    },
    created_by: "worker tests",
    numeric_check: null,
  };
  return { manifest, files };
}
