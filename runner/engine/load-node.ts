// Everything `generate` needs from a checkpoint directory on Node: sessions and the tokenizer.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readCheckpoint } from "../../model/checkpoint.ts";
import { type NodeThreadOptions, openNodeModel } from "./node-sessions.ts";
import type { RecurrentModel } from "./recurrent-model.ts";
import { PromptTokenizer } from "./tokenizer.ts";

export interface LoadedCheckpoint {
  model: RecurrentModel;
  tokenizer: PromptTokenizer;
  /** Stop ids: the manifest's EOS ids plus BOS (a predicted BOS starts a new document). */
  stopIds: number[];
}

export async function loadNodeCheckpoint(
  dir: string,
  options: NodeThreadOptions = {},
): Promise<LoadedCheckpoint> {
  const checkpoint = await readCheckpoint(dir);
  const model = await openNodeModel(checkpoint, options);
  const read = (name: string) => JSON.parse(readFileSync(join(dir, name), "utf8"));
  const { tokens } = checkpoint.manifest;
  const tokenizer = new PromptTokenizer(
    read("tokenizer.json"),
    read("tokenizer_config.json"),
    tokens,
  );
  return { model, tokenizer, stopIds: stopIdsOf(tokens) };
}

export function stopIdsOf(tokens: {
  bos_token_id: number | null;
  eos_token_ids: number[];
}): number[] {
  const ids = new Set(tokens.eos_token_ids);
  if (tokens.bos_token_id !== null) ids.add(tokens.bos_token_id);
  return [...ids].sort((a, b) => a - b);
}
