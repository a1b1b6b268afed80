// Which backend a runner uses and what it tells the API it can hold. `auto` takes WebGPU only on
// a hardware adapter: a software one (SwiftShader) is correct but ~100x slower than WASM. There it
// still opens checkpoints whose graphs WebGPU lacks kernels for (i8) on WASM pages.
import { freemem, totalmem } from "node:os";
import type { Browser } from "playwright-core";
import { type Manifest, webGpuLacksKernels } from "../model/manifest.ts";
import { WASM_HEAP_BYTES } from "../model/memory-ceiling.ts";
import type { Capabilities } from "../worker/protocol.ts";
import type { BackendName } from "./backends.ts";
import { BackendUnavailableError } from "./browser/browser-engine.ts";
import { probeWebGpu } from "./browser/webgpu-probe.ts";
import type { WebGpuProbe } from "./page/engine-page.ts";

export type BackendChoice = "auto" | BackendName;

export interface ChosenBackend {
  backend: BackendName;
  capabilities: Capabilities;
  /** Why this backend, for the log: "auto: no hardware WebGPU adapter (…)". */
  reason: string;
  /**
   * Open checkpoints whose graphs WebGPU lacks kernels for on WASM instead (`auto` on a hardware
   * adapter): their int8 GEMMs would otherwise run on the CPU with copies to and from the GPU.
   */
  wasmWhereWebGpuLacksKernels?: boolean;
}

/** For APIs that predate `max_memory_bytes`: DESIGN §9 measured ~4 GiB of weights as the ceiling. */
const WASM_MAX_PARAMETERS = 1_000_000_000;
const WASM_MAX_BUFFER_BYTES = 2 ** 31;

export async function chooseBackend(
  choice: BackendChoice,
  browser: Browser | null,
): Promise<ChosenBackend> {
  if (choice === "node") {
    return {
      backend: "node",
      capabilities: {
        backends: ["node"],
        max_parameters: Math.floor(totalmem() / 2 / 4),
        max_buffer_bytes: 2 ** 40,
        max_memory_bytes: freemem(),
      },
      reason: "asked for node (onnxruntime-node in the runner process)",
    };
  }
  if (choice === "wasm") return WASM;
  if (!browser) throw new Error("a browser is needed to probe WebGPU");
  return backendFromProbe(choice, await probeWebGpu(browser));
}

const WASM: ChosenBackend = {
  backend: "wasm",
  capabilities: {
    backends: ["wasm"],
    max_parameters: WASM_MAX_PARAMETERS,
    max_buffer_bytes: WASM_MAX_BUFFER_BYTES,
    max_memory_bytes: WASM_HEAP_BYTES,
  },
  reason: "asked for wasm",
};

/** `auto` or `webgpu`, given the WebGPU adapter the browser offers. */
export function backendFromProbe(choice: "auto" | "webgpu", probe: WebGpuProbe): ChosenBackend {
  if (choice === "auto" && (!probe.available || probe.fallback)) {
    const why = probe.available ? `only a software adapter (${probe.description})` : "no adapter";
    return { ...WASM, reason: `auto: WebGPU has ${why}, so wasm` };
  }
  if (!probe.available || probe.maxBufferSize === null) {
    throw new BackendUnavailableError(
      "--backend webgpu: this Chromium offers no WebGPU adapter (needs --enable-unsafe-webgpu on Linux and a GPU driver); use --backend wasm",
    );
  }
  const auto = choice === "auto";
  return {
    backend: "webgpu",
    capabilities: {
      // `auto` also opens WASM pages, for checkpoints WebGPU lacks kernels for (below).
      backends: auto ? ["webgpu", "wasm"] : ["webgpu"],
      max_parameters: WASM_MAX_PARAMETERS,
      max_buffer_bytes: probe.maxBufferSize,
      // WebGPU reports no total; onnxruntime-web builds the sessions from graphs in its heap.
      // The same heap ceiling as WASM, so whatever is leased to this runner also fits a WASM page.
      max_memory_bytes: WASM_HEAP_BYTES,
    },
    reason:
      `${auto ? "auto: hardware adapter" : "asked for webgpu"}: ${probe.description}` +
      `${probe.fallback ? " (software adapter: slow)" : ""}` +
      `; ${probe.shaderF16 ? "shader-f16, so fp16-compute graphs where a checkpoint has them and they pass the numeric check" : "no shader-f16, so fp32-compute graphs"}` +
      `${auto ? "; i8 checkpoints (no WebGPU kernel for their int8 GEMMs) on wasm" : ""}`,
    ...(auto ? { wasmWhereWebGpuLacksKernels: true } : {}),
  };
}

/**
 * The backend a page opens `manifest` on: the runner's, except that `auto` on WebGPU opens a
 * checkpoint whose graphs WebGPU lacks kernels for on WASM. Every result names the backend that
 * computed it, so such a result says wasm (and its result key too, where it names one).
 */
export function backendForCheckpoint(
  chosen: ChosenBackend,
  manifest: Pick<Manifest, "dtype" | "quantization">,
): { backend: BackendName; reason: string | null } {
  if (chosen.wasmWhereWebGpuLacksKernels && webGpuLacksKernels(manifest)) {
    return {
      backend: "wasm",
      reason:
        "auto: WebGPU has no kernel for this checkpoint's int8 GEMMs (they would run on the CPU with copies to and from the GPU), so wasm",
    };
  }
  return { backend: chosen.backend, reason: null };
}
