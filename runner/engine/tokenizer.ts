// Tokenization from a checkpoint's tokenizer.json with @huggingface/tokenizers. BOS is added by
// the engine per the manifest (not by the tokenizer's post-processor), so every backend agrees.
import { Tokenizer } from "@huggingface/tokenizers";
import type { Manifest } from "../../model/manifest.ts";

export class PromptTokenizer {
  private readonly tokenizer: Tokenizer;

  constructor(
    tokenizerJson: object,
    tokenizerConfig: object,
    private readonly tokens: Manifest["tokens"],
  ) {
    this.tokenizer = new Tokenizer(tokenizerJson as never, tokenizerConfig as never);
  }

  /** Prompt ids: BOS (when the tokenizer config asks for it) followed by the text's tokens. */
  encodePrompt(text: string): number[] {
    const ids = this.tokenizer.encode(text, { add_special_tokens: false }).ids;
    const bos = this.tokens.bos_token_id;
    return this.tokens.add_bos_token && bos !== null ? [bos, ...ids] : ids;
  }

  /** Token ids of `text` alone, BOS prepended only when `bos` asks for it (loglikelihood requests). */
  encodeText(text: string, bos: boolean): number[] {
    const ids = text === "" ? [] : this.tokenizer.encode(text, { add_special_tokens: false }).ids;
    const bosId = this.tokens.bos_token_id;
    return bos && bosId !== null ? [bosId, ...ids] : ids;
  }

  decode(ids: readonly number[]): string {
    // The tokenizer refuses an empty id list; an empty continuation is simply "".
    if (ids.length === 0) return "";
    return this.tokenizer.decode([...ids], { skip_special_tokens: true });
  }
}
