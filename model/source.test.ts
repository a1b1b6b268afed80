import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ModelConfigError, WeightsFileError } from "./errors.ts";
import { hashSourceFiles, loadSourceModel } from "./source.ts";
import { stories260kDir } from "./testing/stories.ts";

const work = mkdtempSync(join(tmpdir(), "evals-source-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("loadSourceModel", () => {
  it("opens a Hugging Face directory: config and tensors by name", () => {
    const source = loadSourceModel(stories260kDir);
    expect(source.config.architecture).toBe("LlamaForCausalLM");
    expect(source.tensors.info("model.layers.4.mlp.down_proj.weight").shape).toEqual([64, 172]);
  });

  it("says what is missing from a directory", () => {
    expect(() => loadSourceModel(join(work, "absent"))).toThrow(ModelConfigError);
    expect(() => loadSourceModel(join(work, "absent"))).toThrow(/model directory not found/);
    const pytorchOnly = join(work, "pytorch-only");
    mkdirSync(pytorchOnly);
    writeFileSync(
      join(pytorchOnly, "config.json"),
      readFileSync(join(stories260kDir, "config.json")),
    );
    writeFileSync(join(pytorchOnly, "pytorch_model.bin"), "");
    expect(() => loadSourceModel(pytorchOnly)).toThrow(WeightsFileError);
    expect(() => loadSourceModel(pytorchOnly)).toThrow(/evals reads safetensors weights only/);
  });
});

describe("hashSourceFiles", () => {
  it("streams sha256 of the files that describe the model, skipping the rest", async () => {
    const dir = join(work, "hashed");
    mkdirSync(join(dir, "sub"), { recursive: true });
    writeFileSync(join(dir, "config.json"), '{"a":1}');
    writeFileSync(join(dir, "model.safetensors"), Buffer.alloc(3 << 20, 7));
    writeFileSync(join(dir, "README.md"), "# notes");
    const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
    expect(await hashSourceFiles(dir)).toEqual({
      "config.json": sha(join(dir, "config.json")),
      "model.safetensors": sha(join(dir, "model.safetensors")),
    });
  });
});
