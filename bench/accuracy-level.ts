// What MatMulNBits' accuracy_level costs and buys: exports stories260k (1,3,1) and the random
// `small` preset (2,4,2) at q8 and q4 with each accuracy level given, runs the export's fidelity
// gate (GSM8K prompts, teacher-forced, vs fp32), times a greedy decode on onnxruntime-node
// (1 thread, no spinning) and prints how far onnxruntime-web's WASM logits are from node's on the
// same graphs (the numeric check's concern: WASM ignores the attribute). `i8` (no level) runs
// beside them for comparison.
// Usage: npx tsx bench/accuracy-level.ts [--levels 0,4] [--quants q8,q4,i8] [--models stories,small]
//   [--prompts 8] [--tokens 32]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { readCheckpoint } from "../model/checkpoint.ts";
import { type ExportRequest, exportModel } from "../model/export-model.ts";
import { maxAbsDifference, ortLogits } from "../model/testing/ort-logits.ts";
import { stories260kDir } from "../model/testing/stories.ts";
import { openWasmModelInNode } from "../model/testing/wasm-in-node.ts";
import { generateBatch } from "../runner/engine/generate.ts";
import { openNodeModel } from "../runner/engine/node-sessions.ts";

const { values } = parseArgs({
  options: {
    levels: { type: "string", default: "0,4" },
    quants: { type: "string", default: "q8,q4,i8" },
    models: { type: "string", default: "stories,small" },
    prompts: { type: "string", default: "8" },
    tokens: { type: "string", default: "32" },
    "decode-tokens": { type: "string", default: "16" },
  },
});

const ALL_MODELS: { key: string; label: string; request: Omit<ExportRequest, "out"> }[] = [
  {
    key: "stories",
    label: "stories260k 1,3,1",
    request: { from: stories260kDir, split: [1, 3, 1] },
  },
  { key: "small", label: "small 2,4,2", request: { random: "small", split: [2, 4, 2] } },
];
const MODELS = ALL_MODELS.filter((model) => values.models.split(",").includes(model.key));
const work = mkdtempSync(join(tmpdir(), "evals-bench-accuracy-"));
const prompt = [1, 40, 50, 60, 70, 80, 90, 100];

console.log(
  "model               quant level  r   top-1    KL mean   KL max   node ms/token (r=4)  |wasm-node| logits",
);
try {
  for (const { label, request } of MODELS) {
    for (const quant of values.quants.split(",") as ("q8" | "q4" | "i8")[]) {
      const levels = quant === "i8" ? [undefined] : values.levels.split(",").map(Number);
      for (const level of levels) {
        const out = join(work, `${label.split(" ")[0]}-${quant}-${level}`);
        const manifest = await exportModel({
          ...request,
          out,
          dtype: quant,
          accuracyLevel: level,
          fidelity: { prompts: Number(values.prompts), tokens: Number(values.tokens) },
        });
        const checkpoint = await readCheckpoint(out);
        const node = await openNodeModel(checkpoint, { threads: 1 });
        const decodeTokens = Number(values["decode-tokens"]);
        const config = {
          recurrences: 4,
          maxNewTokens: decodeTokens,
          kv: "full" as const,
          stateInit: "zeros" as const,
          stopIds: [],
          stopStrings: [],
        };
        await generateBatch(
          node,
          [{ promptIds: prompt, seed: 0 }],
          { ...config, maxNewTokens: 2 },
          () => "",
        );
        const t0 = performance.now();
        await generateBatch(node, [{ promptIds: prompt, seed: 0 }], config, () => "");
        const msPerToken = (performance.now() - t0) / decodeTokens;
        const wasm = await openWasmModelInNode(checkpoint);
        const gap = maxAbsDifference(
          await ortLogits(wasm, prompt, 2),
          await ortLogits(node, prompt, 2),
        );
        for (const row of manifest.fidelity?.per_recurrence ?? []) {
          console.log(
            [
              label.padEnd(19),
              quant.padEnd(5),
              String(level ?? "-").padStart(5),
              String(row.recurrences).padStart(3),
              `${(100 * row.top1_agreement).toFixed(1)}%`.padStart(7),
              row.mean_kl.toExponential(2).padStart(9),
              row.max_kl.toExponential(2).padStart(9),
              row.recurrences === 1 ? msPerToken.toFixed(1).padStart(20) : "".padStart(20),
              row.recurrences === 1 ? gap.toExponential(2).padStart(20) : "",
            ].join(" "),
          );
        }
      }
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
