// Threads and spinning: decode time per token on the `small` random checkpoint (split 2,4,2) at
// 1 and 2 intra-op threads, with ORT's spinning pool and without, per backend; ratios against
// 1 thread without spinning side by side. The defaults in runner/engine/node-sessions.ts and
// runner/backends.ts come from these figures.
// Usage: npx tsx bench/threads.ts [--backends node,wasm] [--new-tokens 16] [--repeats 5]
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { exportModel } from "../model/export-model.ts";
import { type BackendName, openBackend } from "../runner/backends.ts";

const { values } = parseArgs({
  options: {
    backends: { type: "string", default: "node,wasm" },
    "new-tokens": { type: "string", default: "16" },
    "prompt-tokens": { type: "string", default: "32" },
    repeats: { type: "string", default: "5" },
  },
});
const NEW = Number(values["new-tokens"]);
const PROMPT = Number(values["prompt-tokens"]);
const REPEATS = Number(values.repeats);
const SHAPES = [
  { batch: 1, r: 1 },
  { batch: 1, r: 4 },
  { batch: 8, r: 4 },
];
const SETTINGS = [
  { threads: 1, spinning: false },
  { threads: 1, spinning: true },
  { threads: 2, spinning: false },
  { threads: 2, spinning: true },
];

const dir = mkdtempSync(join(tmpdir(), "evals-bench-threads-"));
const out = join(dir, "small");
await exportModel({ random: "small", out, split: [2, 4, 2], seed: 1 });
const prompt = (b: number) =>
  Array.from({ length: PROMPT }, (_, i) => 3 + ((i * 31 + b * 7) % 4000));

const requestsOf = (batch: number) =>
  Array.from({ length: batch }, (_, b) => ({ promptIds: prompt(b), seed: b }));
const configOf = (r: number, maxNewTokens = NEW) => ({
  recurrences: r,
  maxNewTokens,
  kv: "full" as const,
  stateInit: "zeros" as const,
  stopIds: [],
  stopStrings: [],
});
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(
  `small random 2,4,2, prompt ${PROMPT}, ${NEW} new tokens (prefill included), median of ${REPEATS}; ` +
    `${cpus().length} cores, load ${loadavg()[0].toFixed(1)} at start`,
);
for (const name of values.backends.split(",") as BackendName[]) {
  // Every setting is open at once and the repeats rotate through them, so a change in the
  // machine's load (it is shared) falls on all settings alike.
  const backends = [];
  for (const setting of SETTINGS) backends.push(await openBackend(out, name, setting));
  for (const backend of backends) await backend.generate(requestsOf(1), configOf(1, 2));
  const seconds = new Map<string, number[]>();
  for (let k = 0; k < REPEATS; k++) {
    for (const { batch, r } of SHAPES) {
      for (const [i, setting] of SETTINGS.entries()) {
        const started = performance.now();
        await backends[i].generate(requestsOf(batch), configOf(r));
        const key = `${setting.threads}/${setting.spinning}/${batch}/${r}`;
        seconds.set(key, [...(seconds.get(key) ?? []), (performance.now() - started) / 1000 / NEW]);
      }
    }
  }
  for (const backend of backends) await backend.close();
  console.log(
    `\n${name}: s/token, and in brackets 1-thread-no-spin time ÷ this (above 1 = faster); load ${loadavg()[0].toFixed(1)} at end`,
  );
  console.log(
    `batch  r  ${SETTINGS.map((s) => `${s.threads}t ${s.spinning ? "spin" : "nospin"}`.padStart(17)).join("")}`,
  );
  for (const { batch, r } of SHAPES) {
    const base = median(seconds.get(`1/false/${batch}/${r}`)!);
    const cells = SETTINGS.map((s) => {
      const t = median(seconds.get(`${s.threads}/${s.spinning}/${batch}/${r}`)!);
      return `${t.toFixed(4)} (${(base / t).toFixed(2)}×)`.padStart(17);
    });
    console.log(`${String(batch).padStart(5)} ${String(r).padStart(2)}  ${cells.join("")}`);
  }
}
rmSync(dir, { recursive: true, force: true });
