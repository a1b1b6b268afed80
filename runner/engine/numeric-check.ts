// The numeric check of a checkpoint: top-5 logits that onnxruntime-node computes for a fixed input,
// stored in the manifest at export and reproduced by every backend before it runs real work.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readCheckpoint } from "../../model/checkpoint.ts";
import { MANIFEST_FILE, type Manifest } from "../../model/manifest.ts";
import { generateBatch } from "./generate.ts";
import { openNodeModel } from "./node-sessions.ts";

const CHECK_TOKENS = 8;

/** Computes the check on onnxruntime-node and writes it into the checkpoint's manifest. */
export async function addNumericCheck(
  dir: string,
): Promise<NonNullable<Manifest["numeric_check"]>> {
  const checkpoint = await readCheckpoint(dir);
  const model = await openNodeModel(checkpoint);
  const { vocab_size: vocab } = checkpoint.manifest.architecture;
  const inputIds = Array.from({ length: CHECK_TOKENS }, (_, i) => (i * 7919 + 1) % vocab);
  const recurrences = model.isRecurrent ? 2 : 1;
  const [result] = await generateBatch(
    model,
    [{ promptIds: inputIds, seed: 0 }],
    { recurrences, maxNewTokens: 1, kv: "full", stateInit: "zeros", stopIds: [], stopStrings: [] },
    () => "",
  );
  const check = { input_ids: inputIds, recurrences, top5: result.top5 };
  const path = join(dir, MANIFEST_FILE);
  const raw = JSON.parse(readFileSync(path, "utf8"));
  writeFileSync(path, `${JSON.stringify({ ...raw, numeric_check: check }, null, 2)}\n`);
  return check;
}

/** Describes how `top5` departs from the manifest's check, or returns null when it agrees. */
export function numericCheckFailure(
  expected: NonNullable<Manifest["numeric_check"]>,
  top5: readonly (readonly [number, number])[],
  tolerance = { atol: 1e-3, rtol: 1e-3 },
): string | null {
  for (const [k, [id, logit]] of expected.top5.entries()) {
    const got = top5[k];
    if (!got) return `missing logit ${k + 1}`;
    const close = Math.abs(got[1] - logit) <= tolerance.atol + tolerance.rtol * Math.abs(logit);
    if (!close || (got[0] !== id && Math.abs(got[1] - logit) > tolerance.atol)) {
      return `top-${k + 1} is token ${got[0]} with logit ${got[1].toFixed(5)}; expected token ${id} with ${logit.toFixed(5)}`;
    }
  }
  return null;
}
