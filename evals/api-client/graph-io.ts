// Input and output names of an ONNX graph, read from the file's protobuf framing without loading
// it: initializers and nodes are skipped by length, so a 2 GiB graph costs a few small reads.
import { type FileHandle, open } from "node:fs/promises";
import { CheckpointError } from "../../model/errors.ts";

/** ModelProto.graph, GraphProto.input/output, ValueInfoProto.name (onnx.proto3). */
const MODEL_GRAPH = 7;
const GRAPH_INPUT = 11;
const GRAPH_OUTPUT = 12;
const VALUE_INFO_NAME = 1;

export interface GraphIo {
  inputNames: string[];
  outputNames: string[];
}

/** A positional reader with a small window, enough for tags and length prefixes. */
class FileWindow {
  private buffer = Buffer.alloc(0);
  private start = 0;
  constructor(
    private readonly handle: FileHandle,
    readonly size: number,
  ) {}

  async bytes(offset: number, length: number): Promise<Buffer> {
    const end = offset + length;
    if (offset < this.start || end > this.start + this.buffer.length) {
      const want = Math.min(Math.max(length, 64 * 1024), this.size - offset);
      const chunk = Buffer.alloc(want);
      const { bytesRead } = await this.handle.read(chunk, 0, want, offset);
      this.buffer = chunk.subarray(0, bytesRead);
      this.start = offset;
    }
    return this.buffer.subarray(offset - this.start, end - this.start);
  }

  /** A varint at `offset`: its value and the offset after it. */
  async varint(offset: number): Promise<[number, number]> {
    const bytes = await this.bytes(offset, Math.min(10, this.size - offset));
    let value = 0;
    for (let i = 0; i < bytes.length; i++) {
      value += (bytes[i] & 0x7f) * 2 ** (7 * i);
      if ((bytes[i] & 0x80) === 0) return [value, offset + i + 1];
    }
    throw new Error(`a truncated varint at byte ${offset}`);
  }
}

/** Calls `onField` for every length-delimited field of the message in [start, end). */
async function walk(
  file: FileWindow,
  start: number,
  end: number,
  onField: (field: number, offset: number, length: number) => Promise<void>,
): Promise<void> {
  let at = start;
  while (at < end) {
    const [tag, afterTag] = await file.varint(at);
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (wire === 0) [, at] = await file.varint(afterTag);
    else if (wire === 1) at = afterTag + 8;
    else if (wire === 5) at = afterTag + 4;
    else if (wire === 2) {
      const [length, body] = await file.varint(afterTag);
      if (body + length > end) throw new Error(`field ${field} runs past its message`);
      await onField(field, body, length);
      at = body + length;
    } else throw new Error(`wire type ${wire} at byte ${at}`);
  }
}

async function valueInfoName(file: FileWindow, offset: number, length: number): Promise<string> {
  let name = "";
  await walk(file, offset, offset + length, async (field, at, size) => {
    if (field === VALUE_INFO_NAME) name = (await file.bytes(at, size)).toString("utf8");
  });
  return name;
}

/** Reads the graph's declared inputs and outputs. Example: `await readGraphIo("block.onnx")`. */
export async function readGraphIo(path: string): Promise<GraphIo> {
  const handle = await open(path, "r");
  try {
    const file = new FileWindow(handle, (await handle.stat()).size);
    const io: GraphIo = { inputNames: [], outputNames: [] };
    let graphs = 0;
    await walk(file, 0, file.size, async (field, offset, length) => {
      if (field !== MODEL_GRAPH) return;
      graphs++;
      await walk(file, offset, offset + length, async (inner, at, size) => {
        if (inner === GRAPH_INPUT) io.inputNames.push(await valueInfoName(file, at, size));
        if (inner === GRAPH_OUTPUT) io.outputNames.push(await valueInfoName(file, at, size));
      });
    });
    if (graphs !== 1) throw new Error("no graph in the model");
    return io;
  } catch (error) {
    if (error instanceof CheckpointError) throw error;
    throw new CheckpointError(
      `${path} is not a readable ONNX model (${(error as Error).message}); re-export the checkpoint`,
    );
  } finally {
    await handle.close();
  }
}
