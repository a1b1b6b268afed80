// The prompt a model actually saw when its prompt did not fit: the runner keeps the last
// (window − max_new_tokens) tokens (runner/engine/prompt-window.ts, lm-eval's rule), so the
// server re-tokenizes the stored prompt with the checkpoint's own tokenizer, applies the same
// rule and decodes the kept window. Only documents with a truncated sample pay for this.

import type { Manifest } from "../../model/manifest.ts";
import { fitPrompt } from "../../runner/engine/prompt-window.ts";
import { PromptTokenizer } from "../../runner/engine/tokenizer.ts";
import type { Env } from "../env.ts";
import { findBlob } from "../storage/blob-store.ts";

export interface PromptSeen {
  /** The decoded window the model was given (its first token may be a partial word). */
  text: string;
  /** Tokens kept, and tokens cut from the front. */
  kept_tokens: number;
  dropped_tokens: number;
}

/** Tokenizers by checkpoint id: a tokenizer.json is parsed once per isolate. */
const tokenizers = new Map<string, PromptTokenizer>();

async function readJson(env: Env, sha256: string | undefined): Promise<object | null> {
  if (!sha256) return null;
  const blob = await findBlob(env, sha256);
  const object = blob ? await env.BLOBS.get(blob.r2_key) : null;
  return object ? ((await object.json()) as object) : null;
}

async function tokenizerFor(
  env: Env,
  checkpointId: string,
  manifest: Manifest,
): Promise<PromptTokenizer | null> {
  const known = tokenizers.get(checkpointId);
  if (known) return known;
  const files = manifest.tokenizer.files;
  const [json, config] = await Promise.all([
    readJson(env, files["tokenizer.json"]),
    readJson(env, files["tokenizer_config.json"]),
  ]);
  if (!json) return null;
  const tokenizer = new PromptTokenizer(json, config ?? {}, manifest.tokens);
  if (tokenizers.size > 8) tokenizers.clear();
  tokenizers.set(checkpointId, tokenizer);
  return tokenizer;
}

/**
 * The window the model saw, or null when the tokenizer cannot be read or parsed (the viewer then
 * says only how many tokens were kept, from the sample's own count).
 */
export async function promptSeen(
  env: Env,
  checkpoint: { id: string; manifest: Manifest },
  prompt: string,
  maxNewTokens: number,
): Promise<PromptSeen | null> {
  let tokenizer: PromptTokenizer | null;
  try {
    tokenizer = await tokenizerFor(env, checkpoint.id, checkpoint.manifest);
  } catch {
    return null;
  }
  if (!tokenizer) return null;
  const ids = tokenizer.encodePrompt(prompt);
  const window = fitPrompt(
    ids,
    checkpoint.manifest.architecture.max_position_embeddings,
    maxNewTokens,
  );
  const bos = checkpoint.manifest.tokens.bos_token_id;
  // The window's BOS (when the rule kept one) is not text.
  const text = tokenizer.decode(window.ids.filter((id) => id !== bos));
  return {
    text,
    kept_tokens: window.ids.length,
    dropped_tokens: ids.length - window.ids.length,
  };
}
