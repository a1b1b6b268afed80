// Loglikelihood throughput on ARC-Easy (test, zero-shot, BOS): requests/s and documents/s on the
// `small` random checkpoint at r = 1 and 4, on node and wasm, with one prefill per shared context
// and with every pair scored alone. Prints one line per (backend, r, reuse); no assertions.
// Usage: npx tsx bench/loglikelihood.ts [--docs 40] [--batch-size 16] [--backends node,wasm] [--threads 2]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadGeneralTaskData } from "../evals/data/general-datasets.ts";
import { getLoglikelihoodTask } from "../evals/tasks/loglikelihood/registry.ts";
import { buildDocumentRequests } from "../evals/tasks/loglikelihood/render.ts";
import { exportModel } from "../model/export-model.ts";
import { type BackendName, openBackend } from "../runner/backends.ts";

const { values } = parseArgs({
  options: {
    docs: { type: "string", default: "40" },
    "batch-size": { type: "string", default: "16" },
    backends: { type: "string", default: "node,wasm" },
    threads: { type: "string", default: "2" },
  },
});
const DOCS = Number(values.docs);
const BATCH = Number(values["batch-size"]);
const THREADS = Number(values.threads);

const dir = mkdtempSync(join(tmpdir(), "evals-bench-ll-"));
const out = join(dir, "small");
// As bench/engine.ts: the small random model cut into prelude 2, block 4, coda 2.
await exportModel({ random: "small", out, split: [2, 4, 2], seed: 1 });
const task = getLoglikelihoodTask("arc_easy")!;
const data = await loadGeneralTaskData(task);
const documents = await buildDocumentRequests(task, data.docs, null, { limit: DOCS });
const requests = documents.flatMap((doc) => doc.requests);
console.log(
  `arc_easy: ${documents.length} documents, ${requests.length} requests; small random checkpoint (2,4,2); batch ${BATCH}; ${THREADS} threads`,
);

try {
  for (const name of values.backends.split(",") as BackendName[]) {
    const backend = await openBackend(out, name, { threads: THREADS });
    const pairs = await backend.encodePairs(requests, task.addBos);
    const tokens = pairs.reduce(
      (n, p) => n + p.contextIds.length + p.continuationIds.length - 1,
      0,
    );
    for (const r of [1, 4]) {
      for (const reuseContext of [true, false]) {
        const config = { recurrences: r, kv: "full" as const, batchSize: BATCH, reuseContext };
        await backend.loglikelihood(pairs.slice(0, 4), config); // warm-up
        const started = performance.now();
        await backend.loglikelihood(pairs, config);
        const seconds = (performance.now() - started) / 1000;
        console.log(
          `${name.padEnd(5)} r=${r} ${reuseContext ? "shared context" : "pairs alone   "}  ` +
            `${(requests.length / seconds).toFixed(1).padStart(7)} requests/s  ` +
            `${(documents.length / seconds).toFixed(2).padStart(6)} docs/s  ` +
            `(${tokens} input tokens without reuse, ${seconds.toFixed(2)} s)`,
        );
      }
    }
    await backend.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
