// Checkpoint load time with and without hashing: the first load hashes every file and records it
// (.verified.json); later loads trust files whose size and mtime are unchanged.
// Usage: npx tsx bench/checkpoint-load.ts [--model <ckpt>]  (default: a fresh `small` random export)
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { checkpointFiles, readCheckpoint } from "../model/checkpoint.ts";
import { exportModel } from "../model/export-model.ts";
import { VERIFIED_FILE } from "../model/verified-files.ts";
import { loadNodeCheckpoint } from "../runner/engine/load-node.ts";

const { values } = parseArgs({ options: { model: { type: "string" } } });
const work = values.model ? null : mkdtempSync(join(tmpdir(), "evals-bench-load-"));
const dir = values.model ?? join(work!, "small");
if (work) await exportModel({ random: "small", out: dir, split: [2, 4, 2], seed: 1 });
rmSync(join(dir, VERIFIED_FILE), { force: true });

const { manifest } = await readCheckpoint(dir, { verify: false });
const bytes = checkpointFiles(manifest).reduce((n, f) => n + statSync(join(dir, f.file)).size, 0);
const time = async (what: string, run: () => Promise<unknown>) => {
  const started = performance.now();
  await run();
  const s = (performance.now() - started) / 1000;
  console.log(`${what.padEnd(44)} ${s.toFixed(2)} s`);
  return s;
};
console.log(`${dir}: ${(bytes / 2 ** 20).toFixed(0)} MiB of files`);
const first = await time("readCheckpoint, first (hashes, records)", () => readCheckpoint(dir));
const again = await time("readCheckpoint, again (size + mtime)", () => readCheckpoint(dir));
await time("loadNodeCheckpoint (sessions + tokenizer)", () => loadNodeCheckpoint(dir));
console.log(`hashing saved per load: ${(first - again).toFixed(2)} s`);
if (work) rmSync(work, { recursive: true, force: true });
