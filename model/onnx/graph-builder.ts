// A small builder for ONNX graphs: named inputs and outputs, initializers through a WeightSink,
// and `op()` that returns the output name so graph code reads like the maths it computes.

import { floatToHalf } from "./half.ts";
import {
  DataType,
  type GraphProto,
  type NodeProto,
  onnx,
  type TensorProto,
  type ValueInfoProto,
} from "./proto.ts";
import { type QuantBits, quantizeBlockwise, quantizeColumnsSymmetric } from "./quantize.ts";
import type { FloatStorage, WeightSink } from "./weight-sink.ts";

export const OPSET = 17;
/** The smallest normal float32: the scale floor that keeps an all-zero row's codes 0, not NaN. */
const SMALLEST_NORMAL_FLOAT = 1.1754943508222875e-38;
/**
 * onnxruntime's contrib operators: MatMulNBits and GatherBlockQuantized
 * (quantized graphs), SkipSimplifiedLayerNormalization and RotaryEmbedding (fused graphs).
 */
export const MS_DOMAIN = "com.microsoft";

/** Weight quantization of a graph's linear layers and embedding (model/graphs.md). */
export interface QuantSpec {
  /**
   * `MatMulNBits` (q8/q4: block-wise codes, default) or `MatMulInteger` (i8: int8 weights with one
   * scale per output column, activations quantized to int8 per row at run time).
   */
  linear?: "MatMulNBits" | "MatMulInteger";
  bits: QuantBits;
  /** Weights per block of MatMulNBits and of the GatherBlockQuantized embedding. */
  blockSize: number;
  /**
   * MatMulNBits' `accuracy_level`: the lowest precision the kernel may compute in (0 the kernel's
   * default, 1 fp32, 2 fp16, 3 bf16, 4 int8 activations). Default 0.
   */
  accuracyLevel?: number;
}
/**
 * `plain`: standard operators only (the reference). `fused`: RMSNorm, residual add + RMSNorm and
 * RoPE as onnxruntime's fused operators (model/graphs.md, "Fused-operator graphs").
 */
export type OperatorSet = "plain" | "fused";
const IR_VERSION = 8;

/**
 * What the graph computes in: `fp32` (fp16 weights are cast up), or `fp16` (weights used as
 * stored, activations and KV in half precision; model/graphs.md says where fp32 remains).
 */
export type ComputeType = "fp32" | "fp16";

export type Dim = number | string;
type AttributeValue = number | number[] | string | TensorProto | GraphProto;

export class GraphBuilder {
  private nodes: NodeProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly counters = new Map<string, number>();
  private readonly constants = new Map<string, string>();
  private usesContribOps = false;
  /** Values that became graph outputs, by the name ops were given them under. */
  private readonly renamed = new Map<string, string>();

  constructor(
    readonly name: string,
    private readonly sink: WeightSink,
    readonly storage: FloatStorage,
    /** When set, linear layers are `MatMulNBits` and the embedding `GatherBlockQuantized`. */
    readonly quant: QuantSpec | null = null,
    readonly operators: OperatorSet = "plain",
    readonly compute: ComputeType = "fp32",
  ) {
    if (compute === "fp16" && (storage !== "fp16" || quant)) {
      throw new Error(
        `${name}: fp16 compute needs fp16 weights, not ${quant ? "quantized" : storage}`,
      );
    }
    // Fused graphs feed the fp32 attention bias to GroupQueryAttention (model/onnx/layers.ts).
    if (compute === "fp16" && operators === "fused") {
      throw new Error(`${name}: fused graphs compute in fp32 (the fp16-compute variant is plain)`);
    }
  }

  /** ONNX element type of activations and KV caches. */
  get activationType(): number {
    return this.compute === "fp16" ? DataType.FLOAT16 : DataType.FLOAT;
  }

  /** `x` in the activation type (a Cast only in an fp16-compute graph). */
  toActivation(x: string): string {
    return this.compute === "fp16" ? this.op("Cast", [x], { to: DataType.FLOAT16 }) : x;
  }

  /** `x` (an activation) in float32, where precision needs it (a Cast only in fp16 compute). */
  toFloat(x: string): string {
    return this.compute === "fp16" ? this.op("Cast", [x], { to: DataType.FLOAT }) : x;
  }

  /** A small constant in the activation type, deduplicated by value. */
  activationConstant(values: readonly number[], dims: readonly number[] = []): string {
    if (this.compute === "fp32") return this.float(values, dims);
    return this.constant("f16", values, dims, () =>
      onnx.TensorProto.create({
        dims: [...dims],
        dataType: DataType.FLOAT16,
        rawData: new Uint8Array(floatToHalf(Float32Array.from(values)).buffer),
      }),
    );
  }

  input(name: string, elemType: number, dims: readonly Dim[]): string {
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  /**
   * Declares `value` a graph output named `name`. The node that computes `value` writes it under
   * `name` directly (later ops naming `value` read `name`): an Identity per output would copy every
   * KV cache once more per step. An Identity remains only where there is no such node to rename
   * (a graph input, an initializer, a value already output under another name).
   */
  output(name: string, value: string, elemType: number, dims: readonly Dim[]): void {
    const current = this.renamed.get(value) ?? value;
    const producer = this.nodes.find((node) => node.output.includes(current));
    if (!producer || this.outputs.some((o) => o.name === current)) {
      this.op("Identity", [current], {}, name);
    } else {
      producer.output = producer.output.map((o) => (o === current ? name : o));
      renameInputs(this.nodes, current, name);
      this.renamed.set(value, name);
    }
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  /**
   * A float weight, stored as fp32 or fp16 per the export's dtype. In an fp32-compute graph fp16
   * weights are cast back to float32, so activations stay fp32 on every backend.
   */
  weight(name: string, data: Float32Array, dims: readonly number[]): string {
    this.initializers.push(this.sink.floatTensor(name, data, dims, this.storage));
    if (this.storage === "fp32" || this.compute === "fp16") return name;
    return this.op("Cast", [name], { to: DataType.FLOAT });
  }

  /** A float16 initializer, not cast: the graph converts what it reads from it. */
  halfInitializer(name: string, data: Float32Array, dims: readonly number[]): string {
    this.initializers.push(this.sink.floatTensor(name, data, dims, "fp16"));
    return name;
  }

  /**
   * x [.., K] · Wᵀ with W [N, K] (Hugging Face's [out, in] layout) quantized block-wise along K:
   * one `MatMulNBits` node, whose B input is exactly this layout.
   */
  quantizedMatMul(x: string, name: string, w: Float32Array, n: number, k: number): string {
    const { bits, blockSize, accuracyLevel = 0 } = this.requireQuant();
    const q = quantizeBlockwise(w, n, k, bits, blockSize);
    const blob = (blockSize * bits) / 8;
    const inputs = [
      this.raw(name, q.data, [n, q.blocks, blob], DataType.UINT8),
      this.raw(`${name}.scales`, bytesOf(q.scales), [n * q.blocks], DataType.FLOAT),
      this.raw(`${name}.zero_points`, q.zeroPoints, [q.zeroPoints.length], DataType.UINT8),
    ];
    return this.contribOp("MatMulNBits", [x, ...inputs], {
      K: k,
      N: n,
      bits,
      block_size: blockSize,
      accuracy_level: accuracyLevel,
    });
  }

  /**
   * x [.., K] · Wᵀ with W [N, K] quantized to int8 per output column (symmetric, no zero point),
   * x quantized to int8 per row (per token, symmetric) at run time, so a token's result never
   * depends on the other rows of the call: scale_row = max |x_row| / 127 (the smallest normal
   * float for an all-zero row), x_q = round(x / scale_row), Y = MatMulInteger(x_q, B) · scale_row ·
   * b_scale with B = the codes of Wᵀ [K, N] and b_scale [N] (model/graphs.md, "int8 graphs").
   */
  int8MatMul(x: string, name: string, w: Float32Array, n: number, k: number): string {
    const q = quantizeColumnsSymmetric(w, n, k);
    const codes = new Uint8Array(q.codes.buffer, q.codes.byteOffset, q.codes.byteLength);
    const b = this.raw(name, codes, [k, n], DataType.INT8);
    const bScale = this.raw(`${name}.scales`, bytesOf(q.scales), [n], DataType.FLOAT);
    const absMax = this.op("ReduceMax", [this.op("Abs", [x])], { axes: [-1], keepdims: 1 });
    // A multiply by 1/127, not a divide: optimizers may turn the one into the other anyway.
    const rowScale = this.op("Mul", [
      this.op("Max", [absMax, this.float([SMALLEST_NORMAL_FLOAT])]),
      this.float([Math.fround(1 / 127)]),
    ]);
    const codesOfX = this.op("Round", [this.op("Div", [x, rowScale])]);
    // The codes shifted to uint8 with a fixed zero point of 128: the same integer product, but
    // onnxruntime-node's x64 uint8 × int8 kernel is 6× faster than its int8 × int8 one.
    const product = this.op("MatMulInteger", [
      this.op("Cast", [this.op("Add", [codesOfX, this.float([128])])], { to: DataType.UINT8 }),
      b,
      this.uint8(128),
    ]);
    const productFloat = this.op("Cast", [product], { to: DataType.FLOAT });
    return this.op("Mul", [this.op("Mul", [productFloat, rowScale]), bScale]);
  }

  /**
   * Rows of a [rows, cols] table gathered by `indices` and dequantized, from codes quantized
   * block-wise along each row (`GatherBlockQuantized`). Requires cols to be a whole number of
   * blocks, as the operator's packed data shape cannot express a padded last block.
   */
  quantizedGather(name: string, table: Float32Array, rows: number, cols: number, indices: string) {
    const { bits, blockSize } = this.requireQuant();
    if (cols % blockSize !== 0) throw new Error(`${name}: ${cols} columns is not whole blocks`);
    const q = quantizeBlockwise(table, rows, cols, bits, blockSize);
    const zpCols = q.zeroPoints.length / rows;
    const inputs = [
      this.raw(name, q.data, [rows, (cols * bits) / 8], DataType.UINT8),
      indices,
      this.raw(`${name}.scales`, bytesOf(q.scales), [rows, q.blocks], DataType.FLOAT),
      this.raw(`${name}.zero_points`, q.zeroPoints, [rows, zpCols], DataType.UINT8),
    ];
    return this.contribOp("GatherBlockQuantized", inputs, {
      gather_axis: 0,
      quantize_axis: 1,
      block_size: blockSize,
      bits,
    });
  }

  /** A float32 initializer kept in float32 whatever the export dtype (tables, not weights). */
  constTensor(name: string, data: Float32Array, dims: readonly number[]): string {
    this.initializers.push(this.sink.floatTensor(name, data, dims, "fp32"));
    return name;
  }

  /** A small int64 constant, deduplicated by value. */
  int64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.constant("i64", values, dims, () =>
      onnx.TensorProto.create({
        dims: [...dims],
        dataType: DataType.INT64,
        int64Data: [...values],
      }),
    );
  }

  /** An int32 scalar constant, deduplicated by value. */
  int32Scalar(value: number): string {
    return this.constant("i32", [value], [], () =>
      onnx.TensorProto.create({ dims: [], dataType: DataType.INT32, int32Data: [value] }),
    );
  }

  /** A uint8 scalar constant, deduplicated by value. */
  uint8(value: number): string {
    return this.constant("u8", [value], [], () =>
      onnx.TensorProto.create({
        dims: [],
        dataType: DataType.UINT8,
        rawData: Uint8Array.of(value),
      }),
    );
  }

  /** A small float32 constant, deduplicated by value. */
  float(values: readonly number[], dims: readonly number[] = []): string {
    return this.constant("f32", values, dims, () =>
      onnx.TensorProto.create({
        dims: [...dims],
        dataType: DataType.FLOAT,
        floatData: [...values],
      }),
    );
  }

  /** Adds a node; returns its (first) output name. */
  op(
    opType: string,
    inputs: readonly string[],
    attributes: Record<string, AttributeValue> = {},
    output?: string,
  ): string {
    return this.opMulti(opType, inputs, 1, attributes, output ? [output] : undefined)[0];
  }

  opMulti(
    opType: string,
    inputs: readonly string[],
    outputCount: number,
    attributes: Record<string, AttributeValue> = {},
    outputNames?: string[],
  ): string[] {
    const id = this.nextId(opType);
    const outputs = outputNames ?? Array.from({ length: outputCount }, (_, i) => `${id}_out${i}`);
    this.nodes.push(
      onnx.NodeProto.create({
        name: id,
        opType,
        input: inputs.map((input) => this.renamed.get(input) ?? input),
        output: outputs,
        attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
      }),
    );
    return outputs;
  }

  /** An onnxruntime `com.microsoft` operator; an empty output name skips an optional output. */
  contribOpMulti(
    opType: string,
    inputs: readonly string[],
    outputCount: number,
    attributes: Record<string, AttributeValue>,
    skip: readonly number[] = [],
  ): string[] {
    this.usesContribOps = true;
    const id = `${opType}_${this.counters.get(opType) ?? 0}`;
    const names = Array.from({ length: outputCount }, (_, i) =>
      skip.includes(i) ? "" : `${id}_out${i}`,
    );
    const outputs = this.opMulti(opType, inputs, outputCount, attributes, names);
    this.nodes[this.nodes.length - 1].domain = MS_DOMAIN;
    return outputs;
  }

  contribOp(
    opType: string,
    inputs: readonly string[],
    attributes: Record<string, AttributeValue>,
  ): string {
    return this.contribOpMulti(opType, inputs, 1, attributes)[0];
  }

  /**
   * An `If` on the boolean scalar `cond`: each branch is built by its callback (nodes added while it
   * runs go into that branch) and returns its output values, typed by `outputs`. Constants and
   * weights stay in the outer graph, where both branches see them.
   */
  ifElse(
    cond: string,
    outputs: readonly { elemType: number; dims: readonly Dim[] }[],
    thenBranch: () => string[],
    elseBranch: () => string[],
  ): string[] {
    const id = this.nextId("If");
    const branch = (name: string, build: () => string[]) => {
      const outer = this.nodes;
      this.nodes = [];
      try {
        const values = build().map((v) => this.renamed.get(v) ?? v);
        return onnx.GraphProto.create({
          name: `${id}_${name}`,
          node: this.nodes,
          output: values.map((v, i) => valueInfo(v, outputs[i].elemType, outputs[i].dims)),
        });
      } finally {
        this.nodes = outer;
      }
    };
    const thenGraph = branch("then", thenBranch);
    const elseGraph = branch("else", elseBranch);
    return this.opMulti("If", [cond], outputs.length, {
      then_branch: thenGraph,
      else_branch: elseGraph,
    });
  }

  private raw(name: string, bytes: Uint8Array, dims: readonly number[], dataType: number): string {
    this.initializers.push(this.sink.rawTensor(name, bytes, dims, dataType));
    return name;
  }

  private requireQuant(): QuantSpec {
    if (!this.quant) throw new Error(`graph ${this.name} is not quantized`);
    return this.quant;
  }

  /** Serialises the model. */
  encode(): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: "evals",
      opsetImport: [
        { domain: "", version: OPSET },
        ...(this.usesContribOps ? [{ domain: MS_DOMAIN, version: 1 }] : []),
      ],
      graph: onnx.GraphProto.create({
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      }),
    });
    return onnx.ModelProto.encode(model).finish();
  }

  private constant(
    kind: string,
    values: readonly number[],
    dims: readonly number[],
    make: () => TensorProto,
  ): string {
    const key = `${kind}:${dims.join("x")}:${values.join(",")}`;
    const existing = this.constants.get(key);
    if (existing) return existing;
    const name = this.nextId("const");
    const tensor = make();
    tensor.name = name;
    this.initializers.push(tensor);
    this.constants.set(key, name);
    return name;
  }

  private nextId(prefix: string): string {
    const n = this.counters.get(prefix) ?? 0;
    this.counters.set(prefix, n + 1);
    return `${prefix}_${n}`;
  }
}

/** Renames a value wherever `nodes` read it, inside `If` branches too (they read outer values). */
function renameInputs(nodes: readonly NodeProto[], from: string, to: string): void {
  for (const node of nodes) {
    node.input = node.input.map((input) => (input === from ? to : input));
    for (const attr of node.attribute)
      if (attr.g) renameInputs(attr.g.node as NodeProto[], from, to);
  }
}

function bytesOf(data: Float32Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function valueInfo(name: string, elemType: number, dims: readonly Dim[]): ValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType,
        shape: {
          dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })),
        },
      },
    },
  });
}

function attribute(name: string, value: AttributeValue) {
  const A = onnx.AttributeProto.AttributeType;
  if (typeof value === "string") {
    return { name, type: A.STRING, s: new TextEncoder().encode(value) };
  }
  if (Array.isArray(value)) return { name, type: A.INTS, ints: value };
  if (typeof value === "number") {
    return Number.isInteger(value) && name !== "epsilon" && name !== "alpha"
      ? { name, type: A.INT, i: value }
      : { name, type: A.FLOAT, f: value };
  }
  if (value instanceof onnx.GraphProto) return { name, type: A.GRAPH, g: value };
  return { name, type: A.TENSOR, t: value };
}
