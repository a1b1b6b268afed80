// `evals generate`: greedy continuations from a checkpoint at a chosen recurrence count.
import { readFileSync } from "node:fs";
import { type Command, Option } from "commander";
import { z } from "zod";
import { openBackend } from "../../runner/backends.ts";
import { EvalsError } from "../errors.ts";
import { parseInteger } from "./parse.ts";

const PromptLineSchema = z.object({ prompt: z.string(), seed: z.number().int().optional() });

export function registerGenerateCommand(program: Command): void {
  program
    .command("generate")
    .description("greedy generation from a recurrent checkpoint")
    .requiredOption("--model <ckpt>", "checkpoint directory (evals export --out)")
    .option("--prompt <text>", "prompt text")
    .option("--prompts-file <file.jsonl>", 'one {"prompt": …, "seed"?: n} per line')
    .option("--recurrences <r>", "recurrences of the block per token (1–256)", "1")
    .option("--max-gen-toks <n>", "tokens to generate at most (lm-eval's max_gen_toks)", "64")
    // One name for the token cap across verbs; the old spelling still works.
    .addOption(new Option("--max-new-tokens <n>").hideHelp())
    .addOption(
      new Option("--state-init <init>", "initial state s_0")
        .choices(["zeros", "normal"])
        .default("zeros"),
    )
    .option("--seed <n>", "seed of the initial state (normal init)", "0")
    .addOption(
      new Option("--kv <strategy>", "KV cache per iteration (full) or shared")
        .choices(["full", "shared"])
        .default("full"),
    )
    .addOption(
      new Option("--backend <backend>", "inference backend")
        .choices(["node", "wasm", "webgpu"])
        .default("node"),
    )
    .option("--threads <n>", "CPU / WASM threads (default: node 2, wasm 1)")
    .option("--chromium <path>", "Chromium for the wasm and webgpu backends")
    .option("--stop <text...>", "stop strings (the text is cut before the first)")
    .option("--batch-size <b>", "prompts per batch", "1")
    .option("--json", "one JSON object per prompt on stdout")
    .action(async function runGenerate(options) {
      const prompts = readPrompts(
        options.prompt,
        options.promptsFile,
        parseInteger(options.seed, "--seed"),
      );
      const recurrences = parseInteger(options.recurrences, "--recurrences");
      const batchSize = parseInteger(options.batchSize, "--batch-size", 1, 1024);
      const backend = await openBackend(options.model, options.backend, {
        threads:
          options.threads === undefined
            ? undefined
            : parseInteger(options.threads, "--threads", 1, 64),
        chromium: options.chromium,
      });
      try {
        const config = {
          recurrences,
          maxNewTokens: parseInteger(
            options.maxNewTokens ?? options.maxGenToks,
            options.maxNewTokens === undefined ? "--max-gen-toks" : "--max-new-tokens",
            1,
          ),
          kv: options.kv,
          stateInit: options.stateInit,
          stopIds: backend.stopIds,
          stopStrings: options.stop ?? [],
        };
        const promptIds = await backend.encode(prompts.map((p) => p.prompt));
        for (let start = 0; start < prompts.length; start += batchSize) {
          const batch = prompts.slice(start, start + batchSize);
          const requests = batch.map((p, i) => ({ promptIds: promptIds[start + i], seed: p.seed }));
          const started = performance.now();
          const results = await backend.generate(requests, config);
          const ms = performance.now() - started;
          results.forEach((result, i) => {
            if (!options.json) {
              process.stdout.write(`${batch[i].prompt}${result.text}\n`);
              return;
            }
            const record = {
              prompt: batch[i].prompt,
              prompt_ids: requests[i].promptIds,
              ids: result.ids,
              text: result.text,
              top5: result.top5,
              recurrences,
              backend: backend.name,
              adapter: backend.adapter,
              kv: config.kv,
              state_init: config.stateInit,
              seed: batch[i].seed,
              stop_reason: result.stopReason,
              ms: Math.round(ms),
            };
            process.stdout.write(`${JSON.stringify(record)}\n`);
          });
        }
      } finally {
        await backend.close();
      }
    });
}

function readPrompts(
  prompt: string | undefined,
  file: string | undefined,
  seed: number,
): { prompt: string; seed: number }[] {
  if ((prompt === undefined) === (file === undefined)) {
    throw new EvalsError("give exactly one of --prompt <text> or --prompts-file <file.jsonl>");
  }
  if (prompt !== undefined) {
    if (prompt.trim() === "") throw new EvalsError("--prompt is empty; give some text to continue");
    return [{ prompt, seed }];
  }
  let text: string;
  try {
    text = readFileSync(file!, "utf8");
  } catch {
    throw new EvalsError(`cannot read --prompts-file ${file}`);
  }
  return text
    .split("\n")
    .map((line, i) => ({ line, number: i + 1 }))
    .filter(({ line }) => line.trim() !== "")
    .map(({ line, number }) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        throw new EvalsError(`${file}:${number}: not valid JSON`);
      }
      const result = PromptLineSchema.safeParse(parsed);
      if (!result.success) {
        throw new EvalsError(`${file}:${number}: expected {"prompt": string, "seed"?: integer}`);
      }
      return { prompt: result.data.prompt, seed: result.data.seed ?? seed };
    });
}
