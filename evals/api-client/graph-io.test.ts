// readGraphIo against onnxruntime-node's own reading of the same graphs, and against files that
// are not ONNX models.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportModel } from "../../model/export-model.ts";
import { stories260kDir } from "../../model/testing/stories.ts";
import { readGraphIo } from "./graph-io.ts";

let work: string;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "evals-graph-io-"));
  await exportModel({ from: stories260kDir, out: join(work, "ckpt"), split: [1, 3, 1] });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("readGraphIo", () => {
  it.each(["prelude.onnx", "block.onnx", "coda.onnx"])(
    "names %s's inputs and outputs as onnxruntime does",
    async (file) => {
      const path = join(work, "ckpt", file);
      const session = await ort.InferenceSession.create(path);
      expect(await readGraphIo(path)).toEqual({
        inputNames: [...session.inputNames],
        outputNames: [...session.outputNames],
      });
      await session.release();
    },
  );

  it("refuses a file that is not an ONNX model, naming it", async () => {
    const path = join(work, "not-a-model.onnx");
    writeFileSync(path, "this is text, not protobuf");
    await expect(readGraphIo(path)).rejects.toThrow(
      /not-a-model\.onnx is not a readable ONNX model/,
    );
  });
});
