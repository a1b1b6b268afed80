// `evals tasks`: every task by its lm-eval name, with version, dataset, shots, token cap and metrics.
import type { Command } from "commander";
import { formatTable } from "../run/table.ts";
import { getTask, listTasks } from "../tasks/registry.ts";
import type { TaskDefinition } from "../tasks/types.ts";

/** A reference in the dataset's own format, only to learn which metrics the scorer reports. */
const SAMPLE_GOLD: Record<TaskDefinition["dataset"]["name"], string> = {
  gsm8k: "1 + 1 = 2\n#### 2",
  arithmetic: "1 + 1 = 2\n#### 2",
  math: "$\\boxed{2}$",
  math500: "$\\boxed{2}$",
};

export function taskInfo(task: TaskDefinition) {
  const metrics = Object.keys(task.score("", SAMPLE_GOLD[task.dataset.name]).metrics);
  return {
    name: task.name,
    version: task.version,
    dataset: task.dataset.name,
    num_fewshot: task.defaultNumFewshot,
    max_gen_toks: task.maxGenToks,
    primary_metric: task.primaryMetric,
    metrics: [task.primaryMetric, ...metrics.filter((m) => m !== task.primaryMetric)],
    benchmark: task.dataset.name !== "arithmetic",
  };
}

export function registerTasksCommand(program: Command): void {
  program
    .command("tasks")
    .description("list the tasks: lm-eval name, version, dataset, few-shot count, metrics")
    .option("--json", "print one JSON object")
    .action(function showTasks(options) {
      const tasks = listTasks().map((name) => taskInfo(getTask(name)));
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ tasks })}\n`);
        return;
      }
      const rows = tasks.map((t) => [
        t.benchmark ? t.name : `${t.name} (pipeline check, not a benchmark)`,
        String(t.version),
        t.dataset,
        String(t.num_fewshot),
        String(t.max_gen_toks),
        t.metrics.join(" "),
      ]);
      process.stdout.write(
        `${formatTable(["task", "version", "dataset", "shots", "max_gen_toks", "metrics (primary first)"], rows)}\n`,
      );
    });
}
