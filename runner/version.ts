// Every result names the runner that produced it (DESIGN §7): this package's version.
import { readFileSync } from "node:fs";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  version: string;
};

export const RUNNER_VERSION = `evals-runner/${pkg.version}`;
