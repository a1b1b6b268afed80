import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { Manifest } from "../../model/manifest.ts";
import { checkPromptFit, promptFit } from "./prompt-fit.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const stories = join(root, "../shared/models/stories260k");

describe("prompt fit at submit", () => {
  it("counts prompts longer than the window less max_gen_toks", () => {
    const words = (p: string) => p.split(" ").map((_, i) => i);
    const fit = promptFit("t", ["a b c", "a b c d e f", "a"], words, 8, 3);
    expect(fit).toMatchObject({ prompts: 3, over: 1, longest: 6, room: 5 });
  });

  it("warns for gsm8k's 8-shot prompts on stories260k's 512 positions, with its tokenizer", async () => {
    const config = JSON.parse(readFileSync(join(stories, "config.json"), "utf8"));
    // Only what the check reads: the window and the BOS rule.
    const manifest = {
      architecture: { max_position_embeddings: config.max_position_embeddings },
      tokens: { bos_token_id: 1, eos_token_ids: [2], pad_token_id: null, add_bos_token: true },
    } as unknown as Manifest;
    const lines = await checkPromptFit(stories, manifest, {
      tasks: ["gsm8k_cot_sean"],
      limit: 4,
      maxGenToks: 256,
    });
    expect(config.max_position_embeddings).toBe(512);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^warning: gsm8k_cot_sean: 4 of 4 prompts exceed the model's context \(longest \d+ tokens; window 512 − max_gen_toks 256 = 256 prompt tokens, counted with the checkpoint's tokenizer\)/,
    );
    // Zero-shot with 16 new tokens, the same prompts' questions fit.
    const fits = await checkPromptFit(stories, manifest, {
      tasks: ["gsm8k_cot_sean"],
      limit: 4,
      numFewshot: 0,
      maxGenToks: 16,
    });
    expect(fits).toEqual([]);
  });
});
