// `evals generate` through the real command line: JSON records, and one-line errors with exit 2.
// The binary runs for the first generation; the refusals call the same program in-process
// (tests/cli.ts).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportModel } from "../model/export-model.ts";
import { MANIFEST_FILE } from "../model/manifest.ts";
import { openSafetensors } from "../model/safetensors.ts";
import { sha256File } from "../model/source.ts";
import { stories260kDir } from "../model/testing/stories.ts";
import { type TestTensor, writeSafetensors } from "../model/testing/write-safetensors.ts";
import { runCli, runCliInProcess } from "./cli.ts";

const work = mkdtempSync(join(tmpdir(), "evals-gen-cli-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const ckpt = join(work, "ckpt");

beforeAll(async () => {
  await exportModel({ from: stories260kDir, out: ckpt, split: [1, 3, 1], seed: 1 });
});

describe("evals generate", () => {
  it("prints one JSON record per prompt with the documented fields", async () => {
    const prompts = join(work, "prompts.jsonl");
    writeFileSync(
      prompts,
      `${JSON.stringify({ prompt: "Once upon a time" })}\n\n${JSON.stringify({ prompt: "Tom", seed: 3 })}\n`,
    );
    const result = await runCli([
      "generate",
      "--model",
      ckpt,
      "--prompts-file",
      prompts,
      "--recurrences",
      "2",
      "--max-new-tokens",
      "8",
      "--json",
      "--batch-size",
      "2",
      "--state-init",
      "normal",
    ]);
    expect(result.code).toBe(0);
    const records = result.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(records).toHaveLength(2);
    for (const key of [
      "prompt",
      "prompt_ids",
      "ids",
      "text",
      "top5",
      "recurrences",
      "backend",
      "kv",
      "state_init",
      "seed",
      "ms",
    ]) {
      expect(records[0]).toHaveProperty(key);
    }
    expect(records[0].prompt_ids[0]).toBe(1);
    expect(records[1]).toMatchObject({
      seed: 3,
      recurrences: 2,
      backend: "node",
      kv: "full",
      state_init: "normal",
    });
    expect(records[0].top5).toHaveLength(5);
  });

  const longPrompt = "the cat sat on the mat and ".repeat(60);
  const cases: [string, string[], RegExp][] = [
    [
      "r < 1",
      ["--prompt", "Hi", "--recurrences", "0"],
      /recurrences 0 must be an integer from 1 to 256/,
    ],
    ["r > 256", ["--prompt", "Hi", "--recurrences", "257"], /recurrences 257/],
    ["an empty prompt", ["--prompt", "  "], /--prompt is empty/],
    [
      "a prompt longer than the model's positions",
      ["--prompt", longPrompt],
      /needs \d+ positions but the model has 512/,
    ],
    ["an unknown backend", ["--prompt", "Hi", "--backend", "cuda"], /--backend/],
  ];
  it.each(cases)("refuses %s", async (_, args, message) => {
    const result = await runCliInProcess(["generate", "--model", ckpt, ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("refuses a checkpoint whose graphs disagree with the manifest", async () => {
    const other = join(work, "other");
    await exportModel({ from: stories260kDir, out: other, split: [1, 2, 1], seed: 1 });
    const broken = join(work, "broken");
    cpSync(ckpt, broken, { recursive: true });
    for (const file of ["block.onnx", "block.onnx.data"])
      cpSync(join(other, file), join(broken, file));
    const manifest = JSON.parse(readFileSync(join(broken, MANIFEST_FILE), "utf8"));
    const block = manifest.graphs.block;
    block.sha256 = await sha256File(join(broken, "block.onnx"));
    block.bytes = readFileSync(join(broken, "block.onnx")).length;
    block.externalData.sha256 = await sha256File(join(broken, "block.onnx.data"));
    block.externalData.bytes = readFileSync(join(broken, "block.onnx.data")).length;
    writeFileSync(join(broken, MANIFEST_FILE), JSON.stringify(manifest));
    const result = await runCliInProcess(["generate", "--model", broken, "--prompt", "Hi"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /block\.onnx disagrees with recurrent\.json \(3 block layers\): missing inputs past_key_values\.2\.key/,
    );
  });

  it("refuses a corrupted graph file by its hash", async () => {
    const corrupt = join(work, "corrupt");
    cpSync(ckpt, corrupt, { recursive: true });
    const path = join(corrupt, "coda.onnx");
    const bytes = readFileSync(path);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(path, bytes);
    const result = await runCliInProcess(["generate", "--model", corrupt, "--prompt", "Hi"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/coda\.onnx does not match its sha256/);
  });

  it("names the graph and the iteration when the state turns NaN or Inf", async () => {
    const source = join(work, "exploding-source");
    cpSync(stories260kDir, source, { recursive: true });
    const st = openSafetensors(join(source, "model.safetensors"));
    const tensors: Record<string, TestTensor> = {};
    for (const [name, info] of st.tensors)
      tensors[name] = { data: st.read(name), shape: info.shape };
    tensors["model.layers.2.mlp.down_proj.weight"].data.fill(3e38);
    writeSafetensors(join(source, "model.safetensors"), tensors);
    const exploding = join(work, "exploding");
    await exportModel({ from: source, out: exploding, split: [1, 3, 1], seed: 1 });
    const result = await runCliInProcess([
      "generate",
      "--model",
      exploding,
      "--prompt",
      "Hi",
      "--recurrences",
      "3",
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/(NaN|Inf) in the output of block\.onnx at recurrence 1/);
  });
});
