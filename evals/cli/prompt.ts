// `evals prompt`: prints the exact prompt a task builds for one document.
import type { Command } from "commander";
import { loadTaskData } from "../data/datasets.ts";
import { EvalsError } from "../errors.ts";
import { getTask } from "../tasks/registry.ts";
import { buildRequests } from "../tasks/render.ts";
import { parseInteger } from "./parse.ts";

export function registerPromptCommand(program: Command): void {
  program
    .command("prompt")
    .description("print the exact prompt of one document")
    .requiredOption("--task <name>", "task name")
    .requiredOption("--doc <i>", "document index (0-based)")
    .option("--num-fewshot <k>", "override the few-shot count")
    .option("--data <dir>", "dataset directory")
    .action(async function runPrompt(options) {
      const task = getTask(options.task);
      const doc = parseInteger(options.doc, "--doc", 0);
      const data = await loadTaskData(task, { dataDir: options.data });
      if (doc >= data.docs.length)
        throw new EvalsError(`--doc ${doc}: ${task.name} has ${data.docs.length} documents`);
      // Few-shot sampling depends on every earlier document (lm-eval's shared RNG), so build up to doc.
      const requests = await buildRequests(task, data.docs, data.fewshotPool, {
        limit: doc + 1,
        numFewshot:
          options.numFewshot === undefined
            ? undefined
            : parseInteger(options.numFewshot, "--num-fewshot", 0),
      });
      process.stdout.write(requests[doc].prompt);
    });
}
