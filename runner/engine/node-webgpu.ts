// onnxruntime-web's WebGPU provider inside Node, on Dawn's own Node bindings (the `webgpu`
// package) instead of a browser: the page's wasm build, kernels and session code
// (runner/page/open-model.ts), on whatever Vulkan adapter the system has. Chromium offers only
// SwiftShader without a GPU, which lacks shader-f16 (and Chromium refuses other CPU adapters);
// Mesa's lavapipe, a CPU Vulkan driver (Debian: mesa-vulkan-drivers ≥ 23), offers it, so the
// fp16-compute graphs run with real half-precision shaders here.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Checkpoint } from "../../model/checkpoint.ts";
import {
  type GraphFiles,
  openModelWith,
  type PageModelOptions,
  type PageOrt,
} from "../page/open-model.ts";
import type { RecurrentModel } from "./recurrent-model.ts";

export interface NodeWebGpu {
  /** The adapter as the page's probe describes it (vendor, architecture, description). */
  adapter: string;
  shaderF16: boolean;
  /** A CPU implementation (lavapipe, SwiftShader): real WebGPU arithmetic, far from GPU speed. */
  software: boolean;
  /** Opens `checkpoint` on the WebGPU provider with the page's own session code. */
  open(
    checkpoint: Checkpoint,
    options?: Omit<PageModelOptions, "backend" | "threads">,
  ): Promise<RecurrentModel>;
}

const require = createRequire(import.meta.url);

let opened: Promise<NodeWebGpu | { unavailable: string }> | null = null;

/**
 * This process's WebGPU, or why there is none (no Vulkan driver, or one Dawn refuses: Debian 12's
 * own lavapipe, 22.3, lacks features Dawn requires). Opened once: onnxruntime-web keeps the first
 * device it gets.
 */
export function nodeWebGpu(): Promise<NodeWebGpu | { unavailable: string }> {
  opened ??= openNodeWebGpu();
  return opened;
}

async function openNodeWebGpu(): Promise<NodeWebGpu | { unavailable: string }> {
  let dawn: { create(options: string[]): GpuLike; globals: object };
  try {
    dawn = require("webgpu");
  } catch (error) {
    return { unavailable: `the webgpu package does not load: ${(error as Error).message}` };
  }
  const gpu = dawn.create([]);
  const adapter = await gpu.requestAdapter();
  if (!adapter) {
    return {
      unavailable:
        "Dawn found no Vulkan adapter (install Mesa's lavapipe: apt-get install mesa-vulkan-drivers, version 23 or later)",
    };
  }
  // onnxruntime-web asks `navigator.gpu` for its adapter and uses the GPU* constants.
  Object.assign(globalThis, dawn.globals);
  acceptSharedMemoryWrites(dawn.globals as { GPUQueue: { prototype: QueueLike } });
  if (globalThis.navigator) Object.defineProperty(globalThis.navigator, "gpu", { value: gpu });
  else Object.defineProperty(globalThis, "navigator", { value: { gpu }, configurable: true });

  const ort = (await import("onnxruntime-web/webgpu")) as unknown as PageOrt;
  ort.env.wasm.wasmPaths = join(dirname(require.resolve("onnxruntime-web")), "/");
  const info = adapter.info;
  const description = [info.vendor, info.architecture, info.description].filter(Boolean).join(" ");
  return {
    adapter: description,
    shaderF16: adapter.features.has("shader-f16"),
    software:
      info.isFallbackAdapter === true ||
      /llvmpipe|lavapipe|swiftshader|software/i.test(description),
    open: async (checkpoint, options = {}) =>
      (
        await openModelWith(ort, directoryFiles(checkpoint.dir), checkpoint.manifest, {
          ...options,
          backend: "webgpu",
          threads: 1,
        })
      ).model,
  };
}

interface GpuLike {
  requestAdapter(): Promise<{
    features: ReadonlySet<string>;
    info: {
      vendor: string;
      architecture: string;
      description: string;
      isFallbackAdapter?: boolean;
    };
  } | null>;
}

interface QueueLike {
  writeBuffer(
    buffer: unknown,
    offset: number,
    data: ArrayBufferView,
    dataOffset?: number,
    size?: number,
  ): void;
}

/**
 * onnxruntime-web's threaded wasm build hands `writeBuffer` views of its heap, a
 * SharedArrayBuffer, which browsers accept and Dawn's Node bindings refuse ("Invalid argument"):
 * copy such a view into ordinary memory first.
 */
function acceptSharedMemoryWrites(globals: { GPUQueue: { prototype: QueueLike } }): void {
  const proto = globals.GPUQueue.prototype;
  const write = proto.writeBuffer;
  proto.writeBuffer = function (buffer, offset, data, dataOffset = 0, size) {
    if (!(data.buffer instanceof SharedArrayBuffer)) {
      return write.call(this, buffer, offset, data, dataOffset, size);
    }
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const element = (data as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
    const start = dataOffset * element;
    const end = size === undefined ? bytes.length : start + size * element;
    return write.call(this, buffer, offset, bytes.slice(start, end));
  };
}

/** A checkpoint directory read whole: onnxruntime-web in Node takes weights as bytes. */
function directoryFiles(dir: string): GraphFiles {
  const read = async (file: string) => new Uint8Array(readFileSync(join(dir, file)));
  return { bytes: read, externalData: read };
}
