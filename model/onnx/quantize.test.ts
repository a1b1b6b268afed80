import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generateBatch } from "../../runner/engine/generate.ts";
import { openNodeModel } from "../../runner/engine/node-sessions.ts";
import {
  addNumericCheck,
  FP32_TOLERANCE,
  INT8_ACTIVATION_TOLERANCE,
  numericCheckFailure,
  numericToleranceOf,
} from "../../runner/engine/numeric-check.ts";
import { readCheckpoint } from "../checkpoint.ts";
import { exportModel } from "../export-model.ts";
import { referenceLogits } from "../reference.ts";
import { loadSourceModel } from "../source.ts";
import { buildRecurrentWeights } from "../surgery.ts";
import {
  ortLogits,
  paddedBatchLogits,
  toleranceRatio,
  top1Agreement,
} from "../testing/ort-logits.ts";
import { STORY_PROMPTS, stories260kDir, stories260kTokenizer } from "../testing/stories.ts";
import { openWasmModelInNode } from "../testing/wasm-in-node.ts";
import type { LayerWeights, RecurrentWeights } from "../weights.ts";
import { onnx } from "./proto.ts";
import { type QuantBits, quantizeBlockwise, quantizeColumnsSymmetric } from "./quantize.ts";

// Unpacks codes and zero points as onnxruntime's MatMulNBits spec lays them out — B [N, blocks,
// blockSize·bits/8] with the first of two 4-bit codes in the low nibble, zero points one row of
// ceil(blocks·bits/8) bytes per N — and dequantizes by the spec's formula (q − zero_point)·scale.
function dequantize(
  q: ReturnType<typeof quantizeBlockwise>,
  cols: number,
  bits: QuantBits,
  blockSize: number,
): Float32Array {
  const nibble = (bytes: Uint8Array, i: number) =>
    bits === 8 ? bytes[i] : i % 2 === 0 ? bytes[i >> 1] & 0x0f : bytes[i >> 1] >> 4;
  const zpRow = Math.ceil((q.blocks * bits) / 8);
  const out = new Float32Array(q.rows * cols);
  for (let n = 0; n < q.rows; n++) {
    for (let k = 0; k < cols; k++) {
      const block = Math.floor(k / blockSize);
      const code = nibble(q.data, (n * q.blocks + block) * blockSize + (k % blockSize));
      const zeroPoint = nibble(q.zeroPoints.subarray(n * zpRow), block);
      out[n * cols + k] = (code - zeroPoint) * q.scales[n * q.blocks + block];
    }
  }
  return out;
}

describe("quantizeBlockwise", () => {
  // One 32-weight block: min −1.5, max 3.0, so 4 bits give scale 4.5/15 = 0.3 and zero point
  // round(1.5/0.3) = 5; 8 bits give scale 4.5/255 and zero point round(1.5·255/4.5) = 85.
  const block = new Float32Array(32);
  block.set([-1.5, 3.0, 0, 0.31, 0.44, -0.16]);

  it("4 bits: scale, zero point and low-nibble-first codes of a hand-computed block", () => {
    const q = quantizeBlockwise(block, 1, 32, 4, 32);
    expect(q.scales[0]).toBeCloseTo(0.3, 7);
    expect([...q.zeroPoints]).toEqual([5]);
    // codes: −1.5→0, 3.0→15, 0→5, 0.31→6, 0.44→round(1.467)+5=6, −0.16→round(−0.533)+5=4
    expect([...q.data.subarray(0, 3)]).toEqual([0x00 | (15 << 4), 5 | (6 << 4), 6 | (4 << 4)]);
    expect(q.data.length).toBe(16);
    expect([...q.data.subarray(3)]).toEqual(new Array(13).fill(0x55)); // zeros are code 5
    const back = dequantize(q, 32, 4, 32);
    expect([...back.subarray(0, 6)].map((v) => Number(v.toFixed(4)))).toEqual([
      -1.5, 3, 0, 0.3, 0.3, -0.3,
    ]);
  });

  it("8 bits: one byte per code, error at most half a step", () => {
    const q = quantizeBlockwise(block, 1, 32, 8, 32);
    expect(q.scales[0]).toBeCloseTo(4.5 / 255, 7);
    expect([...q.zeroPoints]).toEqual([85]);
    expect([...q.data.subarray(0, 4)]).toEqual([0, 255, 85, 85 + Math.round(0.31 / (4.5 / 255))]);
    const back = dequantize(q, 32, 8, 32);
    for (let i = 0; i < 32; i++) {
      expect(Math.abs(back[i] - block[i])).toBeLessThanOrEqual(4.5 / 255 / 2 + 1e-7);
    }
  });

  it("a partial last block is padded with zeros and zero points pack two per byte per row", () => {
    const w = Float32Array.from({ length: 2 * 40 }, (_, i) => Math.sin(i * 0.7) * (1 + (i % 5)));
    const q = quantizeBlockwise(w, 2, 40, 4, 32);
    expect(q.blocks).toBe(2);
    expect(q.data.length).toBe(2 * 2 * 16);
    expect(q.zeroPoints.length).toBe(2); // one byte holds the row's two zero points
    const back = dequantize(q, 40, 4, 32);
    for (let i = 0; i < w.length; i++) {
      const scale = q.scales[Math.floor(i / 40) * 2 + Math.floor((i % 40) / 32)];
      expect(Math.abs(back[i] - w[i])).toBeLessThanOrEqual(scale / 2 + 1e-6);
    }
  });

  it("is deterministic and rejects a block size MatMulNBits cannot take", () => {
    const w = Float32Array.from({ length: 64 }, (_, i) => Math.cos(i));
    expect(quantizeBlockwise(w, 2, 32, 4, 16)).toEqual(quantizeBlockwise(w, 2, 32, 4, 16));
    expect(() => quantizeBlockwise(w, 2, 32, 4, 24)).toThrow(/power of two/);
    expect(() => quantizeBlockwise(w, 2, 32, 4, 8)).toThrow(/power of two/);
  });
});

const work = mkdtempSync(join(tmpdir(), "evals-quant-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Every linear layer's weight (and the adapter's) passed through `round(weight, rows, cols)`. */
function mapLinearWeights(
  w: RecurrentWeights,
  round: (a: Float32Array, rows: number, cols: number) => Float32Array,
): Pick<RecurrentWeights, "prelude" | "block" | "coda" | "adapter"> {
  const d = w.dims;
  const qDim = d.numHeads * d.headDim;
  const kvDim = d.numKvHeads * d.headDim;
  const h = d.hiddenSize;
  const layer = (l: LayerWeights): LayerWeights => ({
    ...l,
    q: round(l.q, qDim, h),
    k: round(l.k, kvDim, h),
    v: round(l.v, kvDim, h),
    o: round(l.o, h, qDim),
    gate: round(l.gate, d.intermediateSize, h),
    up: round(l.up, d.intermediateSize, h),
    down: round(l.down, h, d.intermediateSize),
  });
  return {
    prelude: w.prelude.map(layer),
    block: w.block.map(layer),
    coda: w.coda.map(layer),
    adapter: w.adapter && round(w.adapter, h, 2 * h),
  };
}

/** Every linear weight replaced by its quantized-then-dequantized value (norms untouched). */
function dequantizedWeights(w: RecurrentWeights, bits: QuantBits, blockSize: number) {
  const d = w.dims;
  const round = (a: Float32Array, rows: number, cols: number) =>
    dequantize(quantizeBlockwise(a, rows, cols, bits, blockSize), cols, bits, blockSize);
  const embed = round(w.embed, d.vocabSize, d.hiddenSize);
  return {
    ...w,
    ...mapLinearWeights(w, round),
    embed,
    head: w.tiedEmbeddings ? embed : round(w.head, d.vocabSize, d.hiddenSize),
  };
}

describe("q8/q4 exports (MatMulNBits, GatherBlockQuantized)", () => {
  const tokenizer = stories260kTokenizer();
  const ids = tokenizer.encode(STORY_PROMPTS[2]).ids;
  const surgery = { split: [1, 3, 1] as [number, number, number], seed: 3 };
  const weights = buildRecurrentWeights(loadSourceModel(stories260kDir), surgery);

  for (const dtype of ["q8", "q4"] as const) {
    it(`${dtype}: onnxruntime-node and -web (wasm) compute the reference forward of the dequantized weights`, async () => {
      const out = join(work, dtype);
      const manifest = await exportModel({ from: stories260kDir, out, ...surgery, dtype });
      expect(manifest.dtype).toBe(dtype);
      expect(manifest.quantization).toEqual({
        bits: dtype === "q8" ? 8 : 4,
        block_size: 32,
        scheme: "asymmetric",
        linear: "MatMulNBits",
        embedding: "block",
        accuracy_level: 0,
      });
      expect(accuracyLevels(out)).toEqual(new Set([0]));
      const checkpoint = await readCheckpoint(out);
      const expected = referenceLogits(
        dequantizedWeights(weights, manifest.quantization!.bits, 32),
        ids,
        {
          recurrences: 2,
        },
      );
      const node = await ortLogits(await openNodeModel(checkpoint), ids, 2);
      expect(toleranceRatio(node, expected, 2e-3, 2e-3)).toBeLessThanOrEqual(1);
      const wasm = await ortLogits(await openWasmModelInNode(checkpoint), ids, 2);
      expect(toleranceRatio(wasm, node, 1e-4, 1e-4)).toBeLessThanOrEqual(1);
      // And close to the fp32 model: q8 picks the same next token at (nearly) every position.
      if (dtype === "q8") {
        const fp32 = referenceLogits(weights, ids, { recurrences: 2 });
        expect(top1Agreement(node, fp32, manifest.architecture.vocab_size)).toBeGreaterThanOrEqual(
          0.9,
        );
      }
    });
  }

  it("--quant-block-size 64 and 128 (embedding then fp16); a bad block size is refused", async () => {
    const manifest = await exportModel({
      from: stories260kDir,
      out: join(work, "q4-64"),
      ...surgery,
      dtype: "q4",
      quantBlockSize: 64,
    });
    expect(manifest.quantization?.block_size).toBe(64);
    // 128 is not a divisor of the hidden size (64): the embedding falls back to fp16 rows.
    const out = join(work, "q4-128");
    const fp16Embedding = await exportModel({
      from: stories260kDir,
      out,
      ...surgery,
      dtype: "q4",
      quantBlockSize: 128,
    });
    expect(fp16Embedding.quantization?.embedding).toBe("fp16");
    const logits = await ortLogits(await openNodeModel(await readCheckpoint(out)), ids, 1);
    expect(logits.every(Number.isFinite)).toBe(true);
    await expect(
      exportModel({
        from: stories260kDir,
        out: join(work, "bad"),
        dtype: "q4",
        quantBlockSize: 48,
      }),
    ).rejects.toThrow(/--quant-block-size 48: .*power of two/);
    await expect(
      exportModel({
        from: stories260kDir,
        out: join(work, "bad"),
        dtype: "fp16",
        quantBlockSize: 64,
      }),
    ).rejects.toThrow(/--quant-block-size applies to --quant/);
  });

  it("--accuracy-level 4 lands on every MatMulNBits node and in the manifest; bad levels are refused", async () => {
    const out = join(work, "q8-level4");
    const manifest = await exportModel({
      from: stories260kDir,
      out,
      ...surgery,
      dtype: "q8",
      accuracyLevel: 4,
    });
    expect(manifest.quantization?.accuracy_level).toBe(4);
    expect(accuracyLevels(out)).toEqual(new Set([4]));
    // node computes the numeric check with int8 activations, WASM in float: only the looser
    // tolerance such graphs get lets WASM reproduce it.
    const check = await addNumericCheck(out);
    const wasm = await openWasmModelInNode(await readCheckpoint(out));
    const [result] = await generateBatch(
      wasm,
      [{ promptIds: check.input_ids, seed: 0 }],
      {
        recurrences: check.recurrences,
        maxNewTokens: 1,
        kv: "full",
        stateInit: "zeros",
        stopIds: [],
        stopStrings: [],
      },
      () => "",
    );
    expect(numericCheckFailure(check, result.top5, FP32_TOLERANCE)).not.toBeNull();
    expect(numericToleranceOf(manifest)).toBe(INT8_ACTIVATION_TOLERANCE);
    expect(numericCheckFailure(check, result.top5, numericToleranceOf(manifest))).toBeNull();
    const bad = (dtype: "q8" | "i8" | "fp32", accuracyLevel: number) =>
      exportModel({ from: stories260kDir, out: join(work, "bad"), dtype, accuracyLevel });
    await expect(bad("q8", 5)).rejects.toThrow(/--accuracy-level 5: MatMulNBits takes 0 /);
    await expect(bad("i8", 4)).rejects.toThrow(/--accuracy-level applies to --quant q8\|q4/);
    await expect(bad("fp32", 0)).rejects.toThrow(/--accuracy-level applies to --quant q8\|q4/);
  });
});

/** The nodes of every graph of a checkpoint, decoded from the ONNX files. */
function graphNodes(dir: string) {
  return ["prelude", "block", "coda"].flatMap(
    (name) => onnx.ModelProto.decode(readFileSync(join(dir, `${name}.onnx`))).graph?.node ?? [],
  );
}

/** The `accuracy_level` attributes of a checkpoint's MatMulNBits nodes. */
function accuracyLevels(dir: string): Set<number> {
  const nodes = graphNodes(dir).filter((node) => node.opType === "MatMulNBits");
  expect(nodes.length).toBeGreaterThan(0);
  return new Set(
    nodes.map((node) => Number(node.attribute?.find((a) => a.name === "accuracy_level")?.i)),
  );
}

describe("quantizeColumnsSymmetric", () => {
  it("int8 codes of Wᵀ [K, N] with one scale per output column, hand-computed", () => {
    // W [3, 3] in the [out, in] layout. Row 0: max |w| 2.54, scale 0.02: codes 127, −50, 15.
    // Row 1 is all zeros (scale 1). Row 2: max |w| 0.5, scale 0.5/127: −127, round(50.8) = 51, 0.
    const w = Float32Array.from([2.54, -1, 0.3, 0, 0, 0, -0.5, 0.2, 0]);
    const q = quantizeColumnsSymmetric(w, 3, 3);
    expect(q.scales[0]).toBeCloseTo(0.02, 7);
    expect(q.scales[1]).toBe(1);
    expect(q.scales[2]).toBeCloseTo(0.5 / 127, 9);
    // B = Wᵀ, row-major [K, N]: B[i][n] = code of W[n][i].
    expect([...q.codes]).toEqual([127, 0, -127, -50, 0, 51, 15, 0, 0]);
  });
});

/**
 * Every linear weight (adapter and lm_head included) replaced by its int8 value as model/graphs.md
 * specifies it (scale = max |w| / 127 per output row, round half away from zero, q · scale); the
 * embedding block-quantized at 8 bits as in q8.
 */
function int8Weights(w: RecurrentWeights): RecurrentWeights {
  const d = w.dims;
  const round = (a: Float32Array, rows: number, cols: number) => {
    const out = new Float32Array(a.length);
    for (let r = 0; r < rows; r++) {
      const row = a.subarray(r * cols, (r + 1) * cols);
      const max = row.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const scale = Math.fround(max > 0 ? max / 127 : 1);
      row.forEach((v, i) => {
        out[r * cols + i] = Math.sign(v) * Math.round(Math.abs(v) / scale) * scale;
      });
    }
    return out;
  };
  const h = d.hiddenSize;
  return {
    ...w,
    ...mapLinearWeights(w, round),
    embed: dequantize(quantizeBlockwise(w.embed, d.vocabSize, h, 8, 32), h, 8, 32),
    head: round(w.head, d.vocabSize, h),
  };
}

describe("i8 exports (MatMulInteger, per-row int8 activations)", () => {
  const tokenizer = stories260kTokenizer();
  const ids = tokenizer.encode(STORY_PROMPTS[2]).ids;
  const surgery = { split: [1, 3, 1] as [number, number, number], seed: 3 };
  const weights = buildRecurrentWeights(loadSourceModel(stories260kDir), surgery);

  it("node and wasm compute the reference forward of the int8 weights with int8 activations; fidelity recorded; same bytes twice", async () => {
    const out = join(work, "i8");
    const manifest = await exportModel({
      from: stories260kDir,
      out,
      ...surgery,
      dtype: "i8",
      fidelity: { prompts: 1, tokens: 4 },
    });
    expect(manifest.dtype).toBe("i8");
    expect(manifest.quantization).toEqual({
      bits: 8,
      block_size: 32,
      scheme: "symmetric_per_column",
      linear: "MatMulInteger",
      embedding: "block",
    });
    expect(manifest.fidelity?.per_recurrence.map((row) => row.recurrences)).toEqual([1, 4, 32]);
    expect((await readCheckpoint(out)).manifest.fidelity).toEqual(manifest.fidelity);
    // Every linear layer is one DynamicQuantizeMatMul: 7 per decoder layer, the adapter, the head.
    const ops = graphNodes(out).map((node) => node.opType);
    const count = (op: string) => ops.filter((o) => o === op).length;
    expect(count("MatMulInteger")).toBe(7 * 5 + 2);
    expect(count("DynamicQuantizeMatMul")).toBe(0);
    expect([count("MatMulNBits"), count("GatherBlockQuantized")]).toEqual([0, 1]);

    const checkpoint = await readCheckpoint(out);
    const int8 = int8Weights(weights);
    const expected = referenceLogits(int8, ids, { recurrences: 2, int8Activations: true });
    // Both backends compute that arithmetic: the products are exact integers, so what is left is
    // float summation order upstream (measured 1e-5 of logits up to 16 on both); 1e-3 also absorbs
    // an activation code flipped by that noise at a rounding boundary.
    const wasm = await ortLogits(await openWasmModelInNode(checkpoint), ids, 2);
    expect(toleranceRatio(wasm, expected, 1e-3, 1e-3)).toBeLessThanOrEqual(1);
    const node = await ortLogits(await openNodeModel(checkpoint), ids, 2);
    expect(toleranceRatio(node, expected, 1e-3, 1e-3)).toBeLessThanOrEqual(1);
    // The oracle can tell: without the activation quantization the same weights miss by far more.
    const floatActivations = referenceLogits(int8, ids, { recurrences: 2 });
    expect(toleranceRatio(wasm, floatActivations, 1e-3, 1e-3)).toBeGreaterThan(10);
    // They agree here, but not on larger shapes (code flips, model/graphs.md): the loose bound.
    expect(numericToleranceOf(manifest)).toBe(INT8_ACTIVATION_TOLERANCE);

    const again = await exportModel({
      from: stories260kDir,
      out: join(work, "i8-again"),
      ...surgery,
      dtype: "i8",
    });
    expect(again.graphs).toEqual(manifest.graphs);
  });

  it("a document's logits do not depend on its batch: activations are quantized per token", async () => {
    const model = await openNodeModel(await readCheckpoint(join(work, "i8")));
    // A longer prompt beside it left-pads this one, and its own activations are larger: scaled
    // per call, its magnitude would set this document's codes too.
    const loud = tokenizer.encode(STORY_PROMPTS[5].toUpperCase().repeat(3)).ids;
    const alone = await paddedBatchLogits(model, [ids], 2, 2);
    const batched = await paddedBatchLogits(model, [ids, loud], 2, 2);
    const vocab = model.manifest.architecture.vocab_size;
    const pad = loud.length - ids.length;
    // Prefill: this document's positions of row 0, after its padding; then each decode step.
    const prefill = batched[0].subarray(pad * vocab, loud.length * vocab);
    expect(toleranceRatio(prefill, alone[0], 1e-5, 1e-5)).toBeLessThanOrEqual(1);
    for (const step of [1, 2]) {
      const row = batched[step].subarray(0, vocab);
      expect(toleranceRatio(row, alone[step], 1e-5, 1e-5)).toBeLessThanOrEqual(1);
    }
  });

  it("combines with --operators fused and refuses --quant-block-size", async () => {
    const out = join(work, "i8-fused");
    const fused = await exportModel({
      from: stories260kDir,
      out,
      ...surgery,
      dtype: "i8",
      operators: "fused",
    });
    expect(fused.operators).toBe("fused");
    const plain = await ortLogits(
      await openNodeModel(await readCheckpoint(join(work, "i8"))),
      ids,
      2,
    );
    const logits = await ortLogits(await openNodeModel(await readCheckpoint(out)), ids, 2);
    // The fused norms and RoPE round differently (1e-6), which flips an activation code lying on a
    // rounding tie: this prompt has one at position 11, and its flip moves logits (up to 18) by up
    // to 0.78 there and after (measured; float noise, 6e-6, everywhere before it).
    expect(toleranceRatio(logits, plain, 1, 0)).toBeLessThanOrEqual(1);
    await expect(
      exportModel({
        from: stories260kDir,
        out: join(work, "bad"),
        dtype: "i8",
        quantBlockSize: 64,
      }),
    ).rejects.toThrow(/--quant-block-size applies to --quant q8\|q4, not to i8/);
  });
});
