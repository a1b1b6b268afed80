// The list of verbs. Each room owns its command file; this is the only place that names them all.
import type { Command } from "commander";
import { registerCheckCommand } from "./check.ts";
import { registerDevCommand } from "./dev.ts";
import { registerExportCommand } from "./export.ts";
import { registerGenerateCommand } from "./generate.ts";
import { registerInspectCommand } from "./inspect.ts";
import { registerLocalCommand } from "./local.ts";
import { registerPromptCommand } from "./prompt.ts";
import { registerResultsCommand } from "./results.ts";
import { registerRunnerCommand } from "./runner.ts";
import { registerRunsCommand } from "./runs.ts";
import { registerScoreCommand } from "./score.ts";
import { registerSubmitCommand } from "./submit.ts";
import { registerTasksCommand } from "./tasks.ts";

export function registerCommands(program: Command): void {
  registerExportCommand(program);
  registerInspectCommand(program);
  registerGenerateCommand(program);
  registerLocalCommand(program);
  registerCheckCommand(program);
  registerScoreCommand(program);
  registerPromptCommand(program);
  registerRunnerCommand(program);
  registerSubmitCommand(program);
  registerRunsCommand(program);
  registerResultsCommand(program);
  registerTasksCommand(program);
  registerDevCommand(program);
}
