// Which graph set of a checkpoint a backend runs: the default graphs, or the fp16-compute
// `webgpu_f16` variant where WebGPU has fast half precision. The choice is only a candidate: the
// page must still reproduce the numeric check on it (DESIGN §9: some WebGPU builds compute fp16
// wrongly without an error), and falls back to the default graphs when it does not.
import { type GraphVariantName, type Manifest, webGpuLacksKernels } from "../../model/manifest.ts";

export interface GraphChoice {
  /** null: the default graphs. */
  variant: GraphVariantName | null;
  /** Why, for the runner log and the load report. */
  reason: string;
}

/** What the page learned about its backend that decides the graph set. */
export interface BackendFeatures {
  backend: "node" | "wasm" | "webgpu";
  /** The WebGPU adapter offers `shader-f16` (false for other backends). */
  shaderF16: boolean;
}

export function chooseGraphVariant(manifest: Manifest, features: BackendFeatures): GraphChoice {
  if (features.backend === "webgpu" && webGpuLacksKernels(manifest)) {
    // onnxruntime-web's WebGPU provider has no int8 GEMM kernel (model/graphs.md).
    return {
      variant: null,
      reason:
        "default graphs, but their i8 linear layers (int8 GEMMs) have no WebGPU kernel and run on onnxruntime-web's CPU (WASM) kernels, " +
        "with copies to and from the GPU: use --backend wasm, or a q4/q8/fp16 export on WebGPU",
    };
  }
  if (!manifest.variants?.webgpu_f16) {
    return { variant: null, reason: "default graphs (the checkpoint has no fp16-compute graphs)" };
  }
  if (features.backend !== "webgpu") {
    return {
      variant: null,
      reason: `default graphs (fp16-compute graphs are for webgpu, not ${features.backend})`,
    };
  }
  if (!features.shaderF16) {
    return {
      variant: null,
      reason: "default graphs (the WebGPU adapter lacks shader-f16, so no fp16-compute graphs)",
    };
  }
  if (!manifest.numeric_check) {
    return {
      variant: null,
      reason: "default graphs (no numeric check to verify the fp16-compute graphs against)",
    };
  }
  return { variant: "webgpu_f16", reason: "webgpu_f16 graphs (adapter has shader-f16)" };
}

/** The choice after the variant failed the numeric check: default graphs, saying why. */
export function numericFallback(failure: string): GraphChoice {
  return {
    variant: null,
    reason: `default graphs (webgpu_f16 graphs failed the numeric check: ${failure})`,
  };
}
