// Which backend a runner uses and what it tells the API it can hold. `auto` takes WebGPU only on
// a hardware adapter: a software one (SwiftShader) is correct but ~100x slower than WASM.
import { freemem, totalmem } from "node:os";
import type { Browser } from "playwright-core";
import { WASM_HEAP_BYTES } from "../model/memory-ceiling.ts";
import type { Capabilities } from "../worker/protocol.ts";
import type { BackendName } from "./backends.ts";
import { BackendUnavailableError } from "./browser/browser-engine.ts";
import { probeWebGpu } from "./browser/webgpu-probe.ts";

export type BackendChoice = "auto" | BackendName;

export interface ChosenBackend {
  backend: BackendName;
  capabilities: Capabilities;
  /** Why this backend, for the log: "auto: no hardware WebGPU adapter (…)". */
  reason: string;
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
  const wasm: ChosenBackend = {
    backend: "wasm",
    capabilities: {
      backends: ["wasm"],
      max_parameters: WASM_MAX_PARAMETERS,
      max_buffer_bytes: WASM_MAX_BUFFER_BYTES,
      max_memory_bytes: WASM_HEAP_BYTES,
    },
    reason: "asked for wasm",
  };
  if (choice === "wasm") return wasm;
  if (!browser) throw new Error("a browser is needed to probe WebGPU");
  const probe = await probeWebGpu(browser);
  if (choice === "auto" && (!probe.available || probe.fallback)) {
    const why = probe.available ? `only a software adapter (${probe.description})` : "no adapter";
    return { ...wasm, reason: `auto: WebGPU has ${why}, so wasm` };
  }
  if (!probe.available || probe.maxBufferSize === null) {
    throw new BackendUnavailableError(
      "--backend webgpu: this Chromium offers no WebGPU adapter (needs --enable-unsafe-webgpu on Linux and a GPU driver); use --backend wasm",
    );
  }
  return {
    backend: "webgpu",
    capabilities: {
      backends: ["webgpu"],
      max_parameters: WASM_MAX_PARAMETERS,
      max_buffer_bytes: probe.maxBufferSize,
      // WebGPU reports no total; onnxruntime-web builds the sessions from graphs in its heap.
      max_memory_bytes: WASM_HEAP_BYTES,
    },
    reason:
      `${choice === "auto" ? "auto: hardware adapter" : "asked for webgpu"}: ${probe.description}` +
      `${probe.fallback ? " (software adapter: slow)" : ""}` +
      `; ${probe.shaderF16 ? "shader-f16, so fp16-compute graphs where a checkpoint has them and they pass the numeric check" : "no shader-f16, so fp32-compute graphs"}`,
  };
}
