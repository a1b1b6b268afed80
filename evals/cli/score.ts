// `evals score`: scores completions with a task's lm-eval filters and metrics.
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { z } from "zod";
import { EvalsError } from "../errors.ts";
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
        const score = task.score(item.completion, item.gold);
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
