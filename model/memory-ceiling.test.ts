import { describe, expect, it } from "vitest";
import type { Manifest } from "./manifest.ts";
import { WASM_HEAP_BYTES, wasmMemoryEstimate, wasmMemoryRefusal } from "./memory-ceiling.ts";

// The Llama-3.2-1B shape split 4,8,4 (1.24B parameters, tied 128256×2048 embedding), with the
// graph file sizes its exports have: fp32 4 bytes per parameter, fp16 2 (plus the untied copy of
// the head each graph stores), q4 ≈ 0.71 (codes, scales, zero points, norms: measured 0.99 GiB).
const PARAMETERS = 1_235_814_400;
const EMBEDDING = 128256 * 2048;
function llama1b(dtype: Manifest["dtype"], fileBytes: number): Manifest {
  const graph = (bytes: number) => ({
    file: "g.onnx",
    sha256: "0".repeat(64),
    bytes: 100_000,
    externalData: { file: "g.onnx.data", sha256: "0".repeat(64), bytes },
  });
  return {
    dtype,
    architecture: {
      num_key_value_heads: 8,
      head_dim: 64,
      vocab_size: 128256,
      hidden_size: 2048,
      tie_word_embeddings: true,
    },
    layers: { prelude: [0, 1, 2, 3], block: [4, 5, 6, 7, 8, 9, 10, 11], coda: [12, 13, 14, 15] },
    parameters: { total: PARAMETERS, embedding: EMBEDDING },
    graphs: {
      prelude: graph(fileBytes * 0.25),
      block: graph(fileBytes * 0.4),
      coda: graph(fileBytes * 0.35),
    },
  } as unknown as Manifest;
}
const withHead = PARAMETERS + EMBEDDING;

describe("the WASM memory ceiling", () => {
  it("refuses the fp32 1.2B checkpoint before loading and names the exports that fit", () => {
    const message = wasmMemoryRefusal(llama1b("fp32", withHead * 4), "wasm");
    expect(message).toMatch(/^wasm: this fp32 checkpoint needs about \d+\.\d GiB/);
    expect(message).toMatch(/above the 4\.0 GiB a WASM heap can address/);
    expect(message).toMatch(
      /--quant q8 \(about \d\.\d GiB\) or --quant i8 \(about \d\.\d GiB\) or --quant q4 \(about \d\.\d GiB\)/,
    );
    expect(message).not.toMatch(/--dtype fp16/);
  });

  it("refuses fp16 too: its weights are cast to an fp32 copy in the heap", () => {
    const fp16 = llama1b("fp16", withHead * 2);
    expect(wasmMemoryEstimate(fp16).weightBytes).toBeGreaterThan(WASM_HEAP_BYTES);
    expect(wasmMemoryRefusal(fp16, "wasm")).toMatch(/this fp16 checkpoint .*--quant q4/);
  });

  it("admits the q4 1.2B checkpoint and small checkpoints", () => {
    const q4 = llama1b("q4", withHead * 0.71);
    expect(wasmMemoryRefusal(q4, "wasm")).toBeNull();
    expect(wasmMemoryEstimate(q4).total).toBeLessThan(3 * 2 ** 30);
  });

  it("admits the i8 1.2B checkpoint: int8 linear layers, a q8 embedding, both copies in the heap", () => {
    // int8 codes for every linear weight incl. the untied head copy, the embedding at 8 bits +
    // a float32 scale and a zero point per 32 (1.16 bytes per weight).
    const i8 = llama1b("i8", PARAMETERS + EMBEDDING * 1.16);
    expect(wasmMemoryRefusal(i8, "wasm")).toBeNull();
    expect(wasmMemoryEstimate(i8).weightBytes).toBeGreaterThan(
      wasmMemoryEstimate(llama1b("q4", withHead * 0.71)).weightBytes,
    );
  });

  it("a q4 checkpoint that is still too large is told to use node", () => {
    const huge = llama1b("q4", withHead * 0.71 * 4);
    expect(wasmMemoryRefusal(huge, "wasm")).toMatch(
      /too large for WASM even at 4 bits: run it with --backend node/,
    );
  });
});
