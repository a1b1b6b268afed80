import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  cachedSnapshot,
  HubUnavailableError,
  hubCacheDir,
  parseHubId,
  resolveHubModel,
} from "./hub.ts";
import { stories260kDir } from "./testing/stories.ts";

const cache = mkdtempSync(join(tmpdir(), "evals-hf-"));
afterAll(() => rmSync(cache, { recursive: true, force: true }));

describe("Hugging Face hub cache", () => {
  it("follows HF_HUB_CACHE, then HF_HOME, then ~/.cache", () => {
    expect(hubCacheDir({ HF_HUB_CACHE: "/a", HF_HOME: "/b" })).toBe("/a");
    expect(hubCacheDir({ HF_HOME: "/b" })).toBe("/b/hub");
    expect(hubCacheDir({ XDG_CACHE_HOME: "/c" })).toBe("/c/huggingface/hub");
  });

  it("parses hub ids with and without a revision and rejects others", () => {
    expect(parseHubId("hf:org/name")).toEqual({ repo: "org/name", revision: "main" });
    expect(parseHubId("hf:org/name@v1.0")).toEqual({ repo: "org/name", revision: "v1.0" });
    expect(() => parseHubId("hf:justname")).toThrow(/hf:org\/name/);
  });

  it("reuses a snapshot Python tools already cached, without the network", async () => {
    const repoDir = join(cache, "models--karpathy--stories260k");
    const commit = "0123456789abcdef0123456789abcdef01234567";
    mkdirSync(join(repoDir, "refs"), { recursive: true });
    writeFileSync(join(repoDir, "refs", "main"), commit);
    cpSync(stories260kDir, join(repoDir, "snapshots", commit), { recursive: true });
    expect(cachedSnapshot("karpathy/stories260k", "main", cache)).toBe(
      join(repoDir, "snapshots", commit),
    );
    const model = await resolveHubModel("hf:karpathy/stories260k", cache);
    expect(model).toEqual({
      repo: "karpathy/stories260k",
      revision: "main",
      dir: join(repoDir, "snapshots", commit),
    });
  });

  it("treats a snapshot without all its weights as not cached", () => {
    const repoDir = join(cache, "models--org--sharded");
    const snapshot = join(repoDir, "snapshots", "c0ffee");
    mkdirSync(snapshot, { recursive: true });
    writeFileSync(join(snapshot, "config.json"), "{}");
    expect(cachedSnapshot("org/sharded", "c0ffee", cache)).toBeNull();
    const shards = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"];
    writeFileSync(
      join(snapshot, "model.safetensors.index.json"),
      JSON.stringify({ weight_map: { a: shards[0], b: shards[1] } }),
    );
    writeFileSync(join(snapshot, shards[0]), "");
    expect(cachedSnapshot("org/sharded", "c0ffee", cache)).toBeNull();
    writeFileSync(join(snapshot, shards[1]), "");
    expect(cachedSnapshot("org/sharded", "c0ffee", cache)).toBe(snapshot);
  });

  it("says how to pre-download when the hub cannot be reached", async () => {
    const unreachable = resolveHubModel("hf:nobody/not-cached", cache, {});
    await expect(unreachable).rejects.toThrow(HubUnavailableError);
    await expect(resolveHubModel("hf:nobody/not-cached", cache, {})).rejects.toThrow(
      /cannot download nobody\/not-cached@main .*huggingface-cli download nobody\/not-cached --revision main/,
    );
  }, 60_000);

  it("does not touch the network when HF_HUB_OFFLINE is set", async () => {
    await expect(
      resolveHubModel("hf:nobody/not-cached@v2", cache, { HF_HUB_OFFLINE: "1" }),
    ).rejects.toThrow(/nobody\/not-cached@v2 is not in the hub cache and HF_HUB_OFFLINE is set/);
  });
});
