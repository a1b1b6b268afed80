// Token counts in Llama 3's tokenizer (the 128,256-entry vocabulary of Llama-3.2-1B, the paper's
// retrofit source), for `bench/scale.ts --tokenizer llama3`: the random 1.2B checkpoints have a
// byte tokenizer, and no Llama 3 tokenizer.json is on disk offline. llama3-tokenizer-js bakes the
// vocabulary and merges into the package. BOS on prompts, as the retrofit's tokenizer config asks.
import llama3 from "llama3-tokenizer-js";

export const llama3Lengths = {
  encodePrompt: (text: string): number[] => llama3.encode(text, { bos: true, eos: false }),
  encodeText: (text: string, bos: boolean): number[] =>
    text === "" ? [] : llama3.encode(text, { bos, eos: false }),
};
