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

/**
 * Raven checkpoints: configs and generation configs carry Huginn's ids (65504/65505/…), ordinary
 * words in a Llama-3 vocabulary and out of range in TinyLlama's (RAVEN-FORMATS §6). bos/eos come
 * from the tokenizer's own special tokens; a configured id survives only if the tokenizer marks it
 * special and it is inside the vocabulary. Every dropped id is described in `notes`.
 */
export function readRavenTokenIds(
  dir: string,
  config: { bosTokenId: number | null; eosTokenIds: readonly number[]; vocabSize: number },
): { tokens: TokenIds; notes: string[] } {
  const tokenizer = readJson(join(dir, "tokenizer.json"));
  if (!tokenizer) {
    throw new ModelConfigError(`no tokenizer.json in ${dir}; evals needs the fast-tokenizer file`);
  }
  const tokenizerConfig = readJson(join(dir, "tokenizer_config.json")) ?? {};
  const generationConfig = readJson(join(dir, "generation_config.json")) ?? {};
  const added = (tokenizer.added_tokens as { id: number; special?: boolean }[] | undefined) ?? [];
  const special = new Set(added.filter((t) => t.special).map((t) => t.id));
  const notes: string[] = [];
  const inRange = (id: number | null) => id !== null && id >= 0 && id < config.vocabSize;
  const confirmed = (id: number, where: string) => {
    if (!inRange(id)) {
      notes.push(`dropped ${where} ${id}: outside the vocabulary (${config.vocabSize} ids)`);
      return false;
    }
    if (!special.has(id)) {
      notes.push(`dropped ${where} ${id}: the tokenizer does not mark it special`);
      return false;
    }
    return true;
  };
  const ownBos = tokenId(tokenizer, tokenizerConfig.bos_token);
  const ownEos = tokenId(tokenizer, tokenizerConfig.eos_token);
  const candidates: [number, string][] = [
    ...(config.bosTokenId === null ? [] : [[config.bosTokenId, "config.json bos_token_id"]]),
    ...idList(generationConfig.bos_token_id).map((id) => [
      id,
      "generation_config.json bos_token_id",
    ]),
  ] as [number, string][];
  let bos = inRange(ownBos) ? ownBos : null;
  for (const [id, where] of candidates) {
    if (id === bos || !confirmed(id, where)) continue;
    bos ??= id;
  }
  const eos = new Set<number>();
  if (ownEos !== null && inRange(ownEos)) eos.add(ownEos);
  const eosCandidates: [number, string][] = [
    ...config.eosTokenIds.map((id): [number, string] => [id, "config.json eos_token_id"]),
    ...idList(generationConfig.eos_token_id).map((id): [number, string] => [
      id,
      "generation_config.json eos_token_id",
    ]),
  ];
  for (const [id, where] of eosCandidates) {
    if (!eos.has(id) && confirmed(id, where)) eos.add(id);
  }
  return {
    tokens: {
      bosTokenId: bos,
      eosTokenIds: [...eos].sort((a, b) => a - b),
      padTokenId: inRange(tokenId(tokenizer, tokenizerConfig.pad_token))
        ? tokenId(tokenizer, tokenizerConfig.pad_token)
        : null,
      addBosToken: tokenizerConfig.add_bos_token !== false,
    },
    notes,
  };
}

function idList(value: unknown): number[] {
  if (typeof value === "number") return [value];
  return Array.isArray(value) ? value.filter((v): v is number => typeof v === "number") : [];
}

function firstOf(value: unknown): number | null {
  return idList(value)[0] ?? null;
}
