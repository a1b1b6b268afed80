// `evals score`: scores completions with a task's lm-eval filters and metrics.
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { z } from "zod";
import { EvalsError } from "../errors.ts";
import { cutAtUntil } from "../scoring/until.ts";
import { formatAccuracy, summarizeAccuracy } from "../stats/accuracy.ts";
import { getTask } from "../tasks/registry.ts";

const LineSchema = z.object({
  id: z.union([z.string(), z.number()]).optional(),
  completion: z.string(),
  gold: z.string(),
});

export function registerScoreCommand(program: Command): void {
  program
    .command("score")
    .description('score {"id"?, "completion", "gold"} lines with a task\'s filters and metrics')
    .requiredOption("--task <name>", "task whose scoring to apply")
    .requiredOption("--input <file.jsonl>", "completions to score")
    .option(
      "--no-until",
      "score each completion as given; by default it is first cut before the earliest of the " +
        "task's stop sequences (`until`), as generation and lm-eval do",
    )
    .addHelpText(
      "after",
      "\nEach completion is cut at the task's `until` stop sequences before filtering (lm-eval's\n" +
        'generate_until does the same), so text that runs on past e.g. "Problem:" or "Q:" is not\n' +
        "scored. Pass --no-until for completions that were already cut.",
    )
    .action(function runScore(options) {
      const task = getTask(options.task);
      let text: string;
      try {
        text = readFileSync(options.input, "utf8");
      } catch {
        throw new EvalsError(`cannot read --input ${options.input}`);
      }
      const lines = text.split("\n");
      const parsed = lines.flatMap((line, i) => {
        if (line.trim() === "") return [];
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          throw new EvalsError(`${options.input}:${i + 1}: not valid JSON`);
        }
        const result = LineSchema.safeParse(value);
        if (!result.success) {
          const issue = result.error.issues[0];
          throw new EvalsError(
            `${options.input}:${i + 1}: field ${issue.path.join(".") || "(line)"}: ${issue.message}; expected {"id"?, "completion", "gold"}`,
          );
        }
        return [{ ...result.data, line: i + 1 }];
      });
      const totals = new Map<string, number[]>();
      for (const item of parsed) {
        const completion = options.until
          ? cutAtUntil(item.completion, task.until)
          : item.completion;
        const score = task.score(completion, item.gold);
        for (const [name, value] of Object.entries(score.metrics))
          totals.set(name, [...(totals.get(name) ?? []), value]);
        process.stdout.write(
          `${JSON.stringify({ id: item.id ?? item.line, extracted: score.extracted, metrics: score.metrics })}\n`,
        );
      }
      for (const [name, values] of totals) {
        const s = summarizeAccuracy(values);
        process.stderr.write(
          `${task.name}  ${name.padEnd(32)} ${formatAccuracy(s, 2)} 95% Wilson CI (n=${s.n})\n`,
        );
      }
    });
}
