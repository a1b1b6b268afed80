// Writes safetensors files for tests (F32, F16 or BF16), optionally with a deliberately bad header.
import { writeFileSync } from "node:fs";
import { floatToHalfBits } from "../onnx/half.ts";

export type TestDtype = "F32" | "F16" | "BF16" | "F64";

export interface TestTensor {
  data: Float32Array;
  shape: number[];
  dtype?: TestDtype;
}

export function encodeSafetensors(tensors: Record<string, TestTensor>): Uint8Array {
  const header: Record<string, unknown> = {};
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, { data, shape, dtype = "F32" }] of Object.entries(tensors)) {
    const bytes = encode(data, dtype);
    header[name] = { dtype, shape, data_offsets: [offset, offset + bytes.byteLength] };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  let headerText = JSON.stringify(header);
  while ((8 + headerText.length) % 8 !== 0) headerText += " ";
  const headerBytes = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

export function writeSafetensors(path: string, tensors: Record<string, TestTensor>): void {
  writeFileSync(path, encodeSafetensors(tensors));
}

function encode(data: Float32Array, dtype: TestDtype): Uint8Array {
  switch (dtype) {
    case "F32":
      return new Uint8Array(data.slice().buffer);
    case "F64":
      return new Uint8Array(Float64Array.from(data).buffer);
    case "F16":
      return new Uint8Array(Uint16Array.from(data, (v) => floatToHalfBits(v)).buffer);
    case "BF16": {
      const bits = new Uint32Array(data.slice().buffer);
      return new Uint8Array(Uint16Array.from(bits, (b) => b >>> 16).buffer);
    }
  }
}
