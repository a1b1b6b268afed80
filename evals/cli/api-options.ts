// --api and --token for the verbs that talk to the coordinator, and the client they make.
import type { Command } from "commander";
import { EvalsClient } from "../../worker/client.ts";
import { type ApiTarget, configPath, resolveApiTarget } from "../api-client/config.ts";
import { EvalsError } from "../errors.ts";

/** Adds --api and --token, shared by the verbs that talk to the coordinator. */
export function apiOptions(command: Command): Command {
  return command
    .option("--api <url>", "API base URL (else $EVALS_API, the config file, http://127.0.0.1:8787)")
    .option("--token <t>", "bearer token (else $EVALS_TOKEN or the config file)");
}

/**
 * The API target and a client. With `tokenRequired` (writes), refuses early when no token is
 * known; reads go out without one and see published runs only.
 */
export function connect(
  options: { api?: string; token?: string },
  tokenRequired: boolean,
): { target: ApiTarget; client: EvalsClient } {
  const target = resolveApiTarget(options);
  if (tokenRequired && !target.token) {
    throw new EvalsError(
      `no token for the API at ${target.url}: pass --token, set EVALS_TOKEN, or put {"token": "…"} in ` +
        `${configPath().path} (a local API prints its admin token when it starts: \`npm run api\`)`,
    );
  }
  return { target, client: new EvalsClient({ baseUrl: target.url, token: target.token }) };
}
