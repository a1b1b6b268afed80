// Test fixtures around ../shared/models/stories260k: a real pretrained Llama small enough for CI.
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Tokenizer } from "@huggingface/tokenizers";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The shared folder beside the repository (datasets and models that are never copied in). */
export const sharedDir = resolve(repoRoot, "../shared");
export const stories260kDir = join(sharedDir, "models/stories260k");

export function stories260kTokenizer(): Tokenizer {
  const read = (name: string) => JSON.parse(readFileSync(join(stories260kDir, name), "utf8"));
  return new Tokenizer(read("tokenizer.json"), read("tokenizer_config.json"));
}

/** Prompts of different lengths for equivalence tests. */
export const STORY_PROMPTS = [
  "Once upon a time",
  "The little dog ran to the park and",
  "Lily and Ben were best friends. One day they",
  "Tom had a big red ball.",
  "Sara wanted to bake a cake for her mom, so she",
  "The sun was shining and the birds were singing. A little girl",
  "Once there was a cat",
  "He was sad because",
  "The boy saw a big tree in the garden. He wanted to climb it, but",
  "Mom said,",
  "It was a rainy day.",
  "The bird flew",
];
