// The demo's last command: `evals dev` on the demo's state, printing the demo run's page. Shared
// with the test that checks the run it names is visible on the dashboard it starts.
import { relative } from "node:path";

/** Arguments of `evals` that reopen `stateDir` with `runId`'s page named. */
export function handOffArgs(stateDir, runId, cwd = process.cwd()) {
  return ["dev", "--persist-to", relative(cwd, stateDir) || ".", "--run", runId];
}

export function handOffCommand(stateDir, runId, cwd = process.cwd()) {
  return `npx evals ${handOffArgs(stateDir, runId, cwd).join(" ")}`;
}
