// Entry point of the `evals` command; the program itself is in program.ts, its verbs in commands.ts.
import { runEvals } from "./program.ts";

process.exitCode = await runEvals(process.argv);
