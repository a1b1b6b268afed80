// How far `shared` KV departs from `full`: greedy continuations of stories260k split 1,3,1
// (random adapter, seed 7) on 10 prompts × 48 tokens, per r.  Usage: npx tsx bench/kv-shared.ts
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportModel } from "../model/export-model.ts";
import { STORY_PROMPTS, stories260kDir } from "../model/testing/stories.ts";
import { generateBatch } from "../runner/engine/generate.ts";
import { loadNodeCheckpoint } from "../runner/engine/load-node.ts";

const dir = mkdtempSync(join(tmpdir(), "evals-kv-"));
await exportModel({
  from: stories260kDir,
  out: join(dir, "ckpt"),
  split: [1, 3, 1],
  adapter: "random",
  seed: 7,
});
const loaded = await loadNodeCheckpoint(join(dir, "ckpt"));
const decode = (ids: readonly number[]) => loaded.tokenizer.decode(ids);
const requests = STORY_PROMPTS.slice(0, 10).map((p) => ({
  promptIds: loaded.tokenizer.encodePrompt(p),
  seed: 0,
}));
console.log("r    identical continuations   mean common prefix (of 48)");
for (const r of [1, 2, 4, 8, 16]) {
  const base = {
    recurrences: r,
    maxNewTokens: 48,
    stateInit: "zeros" as const,
    stopIds: [],
    stopStrings: [],
  };
  const full = await generateBatch(loaded.model, requests, { ...base, kv: "full" }, decode);
  const shared = await generateBatch(loaded.model, requests, { ...base, kv: "shared" }, decode);
  let identical = 0;
  let prefix = 0;
  for (let i = 0; i < requests.length; i++) {
    let k = 0;
    while (k < 48 && full[i].ids[k] === shared[i].ids[k]) k++;
    prefix += k;
    if (k === 48) identical++;
  }
  console.log(
    `${String(r).padEnd(4)} ${`${identical}/10`.padStart(23)}   ${(prefix / requests.length).toFixed(1).padStart(26)}`,
  );
}
rmSync(dir, { recursive: true, force: true });
