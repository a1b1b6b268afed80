// Special token ids from a model's tokenizer files. The tokenizer decides bos/eos; configs are only
// consulted for extra eos ids (raven configs carry wrong ones, DESIGN §4.7).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ModelConfigError } from "./errors.ts";

export interface TokenIds {
  bosTokenId: number | null;
  eosTokenIds: number[];
  padTokenId: number | null;
  addBosToken: boolean;
}

type Json = Record<string, unknown>;

function readJson(path: string): Json | null {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Json;
  } catch (error) {
    throw new ModelConfigError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
}

/** Reads `tokenizer.json`, `tokenizer_config.json` and `generation_config.json` in `dir`. */
export function readTokenIds(dir: string, configEosIds: readonly number[] = []): TokenIds {
  const tokenizer = readJson(join(dir, "tokenizer.json"));
  if (!tokenizer) {
    throw new ModelConfigError(`no tokenizer.json in ${dir}; evals needs the fast-tokenizer file`);
  }
  const tokenizerConfig = readJson(join(dir, "tokenizer_config.json")) ?? {};
  const generationConfig = readJson(join(dir, "generation_config.json")) ?? {};
  const idOf = (token: unknown) => tokenId(tokenizer, token);
  const eos = new Set<number>();
  const eosFromTokenizer = idOf(tokenizerConfig.eos_token);
  if (eosFromTokenizer !== null) eos.add(eosFromTokenizer);
  for (const id of idList(generationConfig.eos_token_id)) eos.add(id);
  for (const id of configEosIds) eos.add(id);
  return {
    bosTokenId: idOf(tokenizerConfig.bos_token) ?? firstOf(generationConfig.bos_token_id),
    eosTokenIds: [...eos].sort((a, b) => a - b),
    padTokenId: idOf(tokenizerConfig.pad_token),
    // Llama tokenizers add BOS unless told otherwise.
    addBosToken: tokenizerConfig.add_bos_token !== false,
  };
}

/** Id of a special token given as a string or as `{content: …}`. */
function tokenId(tokenizer: Json, token: unknown): number | null {
  const content =
    typeof token === "string" ? token : (token as { content?: unknown } | null)?.content;
  if (typeof content !== "string") return null;
  const added = (tokenizer.added_tokens as { id: number; content: string }[] | undefined) ?? [];
  const match = added.find((t) => t.content === content);
  if (match) return match.id;
  const vocab = (tokenizer.model as { vocab?: Record<string, number> } | undefined)?.vocab;
  return vocab && typeof vocab === "object" && !Array.isArray(vocab)
    ? (vocab[content] ?? null)
    : null;
}

function idList(value: unknown): number[] {
  if (typeof value === "number") return [value];
  return Array.isArray(value) ? value.filter((v): v is number => typeof v === "number") : [];
}

function firstOf(value: unknown): number | null {
  return idList(value)[0] ?? null;
}
