// Downloads `hf:org/name[@revision]` into the standard Hugging Face cache (the layout Python's
// huggingface_hub uses), so files already fetched by Python tools are reused and vice versa.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { downloadFileToCacheDir, listFiles } from "@huggingface/hub";
import { EvalsError } from "../evals/errors.ts";
import { ModelConfigError } from "./errors.ts";

export class HubUnavailableError extends EvalsError {}

export interface HubModel {
  repo: string;
  revision: string;
  dir: string;
}

/** The hub cache directory: HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub. */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HF_HOME) return join(env.HF_HOME, "hub");
  return join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "huggingface", "hub");
}

/** Parses `hf:org/name[@revision]`. */
export function parseHubId(id: string): { repo: string; revision: string } {
  const match = /^hf:([\w.-]+\/[\w.-]+)(?:@([\w./-]+))?$/.exec(id);
  if (!match)
    throw new ModelConfigError(
      `"${id}" is not a hub id; write hf:org/name or hf:org/name@revision`,
    );
  return { repo: match[1], revision: match[2] ?? "main" };
}

/**
 * A snapshot already in the cache (no network): `models--org--name/refs/<rev>` names the commit,
 * `snapshots/<commit>/` holds the files. Returns null when absent or incomplete (config.json and
 * every weights file must be there, so an interrupted download is fetched again).
 */
export function cachedSnapshot(
  repo: string,
  revision: string,
  cacheDir = hubCacheDir(),
): string | null {
  const repoDir = join(cacheDir, `models--${repo.replace("/", "--")}`);
  const refFile = join(repoDir, "refs", revision);
  const commit = existsSync(refFile) ? readFileSync(refFile, "utf8").trim() : revision;
  const snapshot = join(repoDir, "snapshots", commit);
  return snapshotIsComplete(snapshot) ? snapshot : null;
}

function snapshotIsComplete(snapshot: string): boolean {
  if (!existsSync(join(snapshot, "config.json"))) return false;
  if (existsSync(join(snapshot, "model.safetensors"))) return true;
  const index = join(snapshot, "model.safetensors.index.json");
  if (!existsSync(index)) return false;
  try {
    const { weight_map } = JSON.parse(readFileSync(index, "utf8")) as {
      weight_map?: Record<string, string>;
    };
    const shards = new Set(Object.values(weight_map ?? {}));
    return shards.size > 0 && [...shards].every((shard) => existsSync(join(snapshot, shard)));
  } catch {
    return false;
  }
}

const WANTED_FILES =
  /(^|\/)(config\.json|generation_config\.json|tokenizer\.json|tokenizer_config\.json|special_tokens_map\.json|model.*\.safetensors(\.index\.json)?)$/;

/**
 * Finds the model in the cache or downloads it there. A cached branch is trusted as it is; pin a
 * commit (`@<sha>`) for reproducibility. HF_HUB_OFFLINE=1 forbids the network, as in Python.
 */
export async function resolveHubModel(
  id: string,
  cacheDir = hubCacheDir(),
  env: NodeJS.ProcessEnv = process.env,
): Promise<HubModel> {
  const { repo, revision } = parseHubId(id);
  const cached = cachedSnapshot(repo, revision, cacheDir);
  if (cached) return { repo, revision, dir: cached };
  const preDownload = `download it with \`huggingface-cli download ${repo} --revision ${revision}\` into ${cacheDir}`;
  if (env.HF_HUB_OFFLINE === "1" || env.HF_HUB_OFFLINE?.toLowerCase() === "true") {
    throw new HubUnavailableError(
      `${repo}@${revision} is not in the hub cache and HF_HUB_OFFLINE is set; ${preDownload}`,
    );
  }
  try {
    const credentials = env.HF_TOKEN ? { accessToken: env.HF_TOKEN } : {};
    const repoRef = { type: "model" as const, name: repo };
    const wanted: string[] = [];
    for await (const entry of listFiles({ repo: repoRef, revision, ...credentials })) {
      if (entry.type === "file" && WANTED_FILES.test(entry.path)) wanted.push(entry.path);
    }
    let dir = "";
    for (const path of wanted) {
      const local = await downloadFileToCacheDir({
        repo: repoRef,
        path,
        revision,
        cacheDir,
        ...credentials,
      });
      dir = local.slice(0, local.length - path.length - 1);
    }
    if (!dir) throw new Error("the repository has no config.json or safetensors weights");
    return { repo, revision, dir };
  } catch (error) {
    throw new HubUnavailableError(
      `cannot download ${repo}@${revision} from the Hugging Face hub (${(error as Error).message}); ` +
        `check the network and HF_TOKEN, or ${preDownload}`,
    );
  }
}
