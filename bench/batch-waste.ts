// Wasted row-steps of batched generation on real GSM8K lengths: prompts batched in dataset order
// or by length, finished rows kept in the batch or dropped (runner/engine/generate.ts drops them).
// Prompt lengths are the gsm8k_cot_sean prompts under the stories260k Llama tokenizer; as each
// row's generation length, the task's target for the document followed by the stop string, capped
// at the task's max_gen_toks (a model that writes a solution as long as the reference).
// Counted, not timed: a decode row-step is one row through prelude, r blocks and coda for one
// token; a prefill position is one (row, prompt position), padding included.
// Usage: npx tsx bench/batch-waste.ts [--limit 1319]
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { stories260kDir } from "../model/testing/stories.ts";
import { batchesByLength } from "../runner/engine/length-batches.ts";
import { PromptTokenizer } from "../runner/engine/tokenizer.ts";
import { taskLengths } from "./gsm8k-lengths.ts";

const { values } = parseArgs({ options: { limit: { type: "string", default: "1319" } } });
const read = (name: string) => JSON.parse(readFileSync(join(stories260kDir, name), "utf8"));
const tokenizer = new PromptTokenizer(read("tokenizer.json"), read("tokenizer_config.json"), {
  bos_token_id: 1,
  eos_token_ids: [2],
  pad_token_id: null,
  add_bos_token: true,
} as never);
const { docs } = await taskLengths("gsm8k_cot_sean", tokenizer, Number(values.limit));
const promptLengths = docs.map((d) => d.prompt);
const genLengths = docs.map((d) => d.generated);

function count(batches: number[][], dropFinished: boolean) {
  let prefill = 0;
  let decode = 0;
  for (const batch of batches) {
    prefill += batch.length * Math.max(...batch.map((i) => promptLengths[i]));
    decode += dropFinished
      ? batch.reduce((n, i) => n + genLengths[i], 0)
      : batch.length * Math.max(...batch.map((i) => genLengths[i]));
  }
  return { prefill, decode };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const needed = { prefill: sum(promptLengths), decode: sum(genLengths) };
console.log(
  `gsm8k_cot_sean, ${docs.length} documents; prompt tokens ${Math.min(...promptLengths)}–${Math.max(...promptLengths)} ` +
    `(mean ${(needed.prefill / docs.length).toFixed(0)}), generation ${Math.min(...genLengths)}–${Math.max(...genLengths)} ` +
    `(mean ${(needed.decode / docs.length).toFixed(0)}); computed ÷ needed (1.00 = no waste)`,
);
console.log("batch  order    finished rows   decode row-steps   prefill positions");
for (const size of [4, 8]) {
  const inOrder = batchesByLength(
    docs.map(() => 0),
    size,
  );
  const sorted = batchesByLength(promptLengths, size);
  for (const [order, batches] of [
    ["dataset", inOrder],
    ["length", sorted],
  ] as const) {
    for (const drop of [false, true]) {
      const c = count(batches, drop);
      console.log(
        `${String(size).padStart(5)}  ${order.padEnd(7)}  ${(drop ? "dropped" : "kept").padEnd(14)}  ${(c.decode / needed.decode).toFixed(3).padStart(16)}   ${(c.prefill / needed.prefill).toFixed(3).padStart(17)}`,
      );
    }
  }
}
