// What a checkpoint needs in onnxruntime-web's heap, against the ceiling the runner declares:
// WASM32 addresses 4 GiB in all. Refusing before loading turns a `std::bad_alloc` deep in the
// page into a message that says what would fit (DESIGN §9).
import type { Manifest } from "./manifest.ts";

/** The WASM backend's memory ceiling: a wasm32 heap addresses at most 4 GiB. */
export const WASM_HEAP_BYTES = 4 * 2 ** 30;

/** Tokens of KV cache and prompt logits the working-memory estimate allows for. */
const WORKING_CONTEXT_TOKENS = 2048;
const WORKING_PREFILL_TOKENS = 512;
/** The runtime's own arenas, kernels' scratch and the tokenizer. */
const RUNTIME_OVERHEAD_BYTES = 256 * 2 ** 20;

export interface MemoryEstimate {
  /** Weights as held in the heap once the sessions exist (file copy + derived copies). */
  weightBytes: number;
  /** KV cache for 2048 tokens, logits of a 512-token prefill and the runtime's overhead. */
  workingBytes: number;
  total: number;
}

/**
 * Estimated peak heap use of a checkpoint on onnxruntime-web. The graph files are copied into
 * the heap; fp16 weights are cast to fp32 by the graph, which the optimizer folds into a second,
 * fp32 copy (3× the fp16 bytes); MatMulNBits and i8's MatMulInteger repack their codes for
 * the kernel (2× the file; the 1.2B i8 export, 1.6 GB of files, peaks at 2.9 GiB in WASM).
 */
export function wasmMemoryEstimate(manifest: Manifest): MemoryEstimate {
  const graphs = [manifest.graphs.prelude, manifest.graphs.block, manifest.graphs.coda];
  const fileBytes = graphs.reduce(
    (n, g) => n + (g ? g.bytes + (g.externalData?.bytes ?? 0) : 0),
    0,
  );
  const factor = { fp32: 1, fp16: 3, q8: 2, i8: 2, q4: 2 }[manifest.dtype];
  const weightBytes = fileBytes * factor;
  const workingBytes = workingMemory(manifest);
  return { weightBytes, workingBytes, total: weightBytes + workingBytes };
}

/** Quantized exports the refusal can name, most precise first. */
type QuantDtype = "q8" | "i8" | "q4";

/** The same checkpoint's estimate had it been exported with `--quant q8|i8|q4` (block size 32). */
export function quantizedEstimate(manifest: Manifest, quant: QuantDtype): number {
  // Per weight: the code and (q8/q4) a float32 scale and a zero point per 32 weights; i8 has one
  // scale per output column and a q8 embedding; norms are negligible.
  const blockBytes = (bits: number) => bits / 8 + 4 / 32 + bits / 8 / 32;
  const { total, embedding } = manifest.parameters;
  const tiedHead = manifest.architecture.tie_word_embeddings ? embedding : 0;
  const stored =
    quant === "i8"
      ? (total - embedding + tiedHead) * 1 + embedding * blockBytes(8)
      : (total + tiedHead) * blockBytes(quant === "q8" ? 8 : 4);
  return stored * 2 + workingMemory(manifest);
}

function workingMemory(manifest: Manifest): number {
  const a = manifest.architecture;
  const layers =
    manifest.layers.prelude.length + manifest.layers.block.length + manifest.layers.coda.length;
  const kvPerToken = 2 * a.num_key_value_heads * a.head_dim * 4 * layers;
  const logits = WORKING_PREFILL_TOKENS * a.vocab_size * 4;
  return kvPerToken * WORKING_CONTEXT_TOKENS + logits + RUNTIME_OVERHEAD_BYTES;
}

/** Null when the checkpoint fits the WASM heap; else the refusal, naming what would fit. */
export function wasmMemoryRefusal(manifest: Manifest, backend: string): string | null {
  const estimate = wasmMemoryEstimate(manifest);
  if (estimate.total <= WASM_HEAP_BYTES) return null;
  const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  const need =
    `${backend}: this ${manifest.dtype} checkpoint needs about ${gib(estimate.total)} in onnxruntime-web's heap ` +
    `(weights as loaded ${gib(estimate.weightBytes)}, working memory ${gib(estimate.workingBytes)}), ` +
    `above the ${gib(WASM_HEAP_BYTES)} a WASM heap can address`;
  const fits = (["q8", "i8", "q4"] as const)
    .map((quant) => ({ quant, bytes: quantizedEstimate(manifest, quant) }))
    .filter(({ quant, bytes }) => bytes <= WASM_HEAP_BYTES && quant !== manifest.dtype);
  if (manifest.dtype === "q4" || fits.length === 0) {
    return `${need}; it is too large for WASM even at 4 bits: run it with --backend node`;
  }
  const options = fits.map(({ quant, bytes }) => `--quant ${quant} (about ${gib(bytes)})`);
  return `${need}; export it again with ${options.join(" or ")}, or run it with --backend node`;
}

/**
 * KV cache bytes of one r's caches over the working context: what a sweep holds for each r besides
 * the first (prelude and coda once, the block once per iteration with `full` caches, once with
 * `shared`). The API adds it per bundled shard to the checkpoint's estimate (bundled leases).
 */
export function sweepCacheBytes(
  manifest: Manifest,
  recurrences: number,
  kv: "full" | "shared",
): number {
  const a = manifest.architecture;
  const { prelude, block, coda } = manifest.layers;
  const copies = kv === "full" ? recurrences : 1;
  const layers = prelude.length + coda.length + block.length * copies;
  return 2 * a.num_key_value_heads * a.head_dim * 4 * layers * WORKING_CONTEXT_TOKENS;
}
