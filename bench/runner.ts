// Runner harness overhead and page scaling against a real local API (wrangler dev), on WASM in
// headless Chromium. For each page count, a fresh run of the same documents is evaluated by one
// runner from a cold start (browser launch, checkpoint download, page loads included).
//
//   overhead = runner wall time ÷ (engine time inside it ÷ pages)
// where engine time is the sum of the generate() time the runner reported with every sample.
// 1.00 means every page generated all the time. `warm` leaves out the start (browser launch,
// page build, checkpoint download and load until the first page is ready).
//
//   npx tsx bench/runner.ts [--pages 1,2,4] [--limit 16] [--recurrences 4] [--max-gen-toks 64]
//                           [--model stories|small] [--batch-size 1]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { exportModel } from "../model/export-model.ts";
import { stories260kDir } from "../model/testing/stories.ts";
import { CheckpointCache } from "../runner/cache/checkpoint-cache.ts";
import { Runner } from "../runner/runner.ts";
import { registerGsm8k, startTestStack, uploadCheckpoint } from "../tests/local-stack.ts";

const { values } = parseArgs({
  options: {
    pages: { type: "string", default: "1,2,4" },
    limit: { type: "string", default: "16" },
    recurrences: { type: "string", default: "4" },
    "max-gen-toks": { type: "string", default: "64" },
    model: { type: "string", default: "stories" },
    "batch-size": { type: "string", default: "1" },
  },
});
const pageCounts = values.pages.split(",").map(Number);
const limit = Number(values.limit);
const recurrences = values.recurrences.split(",").map(Number);
const maxGenToks = Number(values["max-gen-toks"]);
const batchSize = Number(values["batch-size"]);

const work = mkdtempSync(join(tmpdir(), "evals-bench-runner-"));
const checkpointDir = join(work, "ckpt");
if (values.model === "stories") {
  await exportModel({ from: stories260kDir, out: checkpointDir, split: [1, 3, 1], seed: 7 });
} else {
  await exportModel({ random: values.model, out: checkpointDir, split: [2, 4, 2], seed: 7 });
}
const stack = await startTestStack();
try {
  const checkpoint = await uploadCheckpoint(stack.submit, checkpointDir);
  await registerGsm8k(stack.submit);
  console.log(
    `model ${values.model}, gsm8k_cot_sean limit ${limit}, r ${recurrences.join(",")}, ` +
      `max_gen_toks ${maxGenToks}, batch ${batchSize}, wasm, cold start per row`,
  );
  console.log("pages  wall s  start s  engine s  samples/s  tokens/s  overhead  warm");
  for (const [i, pages] of pageCounts.entries()) {
    // A new seed makes a new result key, so nothing is reused from the previous row.
    const run = await stack.submit.createRun({
      checkpoint,
      tasks: ["gsm8k_cot_sean"],
      recurrences,
      limit,
      shard_size: Math.max(1, Math.ceil(limit / 8)),
      max_gen_toks: maxGenToks,
      seed: 1000 + i,
    });
    const runner = new Runner({
      client: stack.runner,
      cache: new CheckpointCache({
        dir: join(work, `cache-${pages}`),
        maxBytes: 2 ** 32,
        headers: { authorization: `Bearer ${stack.runnerToken}` },
      }),
      log: (event) => {
        if (event.event === "load") firstLoad ??= performance.now();
      },
      pages,
      backend: "wasm",
      once: true,
      batchSize,
      threads: 1,
      shardTimeoutMs: 3_600_000,
    });
    let firstLoad: number | undefined;
    const t0 = performance.now();
    const summary = await runner.run();
    const wall = (performance.now() - t0) / 1000;
    const samples = await stack.submit.allSamples(run.id);
    if (summary.failures > 0 || samples.length !== limit * recurrences.length)
      throw new Error(`run ${run.id}: ${summary.failures} failures, ${samples.length} samples`);
    const engine = samples.reduce((s, x) => s + x.ms, 0) / 1000;
    const tokens = samples.reduce((s, x) => s + x.generated_tokens, 0);
    const start = ((firstLoad ?? t0) - t0) / 1000;
    const cells = [
      [pages, 5, 0],
      [wall, 6, 1],
      [start, 7, 1],
      [engine, 8, 1],
      [samples.length / wall, 9, 2],
      [tokens / wall, 8, 1],
      [(wall * pages) / engine, 8, 2],
      [((wall - start) * pages) / engine, 4, 2],
    ] as const;
    console.log(cells.map(([v, width, digits]) => v.toFixed(digits).padStart(width)).join("  "));
  }
} finally {
  await stack.stop();
  rmSync(work, { recursive: true, force: true });
}
