// validateCheckpoint runs the manifest's numeric check: a checkpoint whose weights hold NaN (with
// hashes that match, as an export from NaN weights would have) is refused, naming the file.
import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportModel } from "../../model/export-model.ts";
import { stories260kDir } from "../../model/testing/stories.ts";
import { addNumericCheck, CheckpointNumericsError } from "../../runner/engine/numeric-check.ts";
import { validateCheckpoint } from "./validate-checkpoint.ts";

const work = mkdtempSync(join(tmpdir(), "evals-validate-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const clean = join(work, "clean");

// Rewrites a checkpoint file and its size and sha256 in recurrent.json, so only numerics differ.
function rewrite(dir: string, file: string, edit: (bytes: Buffer) => Buffer): void {
  const bytes = edit(readFileSync(join(dir, file)));
  writeFileSync(join(dir, file), bytes);
  const manifestPath = join(dir, "recurrent.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  for (const graph of Object.values(manifest.graphs) as ({
    externalData: { file: string } | null;
  } | null)[]) {
    if (graph?.externalData?.file === file)
      Object.assign(graph.externalData, { sha256, bytes: bytes.length });
  }
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
}

// Every float32 of the file set to NaN (IEEE 754 quiet NaN, 0x7fc00000).
const allNaN = (bytes: Buffer) => {
  const out = Buffer.alloc(bytes.length);
  for (let i = 0; i + 4 <= out.length; i += 4) out.writeUInt32LE(0x7fc00000, i);
  return out;
};

describe("validateCheckpoint's numeric check", () => {
  beforeAll(async () => {
    await exportModel({ from: stories260kDir, out: clean, split: [1, 3, 1] });
    await addNumericCheck(clean);
  }, 120_000);

  it("passes the checkpoint as exported", async () => {
    const valid = await validateCheckpoint(clean);
    expect(valid.files.map((f) => f.name)).toContain("block.onnx.data");
  });

  it("refuses NaN weights in the block, naming block.onnx.data and the fix", async () => {
    const poisoned = join(work, "nan-block");
    cpSync(clean, poisoned, { recursive: true });
    rewrite(poisoned, "block.onnx.data", allNaN);
    const refused = validateCheckpoint(poisoned);
    await expect(refused).rejects.toThrow(CheckpointNumericsError);
    await expect(refused).rejects.toThrow(
      new RegExp(`^${join(poisoned, "block.onnx.data")}: the weights give NaN .*evals export`),
    );
  });

  it("refuses weights changed since export (finite, other logits than the manifest's check)", async () => {
    const changed = join(work, "scaled-coda");
    cpSync(clean, changed, { recursive: true });
    // Every float32 of the coda's weights times 3: finite, but the logits move far past tolerance.
    rewrite(changed, "coda.onnx.data", (bytes) => {
      const out = Buffer.from(bytes);
      for (let i = 0; i + 4 <= out.length; i += 4) out.writeFloatLE(out.readFloatLE(i) * 3, i);
      return out;
    });
    await expect(validateCheckpoint(changed)).rejects.toThrow(
      /recurrent\.json: the weights no longer give the numeric check's logits \(top-1/,
    );
  });
});
