// Where the coordinator API lives and which token to send: --api/--token, else $EVALS_API /
// $EVALS_TOKEN, else the config file ($EVALS_CONFIG or ~/.config/evals/config.json), else the
// local default. The file is JSON checked with zod:
//
//   { "api": "https://evals.example.org", "token": "evt_…" }
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { EvalsError } from "../errors.ts";

/** `npm run api` listens here. */
export const DEFAULT_API_URL = "http://127.0.0.1:8787";

export class ApiConfigError extends EvalsError {}

const ConfigFileSchema = z.strictObject({
  api: z.url({ protocol: /^https?$/, error: "expected an http(s) URL" }).optional(),
  token: z.string().min(1).optional(),
});
type ConfigFile = z.infer<typeof ConfigFileSchema>;

export interface ApiTarget {
  url: string;
  token: string | undefined;
}

/** `$EVALS_CONFIG`, else `$XDG_CONFIG_HOME/evals/config.json`, else `~/.config/evals/config.json`. */
export function configPath(): { path: string; explicit: boolean } {
  if (process.env.EVALS_CONFIG) return { path: process.env.EVALS_CONFIG, explicit: true };
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return { path: join(base, "evals", "config.json"), explicit: false };
}

/** The config file's contents; `{}` when the default file does not exist. */
export function readConfigFile(): ConfigFile {
  const { path, explicit } = configPath();
  if (!existsSync(path)) {
    if (explicit) throw new ApiConfigError(`EVALS_CONFIG names ${path}, which does not exist`);
    return {};
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ApiConfigError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = ConfigFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ApiConfigError(
      `${path}: ${issue.path.join(".") || "(root)"}: ${issue.message}; it holds {"api": "<url>", "token": "<token>"}`,
    );
  }
  return parsed.data;
}

/**
 * Resolves the API URL and token from flags, environment and config file, in that order.
 * Example: `resolveApiTarget({ api: options.api, token: options.token })`.
 */
export function resolveApiTarget(flags: { api?: string; token?: string }): ApiTarget {
  const api = flags.api || process.env.EVALS_API;
  const given = flags.token || process.env.EVALS_TOKEN;
  const file = api && given ? {} : readConfigFile();
  const url = api || file.api || DEFAULT_API_URL;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ApiConfigError(`--api "${url}" is not a URL; write e.g. ${DEFAULT_API_URL}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new ApiConfigError(`--api "${url}" must be an http:// or https:// URL`);
  }
  const token = given || file.token || undefined;
  return { url: url.replace(/\/+$/, ""), token };
}

/** The dashboard's page for one run (dashboard/src/dom.ts `runLink`), served by the same worker. */
export function runPageUrl(api: string, runId: string): string {
  return `${api}/run?id=${encodeURIComponent(runId)}`;
}
