// Reads safetensors files (single or sharded) into float32 tensors, checking every header claim
// against the file before trusting it: a truncated download must fail loudly, naming the tensor.
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from "node:fs";
import { dirname, join } from "node:path";
import { z } from "zod";
import { TensorError, WeightsFileError } from "./errors.ts";

const SUPPORTED_DTYPES = { F32: 4, F16: 2, BF16: 2 } as const;
type SupportedDtype = keyof typeof SUPPORTED_DTYPES;

const TensorHeaderSchema = z.object({
  dtype: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  data_offsets: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
});

const IndexSchema = z.object({ weight_map: z.record(z.string(), z.string()) });

export interface TensorInfo {
  name: string;
  dtype: string;
  shape: number[];
  file: string;
  /** Absolute byte offset of the tensor data in `file`. */
  offset: number;
  bytes: number;
}

/** Read access to the tensors of one model, wherever they are stored. */
export class SafetensorsCollection {
  readonly tensors: ReadonlyMap<string, TensorInfo>;

  constructor(tensors: Map<string, TensorInfo>) {
    this.tensors = tensors;
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): TensorInfo {
    const info = this.tensors.get(name);
    if (!info) {
      throw new TensorError(
        `tensor ${name} is missing from the checkpoint (${this.tensors.size} tensors found); ` +
          "check that the model files are complete and of a supported architecture",
      );
    }
    return info;
  }

  /** Loads a tensor as float32, checking its shape when `expectedShape` is given. */
  read(name: string, expectedShape?: readonly number[]): Float32Array {
    const info = this.info(name);
    if (expectedShape && !sameShape(info.shape, expectedShape)) {
      throw new TensorError(
        `tensor ${name} in ${info.file} has shape [${info.shape}] but the config implies ` +
          `[${expectedShape}]; the weights do not belong to this config.json`,
      );
    }
    const raw = readBytes(info);
    return toFloat32(raw, info);
  }
}

/** Opens `model.safetensors` or a sharded `model.safetensors.index.json` in `dir`, or one file path. */
export function openSafetensors(path: string): SafetensorsCollection {
  if (!existsSync(path)) {
    throw new WeightsFileError(`weights file not found: ${path}`);
  }
  if (path.endsWith(".index.json")) return openSharded(path);
  return new SafetensorsCollection(readHeader(path));
}

/** Finds the weights of a Hugging Face model directory (single file or sharded). */
export function findSafetensors(dir: string): string {
  for (const name of ["model.safetensors", "model.safetensors.index.json"]) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  throw new WeightsFileError(
    `no model.safetensors or model.safetensors.index.json in ${dir}; ` +
      "evals reads safetensors weights only (convert .bin/.pth checkpoints with transformers first)",
  );
}

function openSharded(indexPath: string): SafetensorsCollection {
  const parsed = IndexSchema.safeParse(parseJsonFile(indexPath));
  if (!parsed.success) {
    throw new WeightsFileError(`${indexPath} is not a safetensors index: it needs a "weight_map"`);
  }
  const tensors = new Map<string, TensorInfo>();
  const shards = new Set(Object.values(parsed.data.weight_map));
  for (const shard of shards) {
    const shardPath = join(dirname(indexPath), shard);
    if (!existsSync(shardPath)) {
      throw new WeightsFileError(
        `shard ${shard} listed in ${indexPath} is missing; download the complete model`,
      );
    }
    for (const [name, info] of readHeader(shardPath)) tensors.set(name, info);
  }
  for (const [name, shard] of Object.entries(parsed.data.weight_map)) {
    if (!tensors.has(name)) {
      throw new WeightsFileError(
        `${indexPath} maps ${name} to ${shard}, which does not contain it`,
      );
    }
  }
  return new SafetensorsCollection(tensors);
}

function parseJsonFile(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new WeightsFileError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
}

function readHeader(file: string): Map<string, TensorInfo> {
  const fd = openSync(file, "r");
  try {
    const size = fstatSync(fd).size;
    if (size < 8)
      throw new WeightsFileError(`${file} is truncated (${size} bytes); download it again`);
    const lengthBytes = Buffer.alloc(8);
    readSync(fd, lengthBytes, 0, 8, 0);
    const headerLength = Number(lengthBytes.readBigUInt64LE(0));
    if (headerLength > size - 8 || headerLength > 100_000_000) {
      throw new WeightsFileError(
        `${file} declares a ${headerLength}-byte header but is ${size} bytes long; ` +
          "the file is truncated or not safetensors",
      );
    }
    const headerBytes = Buffer.alloc(headerLength);
    readSync(fd, headerBytes, 0, headerLength, 8);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(headerBytes.toString("utf8"));
    } catch {
      throw new WeightsFileError(`${file} has a corrupt safetensors header (not JSON)`);
    }
    return tensorsOf(file, header, 8 + headerLength, size);
  } finally {
    closeSync(fd);
  }
}

function tensorsOf(
  file: string,
  header: Record<string, unknown>,
  dataStart: number,
  fileSize: number,
): Map<string, TensorInfo> {
  const tensors = new Map<string, TensorInfo>();
  for (const [name, value] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const parsed = TensorHeaderSchema.safeParse(value);
    if (!parsed.success) {
      throw new WeightsFileError(`${file}: header entry for tensor ${name} is malformed`);
    }
    const {
      dtype,
      shape,
      data_offsets: [begin, end],
    } = parsed.data;
    const elementBytes = SUPPORTED_DTYPES[dtype as SupportedDtype];
    const elements = shape.reduce((a, b) => a * b, 1);
    if (elementBytes !== undefined && end - begin !== elements * elementBytes) {
      throw new WeightsFileError(
        `${file}: tensor ${name} claims bytes ${begin}..${end} but shape [${shape}] of ${dtype} ` +
          `needs ${elements * elementBytes}; the header lies, download the file again`,
      );
    }
    if (end < begin || dataStart + end > fileSize) {
      throw new WeightsFileError(
        `${file}: tensor ${name} ends at byte ${dataStart + end} but the file has ${fileSize}; ` +
          "the file is truncated, download it again",
      );
    }
    tensors.set(name, { name, dtype, shape, file, offset: dataStart + begin, bytes: end - begin });
  }
  return tensors;
}

function readBytes(info: TensorInfo): Uint8Array {
  const fd = openSync(info.file, "r");
  try {
    // A fresh ArrayBuffer per tensor keeps the data 4-byte aligned for a zero-copy Float32Array view.
    const bytes = new Uint8Array(new ArrayBuffer(info.bytes));
    let done = 0;
    while (done < info.bytes) {
      const read = readSync(
        fd,
        bytes,
        done,
        Math.min(info.bytes - done, 1 << 30),
        info.offset + done,
      );
      if (read === 0) throw new WeightsFileError(`${info.file}: tensor ${info.name} is truncated`);
      done += read;
    }
    return bytes;
  } finally {
    closeSync(fd);
  }
}

function toFloat32(raw: Uint8Array, info: TensorInfo): Float32Array {
  switch (info.dtype) {
    case "F32":
      return new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
    case "F16": {
      const halves = new Uint16Array(raw.buffer, raw.byteOffset, raw.byteLength / 2);
      const table = halfTable();
      const out = new Float32Array(halves.length);
      for (let i = 0; i < halves.length; i++) out[i] = table[halves[i]];
      return out;
    }
    case "BF16": {
      const halves = new Uint16Array(raw.buffer, raw.byteOffset, raw.byteLength / 2);
      const out = new Float32Array(halves.length);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < halves.length; i++) bits[i] = halves[i] << 16;
      return out;
    }
    default:
      throw new TensorError(
        `tensor ${info.name} in ${info.file} has dtype ${info.dtype}; evals reads F32, F16 and BF16 ` +
          "(convert the checkpoint with transformers' save_pretrained in one of those)",
      );
  }
}

let halfLookup: Float32Array | null = null;
function halfTable(): Float32Array {
  if (!halfLookup) {
    halfLookup = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfLookup[h] = halfToFloat(h);
  }
  return halfLookup;
}

/** IEEE 754 binary16 → number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
