import { describe, expect, it } from "vitest";
import { SurgeryError } from "./errors.ts";
import { layerParameters } from "./parameters.ts";
import { RANDOM_PRESETS, randomLlamaSource, randomPreset } from "./random.ts";

describe("random checkpoints", () => {
  it("are the same for the same (preset, seed), and each tensor can be drawn on its own", () => {
    const a = randomLlamaSource("tiny", 3);
    const b = randomLlamaSource("tiny", 3);
    expect(b.readLayer(2).gate).toEqual(a.readLayer(2).gate);
    expect(b.readEmbedding()).toEqual(a.readEmbedding());
    expect(randomLlamaSource("tiny", 4).readLayer(2).gate).not.toEqual(a.readLayer(2).gate);
    // Different tensors of one model are different streams.
    expect(a.readLayer(2).up).not.toEqual(a.readLayer(2).gate);
    expect(a.readLayer(1).gate).not.toEqual(a.readLayer(2).gate);
  });

  it("draw weights with std 0.02 around 0 and norms of 1", () => {
    const layer = randomLlamaSource("tiny", 0).readLayer(0);
    const w = layer.up;
    const mean = w.reduce((s, v) => s + v, 0) / w.length;
    const std = Math.sqrt(w.reduce((s, v) => s + (v - mean) ** 2, 0) / w.length);
    expect(Math.abs(mean)).toBeLessThan(0.001);
    expect(std).toBeCloseTo(0.02, 3);
    expect(new Set(layer.inputNorm)).toEqual(new Set([1]));
  });

  it("have tensors of the shapes their dims imply, tied or untied as the preset says", () => {
    for (const [name, preset] of Object.entries(RANDOM_PRESETS)) {
      if (name === "small" || name === "llama-3.2-1b") continue; // shapes follow the same code
      const source = randomLlamaSource(name, 0);
      const {
        hiddenSize: h,
        numHeads,
        numKvHeads,
        headDim,
        intermediateSize,
        vocabSize,
      } = preset.dims;
      const layer = source.readLayer(preset.numLayers - 1);
      expect(layer.q.length).toBe(numHeads * headDim * h);
      expect(layer.k.length).toBe(numKvHeads * headDim * h);
      expect(layer.down.length).toBe(h * intermediateSize);
      expect(source.readEmbedding().length).toBe(vocabSize * h);
      expect(source.readHead() === null).toBe(preset.tied);
    }
  });

  it("tiny presets cover GQA, multi-head attention, untied heads and llama3 rope scaling", () => {
    const presets = Object.values(RANDOM_PRESETS).filter((p) => p.dims.hiddenSize <= 64);
    expect(presets.some((p) => p.dims.numKvHeads < p.dims.numHeads)).toBe(true);
    expect(presets.some((p) => p.dims.numKvHeads === p.dims.numHeads)).toBe(true);
    expect(presets.some((p) => !p.tied)).toBe(true);
    expect(presets.some((p) => p.dims.ropeScaling?.type === "llama3")).toBe(true);
    expect(presets.every((p) => p.dims.vocabSize === 512)).toBe(true);
  });

  it("small has about 25M parameters; llama-3.2-1b has Llama-3.2-1B's exact shapes", () => {
    const total = (name: string) => {
      const { dims, numLayers, tied } = randomPreset(name);
      const embedding = dims.vocabSize * dims.hiddenSize;
      return numLayers * layerParameters(dims) + embedding * (tied ? 1 : 2) + dims.hiddenSize;
    };
    expect(total("small") / 1e6).toBeGreaterThan(22);
    expect(total("small") / 1e6).toBeLessThan(28);
    expect(randomPreset("small").dims.hiddenSize).toBe(512);
    expect(randomPreset("small").numLayers).toBe(8);
    // 1,235,814,400: the parameter count transformers reports for meta-llama/Llama-3.2-1B.
    expect(total("llama-3.2-1b")).toBe(1235814400);
    expect(randomPreset("llama-3.2-1b")).toMatchObject({
      numLayers: 16,
      tied: true,
      dims: {
        hiddenSize: 2048,
        numHeads: 32,
        numKvHeads: 8,
        headDim: 64,
        intermediateSize: 8192,
        vocabSize: 128256,
        ropeTheta: 500000,
        ropeScaling: {
          type: "llama3",
          factor: 32,
          lowFreqFactor: 1,
          highFreqFactor: 4,
          originalMaxPositionEmbeddings: 8192,
        },
      },
    });
  });

  it("names the presets when asked for an unknown one", () => {
    expect(() => randomPreset("huge")).toThrow(SurgeryError);
    expect(() => randomPreset("huge")).toThrow(/unknown random preset "huge"; choose one of tiny,/);
  });
});
