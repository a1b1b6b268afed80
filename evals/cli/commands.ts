// The list of verbs. Each room owns its command file; this is the only place that names them all.
// A verb's module (and all it imports: onnxruntime, Playwright, compute-engine) loads only when
// that verb runs, so `evals results …` does not pay for the engine; help loads them all.
import type { Command } from "commander";

type Register = (program: Command) => void;

const VERBS: Record<string, () => Promise<Register>> = {
  export: async () => (await import("./export.ts")).registerExportCommand,
  inspect: async () => (await import("./inspect.ts")).registerInspectCommand,
  generate: async () => (await import("./generate.ts")).registerGenerateCommand,
  local: async () => (await import("./local.ts")).registerLocalCommand,
  check: async () => (await import("./check.ts")).registerCheckCommand,
  score: async () => (await import("./score.ts")).registerScoreCommand,
  prompt: async () => (await import("./prompt.ts")).registerPromptCommand,
  runner: async () => (await import("./runner.ts")).registerRunnerCommand,
  submit: async () => (await import("./submit.ts")).registerSubmitCommand,
  runs: async () => (await import("./runs.ts")).registerRunsCommand,
  results: async () => (await import("./results.ts")).registerResultsCommand,
  tasks: async () => (await import("./tasks.ts")).registerTasksCommand,
  dev: async () => (await import("./dev.ts")).registerDevCommand,
};

/**
 * Registers the verb named in `argv` (the first argument that is not an option; the program's
 * own options take no values), or every verb when none is named or the name is unknown, so
 * `evals --help` lists them all and commander reports an unknown verb as it always has.
 */
export async function registerCommands(program: Command, argv: readonly string[]): Promise<void> {
  const verb = argv.slice(2).find((arg) => !arg.startsWith("-"));
  const names = verb !== undefined && Object.hasOwn(VERBS, verb) ? [verb] : Object.keys(VERBS);
  for (const name of names) (await VERBS[name]())(program);
}
