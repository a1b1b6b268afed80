// KV caches in WebGPU buffers of the page's own: onnxruntime-web's WebGPU EP registers a buffer fed
// and fetched in one run once, so GroupQueryAttention writes a decode step's keys into the buffer
// it reads (model/graphs.md, "In-place decode"). Copies between them are GPU-side
// copyBufferToBuffer commands on the device the EP runs on, queued after its work.
import type * as Ort from "onnxruntime-common";
import type { DeviceKvCopier, OrtModule } from "../engine/recurrent-model.ts";

/** The slice of WebGPU this file uses (the DOM library of this TypeScript has no WebGPU types). */
interface GpuBuffer {
  readonly size: number;
  destroy(): void;
  mapAsync(mode: number): Promise<void>;
  getMappedRange(): ArrayBuffer;
}
export interface GpuDevice {
  createBuffer(descriptor: { size: number; usage: number }): GpuBuffer;
  createCommandEncoder(): {
    copyBufferToBuffer(
      source: GpuBuffer,
      sourceOffset: number,
      destination: GpuBuffer,
      destinationOffset: number,
      size: number,
    ): void;
    finish(): unknown;
  };
  queue: { submit(commands: unknown[]): void };
}

// GPUBufferUsage and GPUMapMode flags (WebGPU spec).
const MAP_READ = 0x1;
const COPY_SRC = 0x4;
const COPY_DST = 0x8;
const STORAGE = 0x80;
const MAP_MODE_READ = 0x1;

export function webGpuKvCopier(ort: OrtModule, device: GpuDevice): DeviceKvCopier {
  /** A buffer the page owns, wrapped as a tensor that frees it on dispose and can be read back. */
  const tensorOf = (type: "float32" | "float16", dims: number[], bytes: number) => {
    // WebGPU copies move whole 4-byte words; a buffer of 0 bytes cannot be bound.
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    const buffer = device.createBuffer({ size, usage: STORAGE | COPY_SRC | COPY_DST });
    const download = async () => {
      const staging = device.createBuffer({ size, usage: MAP_READ | COPY_DST });
      try {
        const encoder = device.createCommandEncoder();
        encoder.copyBufferToBuffer(buffer, 0, staging, 0, size);
        device.queue.submit([encoder.finish()]);
        await staging.mapAsync(MAP_MODE_READ);
        const data = staging.getMappedRange().slice(0, bytes);
        return type === "float32" ? new Float32Array(data) : new Uint16Array(data);
      } finally {
        staging.destroy();
      }
    };
    return ort.Tensor.fromGpuBuffer(buffer as unknown as Ort.Tensor.GpuBufferType, {
      dataType: type,
      dims,
      download,
      dispose: () => buffer.destroy(),
    }) as Ort.Tensor;
  };

  return {
    copy(tensor, rows, slots, used) {
      const [, heads, from, headDim] = tensor.dims;
      if (tensor.type !== "float32" && tensor.type !== "float16") {
        throw new TypeError(`a WebGPU KV cache holds float32 or float16, not ${tensor.type}`);
      }
      const position = headDim * (tensor.type === "float32" ? 4 : 2);
      const dims = [rows.length, heads, slots, headDim];
      const out = tensorOf(tensor.type, dims, rows.length * heads * slots * position);
      const source = tensor.gpuBuffer as unknown as GpuBuffer;
      const target = out.gpuBuffer as unknown as GpuBuffer;
      const encoder = device.createCommandEncoder();
      for (const [i, row] of rows.entries()) {
        if (used === 0) continue;
        if (used === from && from === slots) {
          // Whole rows: one copy per batch row.
          const bytes = heads * slots * position;
          encoder.copyBufferToBuffer(source, row * bytes, target, i * bytes, bytes);
          continue;
        }
        for (let h = 0; h < heads; h++) {
          encoder.copyBufferToBuffer(
            source,
            (row * heads + h) * from * position,
            target,
            (i * heads + h) * slots * position,
            used * position,
          );
        }
      }
      device.queue.submit([encoder.finish()]);
      return out;
    },
  };
}
