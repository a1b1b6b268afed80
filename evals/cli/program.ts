// The `evals` command as a function of its arguments: builds the program, runs the verb and turns
// what it threw into an exit code. `main.ts` runs it for the real process; tests run it in-process.
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { EvalsError } from "../errors.ts";
import { registerCommands } from "./commands.ts";

const { version } = JSON.parse(
  readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
) as { version: string };

/**
 * Runs `evals` on `argv` (node's form: the first two entries are the interpreter and the script)
 * and resolves to the exit code: the one a verb set on `process.exitCode`, 2 for bad input, 1 for
 * an internal error. Errors are printed to stderr as one line.
 */
export async function runEvals(argv: readonly string[]): Promise<number> {
  const program = new Command("evals")
    .description("Evaluate depth-recurrent language models: accuracy against recurrences and FLOPs")
    .version(version, "-V, --version", "print the evals version")
    .option("--verbose", "print stack traces on errors")
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });

  await registerCommands(program, argv);

  try {
    await program.parseAsync(argv as string[]);
    return Number(process.exitCode ?? 0);
  } catch (error) {
    return exitCodeFor(error, program.opts().verbose === true);
  }
}

function exitCodeFor(error: unknown, verbose: boolean): number {
  if (error instanceof CommanderError) {
    // help and version are "errors" to commander; usage mistakes are exit 2 like any bad input.
    return error.exitCode === 0 ? 0 : 2;
  }
  if (error instanceof EvalsError) {
    process.stderr.write(`error: ${error.message}\n`);
    if (verbose) process.stderr.write(`${error.stack}\n`);
    return error.exitCode;
  }
  process.stderr.write(
    `internal error: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  if (verbose || !(error instanceof Error))
    process.stderr.write(`${(error as Error)?.stack ?? ""}\n`);
  else process.stderr.write("run again with --verbose for the stack trace, and please report it\n");
  return 1;
}
