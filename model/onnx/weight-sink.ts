// Streams initializer data into the `<graph>.onnx.data` external-data file as the graph is built,
// so an export never holds the whole model twice and no .onnx file approaches protobuf's 2 GiB cap.
import { closeSync, openSync, writeSync } from "node:fs";
import { basename } from "node:path";
import { floatToHalf } from "./half.ts";
import { DataType, onnx, type TensorProto } from "./proto.ts";

export type FloatStorage = "fp32" | "fp16";

/** Tensors smaller than this stay inside the .onnx file. */
const EXTERNAL_THRESHOLD_BYTES = 1024;
/** External tensors start on this boundary, as onnx's own external-data writer aligns them. */
const ALIGNMENT = 64;

export class WeightSink {
  private fd: number | null = null;
  private offset = 0;
  readonly dataPath: string;

  constructor(dataPath: string) {
    this.dataPath = dataPath;
  }

  /** Bytes written to the external-data file so far (0: no file was needed). */
  get bytesWritten(): number {
    return this.offset;
  }

  /** A float initializer stored as `storage`; large ones go to the external-data file. */
  floatTensor(
    name: string,
    data: Float32Array,
    dims: readonly number[],
    storage: FloatStorage,
  ): TensorProto {
    const bytes =
      storage === "fp16"
        ? new Uint8Array(floatToHalf(data).buffer)
        : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const dataType = storage === "fp16" ? DataType.FLOAT16 : DataType.FLOAT;
    return this.rawTensor(name, bytes, dims, dataType);
  }

  /** An initializer of any element type from its little-endian bytes (e.g. packed uint8 codes). */
  rawTensor(
    name: string,
    bytes: Uint8Array,
    dims: readonly number[],
    dataType: number,
  ): TensorProto {
    if (bytes.byteLength < EXTERNAL_THRESHOLD_BYTES) {
      return onnx.TensorProto.create({ name, dims: [...dims], dataType, rawData: bytes.slice() });
    }
    return this.external(name, bytes, dims, dataType);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private external(
    name: string,
    bytes: Uint8Array,
    dims: readonly number[],
    dataType: number,
  ): TensorProto {
    if (this.fd === null) this.fd = openSync(this.dataPath, "w");
    const padding = (ALIGNMENT - (this.offset % ALIGNMENT)) % ALIGNMENT;
    if (padding) writeSync(this.fd, new Uint8Array(padding));
    this.offset += padding;
    const start = this.offset;
    let written = 0;
    while (written < bytes.byteLength) written += writeSync(this.fd, bytes, written);
    this.offset += bytes.byteLength;
    return onnx.TensorProto.create({
      name,
      dims: [...dims],
      dataType,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: "location", value: basename(this.dataPath) },
        { key: "offset", value: String(start) },
        { key: "length", value: String(bytes.byteLength) },
      ],
    });
  }
}
