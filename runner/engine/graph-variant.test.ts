import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCheckpoint } from "../../model/checkpoint.ts";
import { exportModel } from "../../model/export-model.ts";
import type { Manifest } from "../../model/manifest.ts";
import { stories260kDir } from "../../model/testing/stories.ts";
import { openWasmModelInNode } from "../../model/testing/wasm-in-node.ts";
import { generateBatch } from "./generate.ts";
import { chooseGraphVariant, numericFallback } from "./graph-variant.ts";
import {
  addNumericCheck,
  FP16_COMPUTE_TOLERANCE,
  numericCheckConfig,
  numericCheckFailure,
} from "./numeric-check.ts";

const work = mkdtempSync(join(tmpdir(), "evals-variant-"));
let manifest: Manifest;
/** top-5 of the fp16-compute graphs on onnxruntime-web's WASM kernels (fp16 is correct there). */
let halfTop5: [number, number][];

beforeAll(async () => {
  const out = join(work, "fp16");
  await exportModel({ from: stories260kDir, out, split: [1, 3, 1], seed: 5, dtype: "fp16" });
  await addNumericCheck(out);
  const checkpoint = await readCheckpoint(out);
  manifest = checkpoint.manifest;
  const check = manifest.numeric_check!;
  const model = await openWasmModelInNode(checkpoint, { variant: "webgpu_f16" });
  const [result] = await generateBatch(
    model,
    [{ promptIds: check.input_ids, seed: 0 }],
    numericCheckConfig(check.recurrences),
    () => "",
  );
  halfTop5 = result.top5;
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("which graphs a backend runs", () => {
  it("the fp16-compute graphs only on webgpu with shader-f16 and a numeric check", () => {
    const webgpu = (shaderF16: boolean) =>
      chooseGraphVariant(manifest, { backend: "webgpu", shaderF16 });
    expect(webgpu(true)).toEqual({
      variant: "webgpu_f16",
      reason: "webgpu_f16 graphs (adapter has shader-f16)",
    });
    expect(webgpu(false).variant).toBeNull();
    expect(webgpu(false).reason).toMatch(/lacks shader-f16/);
    const wasm = chooseGraphVariant(manifest, { backend: "wasm", shaderF16: false });
    expect(wasm.variant).toBeNull();
    expect(wasm.reason).toMatch(/for webgpu, not wasm/);
    const unchecked = { ...manifest, numeric_check: null };
    expect(chooseGraphVariant(unchecked, { backend: "webgpu", shaderF16: true }).reason).toMatch(
      /no numeric check/,
    );
    const fp32 = { ...manifest, variants: undefined };
    expect(chooseGraphVariant(fp32, { backend: "webgpu", shaderF16: true }).reason).toMatch(
      /has no fp16-compute graphs/,
    );
    expect(numericFallback("top-1 is token 3").reason).toMatch(
      /webgpu_f16 graphs failed the numeric check: top-1 is token 3/,
    );
  });
});

describe("the numeric check of fp16-compute graphs", () => {
  it("an i8 checkpoint on webgpu: the reason says its linear layers run on the CPU", () => {
    const i8: Manifest = {
      ...manifest,
      dtype: "i8",
      variants: undefined,
      quantization: {
        bits: 8,
        block_size: 32,
        scheme: "symmetric_per_column",
        linear: "DynamicQuantizeMatMul",
        embedding: "block",
      },
    };
    const webgpu = chooseGraphVariant(i8, { backend: "webgpu", shaderF16: true });
    expect(webgpu.variant).toBeNull();
    expect(webgpu.reason).toMatch(/no WebGPU kernel .*CPU \(WASM\).*use --backend wasm/);
    expect(chooseGraphVariant(i8, { backend: "wasm", shaderF16: false }).reason).not.toMatch(
      /WebGPU kernel/,
    );
  });

  it("passes the fp16-compute graphs' own numbers (WASM) against the fp32-compute check", () => {
    expect(
      numericCheckFailure(manifest.numeric_check!, halfTop5, FP16_COMPUTE_TOLERANCE),
    ).toBeNull();
  });

  it("refuses wrong numbers: shifted logits, another top token, missing or non-finite values", () => {
    const check = manifest.numeric_check!;
    const failure = (top5: [number, number][]) =>
      numericCheckFailure(check, top5, FP16_COMPUTE_TOLERANCE);
    const shifted = halfTop5.map(([id, logit]): [number, number] => [id, logit + 1]);
    expect(failure(shifted)).toMatch(/^top-1 is token \d+ with logit/);
    // A silently wrong kernel: the logits scaled by half, the ranking kept.
    const scaled = halfTop5.map(([id, logit]): [number, number] => [id, logit / 2]);
    expect(failure(scaled)).toMatch(/^top-1/);
    const swapped = [halfTop5[2], halfTop5[1], halfTop5[0], ...halfTop5.slice(3)];
    expect(failure(swapped)).toMatch(/^top-1 is token/);
    expect(failure(halfTop5.slice(0, 3))).toBe("missing logit 4");
    const nan = halfTop5.map(([id]): [number, number] => [id, Number.NaN]);
    expect(failure(nan)).toMatch(/^top-1/);
  });
});
