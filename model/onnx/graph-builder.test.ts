// Graph outputs are written by the node that computes them (no Identity copy), later ops still
// read them, and inputs passed straight through still come out; checked by running the graph.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { afterAll, describe, expect, it } from "vitest";
import { GraphBuilder } from "./graph-builder.ts";
import { DataType, onnx } from "./proto.ts";
import { WeightSink } from "./weight-sink.ts";

const work = mkdtempSync(join(tmpdir(), "evals-graph-builder-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("GraphBuilder.output", () => {
  it("names the producer's output, keeps later consumers, and passes inputs through", async () => {
    const g = new GraphBuilder("t", new WeightSink(join(work, "t.onnx.data")), "fp32");
    const x = g.input("x", DataType.FLOAT, [2]);
    const doubled = g.op("Add", [x, x]);
    g.output("doubled", doubled, DataType.FLOAT, [2]);
    // Built after the output was declared, reading the value by its old name.
    const squared = g.op("Mul", [doubled, doubled]);
    g.output("squared", squared, DataType.FLOAT, [2]);
    g.output("again", doubled, DataType.FLOAT, [2]); // a second name for one value
    g.output("echo", x, DataType.FLOAT, [2]); // an input: nothing to rename
    const bytes = g.encode();

    const graph = onnx.ModelProto.decode(bytes).graph!;
    const producers = new Map(graph.node!.flatMap((n) => n.output!.map((o) => [o, n.opType])));
    expect(producers.get("doubled")).toBe("Add");
    expect(producers.get("squared")).toBe("Mul");
    expect(graph.node!.filter((n) => n.opType === "Identity")).toHaveLength(2);

    const session = await ort.InferenceSession.create(bytes);
    const out = await session.run({ x: new ort.Tensor("float32", Float32Array.of(1.5, -3), [2]) });
    expect([...(out.doubled.data as Float32Array)]).toEqual([3, -6]);
    expect([...(out.squared.data as Float32Array)]).toEqual([9, 36]);
    expect([...(out.again.data as Float32Array)]).toEqual([3, -6]);
    expect([...(out.echo.data as Float32Array)]).toEqual([1.5, -3]);
  });
});

describe("GraphBuilder.ifElse", () => {
  it("runs the branch the condition picks; a value renamed as an output is read by its new name inside branches", async () => {
    const g = new GraphBuilder("if", new WeightSink(join(work, "if.onnx.data")), "fp32");
    const x = g.input("x", DataType.FLOAT, [2]);
    const flag = g.input("flag", DataType.BOOL, []);
    const doubled = g.op("Add", [x, x]);
    const outputs = [{ elemType: DataType.FLOAT, dims: [2] }];
    const [picked] = g.ifElse(
      flag,
      outputs,
      () => [g.op("Mul", [doubled, g.float([10])])],
      () => [g.op("Neg", [doubled])],
    );
    // Renamed after the branches read it: the branch nodes must follow the new name.
    g.output("doubled", doubled, DataType.FLOAT, [2]);
    g.output("picked", picked, DataType.FLOAT, [2]);
    const bytes = g.encode();

    const session = await ort.InferenceSession.create(bytes);
    const run = async (value: boolean) =>
      session.run({
        x: new ort.Tensor("float32", Float32Array.of(1, -2), [2]),
        flag: new ort.Tensor("bool", Uint8Array.of(value ? 1 : 0), []),
      });
    expect([...((await run(true)).picked.data as Float32Array)]).toEqual([20, -40]);
    const otherwise = await run(false);
    expect([...(otherwise.picked.data as Float32Array)]).toEqual([-2, 4]);
    expect([...(otherwise.doubled.data as Float32Array)]).toEqual([2, -4]);
  });
});

describe("GraphBuilder settings", () => {
  it("refuses fp16 compute with fused operators (their attention bias is fp32)", () => {
    const sink = new WeightSink(join(work, "refused.onnx.data"));
    expect(() => new GraphBuilder("block", sink, "fp16", null, "fused", "fp16")).toThrow(
      /fused graphs compute in fp32/,
    );
  });
});
