// The list of verbs. Each room owns its command file; this is the only place that names them all.
import type { Command } from "commander";

export function registerCommands(program: Command): void {
  void program;
}
