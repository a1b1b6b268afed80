// onnxruntime-web's WebGPU provider in Node on Dawn's bindings (node-webgpu.ts), through the
// page's own session code, on Mesa's lavapipe: the fp16-compute graphs (`webgpu_f16`) on an adapter
// with shader-f16, which Chromium here (SwiftShader) lacks, and in-place decode on a second WebGPU
// implementation. `.ci/run` installs lavapipe and sets EVALS_REQUIRE_SHADER_F16=1, so there a
// missing adapter fails.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCheckpoint } from "../../model/checkpoint.ts";
import { fidelityDocs, fidelityPrompts } from "../../model/export-fidelity.ts";
import { exportModel } from "../../model/export-model.ts";
import { FIDELITY_RECURRENCES, measureFidelity } from "../../model/fidelity.ts";
import { referenceLogits } from "../../model/reference.ts";
import { loadSourceModel } from "../../model/source.ts";
import { buildRecurrentWeights } from "../../model/surgery.ts";
import { expectSameGenerations } from "../../model/testing/expect-same-generations.ts";
import { roundedToHalf } from "../../model/testing/half-weights.ts";
import {
  maxAbsDifference,
  ortLogitsStepwise,
  toleranceRatio,
  top1Agreement,
} from "../../model/testing/ort-logits.ts";
import {
  STORY_PROMPTS,
  stories260kDir,
  stories260kTokenizer,
} from "../../model/testing/stories.ts";
import { openWasmModelInNode } from "../../model/testing/wasm-in-node.ts";
import { type GenerationConfig, generateBatch } from "./generate.ts";
import { chooseGraphVariant } from "./graph-variant.ts";
import { openNodeModel } from "./node-sessions.ts";
import { nodeWebGpu } from "./node-webgpu.ts";
import {
  addNumericCheck,
  FP16_COMPUTE_TOLERANCE,
  FP32_TOLERANCE,
  numericCheckFailure,
  numericCheckTop5,
} from "./numeric-check.ts";

const webgpu = await nodeWebGpu();
const required = process.env.EVALS_REQUIRE_SHADER_F16 === "1";
const missing =
  "unavailable" in webgpu
    ? webgpu.unavailable
    : webgpu.shaderF16
      ? null
      : `the adapter (${webgpu.adapter}) lacks shader-f16`;
if (missing && !required) console.warn(`skipping the shader-f16 tests: ${missing}`);

const SPLIT: [number, number, number] = [1, 3, 1];
const SEED = 2;
const FIDELITY = { prompts: 2, tokens: 8 };
const work = mkdtempSync(join(tmpdir(), "evals-shader-f16-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.skipIf(missing !== null && !required)(
  "fp16-compute graphs on a shader-f16 adapter",
  () => {
    const gpu = () => {
      if ("unavailable" in webgpu || !webgpu.shaderF16) throw new Error(missing ?? "");
      return webgpu;
    };
    const fp16Dir = join(work, "fp16");
    beforeAll(async () => {
      gpu();
      // Its variant's fidelity measured on this adapter, as a GPU machine's export measures it.
      await exportModel({
        from: stories260kDir,
        split: SPLIT,
        seed: SEED,
        dtype: "fp16",
        out: fp16Dir,
        fidelity: { ...FIDELITY, f16On: "webgpu" },
      });
      await addNumericCheck(fp16Dir);
    }, 600_000);

    it("the adapter offers shader-f16, so the page picks the webgpu_f16 graphs", async () => {
      const { adapter, shaderF16 } = gpu();
      expect(shaderF16).toBe(true);
      // Not Chromium's SwiftShader, which lacks shader-f16.
      expect(adapter).not.toMatch(/swiftshader/i);
      const { manifest } = await readCheckpoint(fp16Dir);
      expect(chooseGraphVariant(manifest, { backend: "webgpu", shaderF16 })).toEqual({
        variant: "webgpu_f16",
        reason: "webgpu_f16 graphs (adapter has shader-f16)",
      });
    });

    it("computes in half precision: near the reference forward, and further from it than WASM", async () => {
      const checkpoint = await readCheckpoint(fp16Dir);
      const model = await gpu().open(checkpoint, { variant: "webgpu_f16" });
      expect(model.kvType).toBe("float16");
      const wasm = await openWasmModelInNode(checkpoint, { variant: "webgpu_f16" });
      // Oracle: the fp32 reference forward on the fp16-rounded weights (model/export.test.ts does
      // the same for WASM). Token by token exercises the float16 KV cache on the device.
      const weights = roundedToHalf(
        buildRecurrentWeights(loadSourceModel(stories260kDir), { split: SPLIT, seed: SEED }),
      );
      const tokenizer = stories260kTokenizer();
      const vocab = checkpoint.manifest.architecture.vocab_size;
      for (const [prompt, r] of [
        [STORY_PROMPTS[1], 1],
        [STORY_PROMPTS[2], 4],
      ] as const) {
        const ids = tokenizer.encode(prompt).ids;
        const expected = referenceLogits(weights, ids, { recurrences: r });
        const half = await ortLogitsStepwise(model, ids, r, 3);
        // Measured: max |Δ| 0.18–0.27 at r = 1 and 0.47–1.04 at r = 4 on logits up to 16; wrong
        // kernels move them by whole units and change the tokens.
        expect(toleranceRatio(half, expected, 2, 0.05)).toBeLessThanOrEqual(1);
        expect(top1Agreement(half, expected, vocab)).toBeGreaterThanOrEqual(0.9);
        // Every operation rounded to fp16 by the shaders, where onnxruntime's CPU kernels keep
        // several in fp32 (0.03–0.09 there): the reason the export measures on WebGPU.
        const cpu = await ortLogitsStepwise(wasm, ids, r, 3);
        expect(maxAbsDifference(half, expected)).toBeGreaterThan(
          2 * maxAbsDifference(cpu, expected),
        );
      }
    });

    it("reproduces the manifest's numeric check at fp16 tolerance, as the page requires", async () => {
      const checkpoint = await readCheckpoint(fp16Dir);
      const check = checkpoint.manifest.numeric_check!;
      const top5 = async (variant: "webgpu_f16" | null) =>
        numericCheckTop5(
          await gpu().open(checkpoint, { variant }),
          check.input_ids,
          check.recurrences,
        );
      const half = await top5("webgpu_f16");
      expect(numericCheckFailure(check, half, FP16_COMPUTE_TOLERANCE)).toBeNull();
      // The check tells the two precisions apart: fp16 misses fp32's tolerance...
      expect(numericCheckFailure(check, half, FP32_TOLERANCE)).not.toBeNull();
      // ...which the default (fp32-compute) graphs on the same adapter meet.
      expect(numericCheckFailure(check, await top5(null), FP32_TOLERANCE)).toBeNull();
    });

    it("the export records the variant's fidelity as this adapter computes it", async () => {
      const lossy = await readCheckpoint(fp16Dir);
      const recorded = lossy.manifest.variants!.webgpu_f16!.fidelity!;
      expect(recorded.computed_on).toBe(`onnxruntime-web webgpu (${gpu().adapter})`);
      // The default graphs (fp32 compute on fp16 weights) are measured on onnxruntime-node.
      expect(lossy.manifest.fidelity!.computed_on).toBe("onnxruntime-node");

      // Measured again here, independently of the export's code path: the same numbers.
      const reference = join(work, "fp32");
      await exportModel({ from: stories260kDir, split: SPLIT, seed: SEED, out: reference });
      const docs = await fidelityDocs(FIDELITY);
      const options = {
        tokens: FIDELITY.tokens,
        recurrences: FIDELITY_RECURRENCES,
        promptSource: recorded.prompts,
      };
      const fp32 = await openNodeModel(await readCheckpoint(reference));
      const prompts = fidelityPrompts(lossy, docs);
      const onGpu = await measureFidelity(
        fp32,
        await gpu().open(lossy, { variant: "webgpu_f16" }),
        prompts,
        options,
      );
      const onNode = await measureFidelity(
        fp32,
        await openNodeModel(lossy, { variant: "webgpu_f16" }),
        prompts,
        options,
      );
      console.log(
        "webgpu_f16 fidelity (r: top-1, mean KL) on this adapter vs onnxruntime-node:",
        onGpu.per_recurrence
          .map(
            (m, i) =>
              `r=${m.recurrences}: ${m.top1_agreement.toFixed(3)}, ${m.mean_kl.toExponential(2)} vs ` +
              `${onNode.per_recurrence[i].top1_agreement.toFixed(3)}, ${onNode.per_recurrence[i].mean_kl.toExponential(2)}`,
          )
          .join("; "),
      );
      for (const [i, got] of onGpu.per_recurrence.entries()) {
        const want = recorded.per_recurrence[i];
        expect(got.recurrences).toBe(want.recurrences);
        expect(got.top1_agreement).toBeCloseTo(want.top1_agreement, 6);
        expect(got.mean_kl).toBeCloseTo(want.mean_kl, 6);
      }
    });
  },
);

describe.skipIf("unavailable" in webgpu && !required)("in-place decode on this adapter", () => {
  it("fused graphs decode into buffers bound as past and present (a growth, a dropped row): node's growing caches' tokens and logits", async () => {
    if ("unavailable" in webgpu) throw new Error(webgpu.unavailable);
    const out = join(work, "fused");
    await exportModel({
      from: stories260kDir,
      split: SPLIT,
      seed: SEED,
      operators: "fused",
      out,
    });
    const checkpoint = await readCheckpoint(out);
    // Two slots of headroom beyond the prompt: a 5-token generation grows the buffers once.
    const model = await webgpu.open(checkpoint, { decodeHeadroom: 2 });
    expect(model.decodesInPlace).toBe(true);
    const node = await openNodeModel(checkpoint, { decodeInPlace: false });
    const tokenizer = stories260kTokenizer();
    const requests = [STORY_PROMPTS[0], STORY_PROMPTS[3]].map((p) => ({
      promptIds: tokenizer.encode(p).ids,
      seed: 0,
    }));
    const config: GenerationConfig = {
      recurrences: 2,
      maxNewTokens: 5,
      kv: "full",
      stateInit: "zeros",
      stopIds: [],
      stopStrings: [],
      stepTop5: true,
    };
    // Row 0 stops at its third token and row 1 runs on: the device cache drops a row after growing.
    const free = await generateBatch(node, requests, config, () => "");
    const stop = free[0].ids[2];
    expect(free[1].ids).not.toContain(stop);
    const stopping = { ...config, stopIds: [stop] };
    const want = await generateBatch(node, requests, stopping, () => "");
    const got = await generateBatch(model, requests, stopping, () => "");
    expectSameGenerations(got, want, { atol: 1e-4, rtol: 1e-4 });
    expect(got[0].ids).toHaveLength(3);
    expect(got[1].ids).toHaveLength(5);
  });
});
