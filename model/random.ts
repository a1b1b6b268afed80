// Random Llama checkpoints for tests and benchmarks, deterministic from a seed. Each tensor gets
// its own seeded stream, so any layer can be generated on its own and nothing is held twice.
import { SurgeryError } from "./errors.ts";
import { SeededRandom } from "./rng.ts";
import type { LlamaLayerSource } from "./surgery.ts";
import type { LayerWeights, ModelDims } from "./weights.ts";

export interface RandomPreset {
  dims: ModelDims;
  numLayers: number;
  tied: boolean;
  description: string;
}

const base = {
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  ropeScaling: null,
  embedScale: 1,
  normPlacement: "pre",
} as const;

export const RANDOM_PRESETS: Record<string, RandomPreset> = {
  tiny: {
    description: "GQA (4 heads, 2 kv heads), tied embeddings",
    dims: {
      ...base,
      hiddenSize: 64,
      numHeads: 4,
      numKvHeads: 2,
      headDim: 16,
      intermediateSize: 128,
      vocabSize: 512,
      maxPositionEmbeddings: 512,
    },
    numLayers: 4,
    tied: true,
  },
  "tiny-untied": {
    description: "multi-head attention, untied lm_head",
    dims: {
      ...base,
      hiddenSize: 48,
      numHeads: 3,
      numKvHeads: 3,
      headDim: 16,
      intermediateSize: 96,
      vocabSize: 512,
      maxPositionEmbeddings: 512,
    },
    numLayers: 4,
    tied: false,
  },
  "tiny-llama3": {
    description: "GQA with rope_scaling type llama3 (as Llama 3.2)",
    dims: {
      ...base,
      hiddenSize: 64,
      numHeads: 8,
      numKvHeads: 2,
      headDim: 8,
      intermediateSize: 160,
      vocabSize: 512,
      maxPositionEmbeddings: 512,
      ropeTheta: 500000,
      ropeScaling: {
        type: "llama3",
        factor: 32,
        lowFreqFactor: 1,
        highFreqFactor: 4,
        originalMaxPositionEmbeddings: 64,
      },
    },
    numLayers: 4,
    tied: true,
  },
  small: {
    description: "≈25M parameters, d=512, 8 layers",
    dims: {
      ...base,
      hiddenSize: 512,
      numHeads: 8,
      numKvHeads: 4,
      headDim: 64,
      intermediateSize: 1376,
      vocabSize: 4096,
      maxPositionEmbeddings: 2048,
    },
    numLayers: 8,
    tied: true,
  },
  "llama-3.2-1b": {
    description: "the exact shapes of Llama-3.2-1B (random values), for GPU benchmarks",
    dims: {
      ...base,
      hiddenSize: 2048,
      numHeads: 32,
      numKvHeads: 8,
      headDim: 64,
      intermediateSize: 8192,
      vocabSize: 128256,
      maxPositionEmbeddings: 131072,
      ropeTheta: 500000,
      ropeScaling: {
        type: "llama3",
        factor: 32,
        lowFreqFactor: 1,
        highFreqFactor: 4,
        originalMaxPositionEmbeddings: 8192,
      },
    },
    numLayers: 16,
    tied: true,
  },
};

/** Weights drawn with std 0.02 (Llama's initializer_range); norms start at 1. */
const WEIGHT_STD = 0.02;

export function randomPreset(name: string): RandomPreset {
  const preset = RANDOM_PRESETS[name];
  if (!preset) {
    throw new SurgeryError(
      `unknown random preset "${name}"; choose one of ${Object.keys(RANDOM_PRESETS).join(", ")}`,
    );
  }
  return preset;
}

/** A lazily generated random Llama: the same (preset, seed) always gives the same weights. */
export function randomLlamaSource(presetName: string, seed: number): LlamaLayerSource {
  const { dims, numLayers, tied } = randomPreset(presetName);
  const h = dims.hiddenSize;
  const q = dims.numHeads * dims.headDim;
  const kv = dims.numKvHeads * dims.headDim;
  const inter = dims.intermediateSize;
  // Tensor k of the model draws from stream seed·2^20 + k, independent of every other tensor.
  const draw = (stream: number, size: number) =>
    uniformMatchingStd(new SeededRandom(seed * 1048576 + stream), size);
  const ones = (size: number) => new Float32Array(size).fill(1);
  return {
    dims,
    numLayers,
    readEmbedding: () => draw(1, dims.vocabSize * h),
    readHead: () => (tied ? null : draw(2, dims.vocabSize * h)),
    readFinalNorm: () => ones(h),
    readLayer: (index): LayerWeights => {
      const stream = 16 + index * 8;
      return {
        inputNorm: ones(h),
        q: draw(stream, q * h),
        k: draw(stream + 1, kv * h),
        v: draw(stream + 2, kv * h),
        o: draw(stream + 3, h * q),
        postNorm: ones(h),
        gate: draw(stream + 4, inter * h),
        up: draw(stream + 5, inter * h),
        down: draw(stream + 6, h * inter),
      };
    },
  };
}

/** Uniform values with standard deviation WEIGHT_STD: as good as normals for random models and
 * several times faster to draw, which matters for the 1.2B-parameter preset. */
function uniformMatchingStd(random: SeededRandom, size: number): Float32Array {
  const half = Math.sqrt(3) * WEIGHT_STD;
  return random.fillUniform(new Float32Array(size), -half, half);
}
