// FLOPs accounting of DESIGN §6. Pure TypeScript: the worker aggregates with the same functions.
import type { Manifest } from "./manifest.ts";

type Counted = Pick<Manifest, "parameters" | "layers" | "architecture">;

/**
 * FLOPs for one token at context length t (the token attends to t positions, itself included):
 * 2(P_pre + P_coda + P_head) + 2r(P_block + P_adapter) + 4·t·n_heads·head_dim·(L_pre + L_coda + r·L_block).
 * A non-recurrent checkpoint (B = 0) ignores r.
 */
export function flopsPerToken(
  manifest: Counted,
  recurrences: number,
  contextLength: number,
): number {
  const { linear, attentionPerPosition } = perTokenTerms(manifest, recurrences);
  return linear + attentionPerPosition * contextLength;
}

/**
 * FLOPs of one sample: every prompt and generated token is processed once, the k-th at context
 * length k (sum over k = 1..n, n = prompt + generated tokens).
 */
export function flopsForSample(
  manifest: Counted,
  recurrences: number,
  promptTokens: number,
  generatedTokens: number,
): number {
  const n = promptTokens + generatedTokens;
  const { linear, attentionPerPosition } = perTokenTerms(manifest, recurrences);
  return n * linear + (attentionPerPosition * n * (n + 1)) / 2;
}

/** The paper's effective parameters: P_pre + r·P_block + P_coda (no embedding, head or adapter). */
export function effectiveParameters(
  manifest: Pick<Manifest, "parameters" | "layers">,
  recurrences: number,
): number {
  const { prelude, block, coda } = manifest.parameters;
  const r = manifest.layers.block.length > 0 ? recurrences : 0;
  return prelude + r * block + coda;
}

function perTokenTerms(manifest: Counted, recurrences: number) {
  const p = manifest.parameters;
  const recurrent = manifest.layers.block.length > 0;
  const r = recurrent ? recurrences : 0;
  const { num_attention_heads: heads, head_dim: headDim } = manifest.architecture;
  const layers =
    manifest.layers.prelude.length + manifest.layers.coda.length + r * manifest.layers.block.length;
  return {
    linear: 2 * (p.prelude + p.coda + p.head) + 2 * r * (p.block + p.adapter),
    attentionPerPosition: 4 * heads * headDim * layers,
  };
}
