// The statically generated ONNX protobuf classes (onnx-proto), re-exported with ESM-friendly names.
import onnxProto from "onnx-proto";

export const onnx = onnxProto.onnx;
export type TensorProto = InstanceType<typeof onnxProto.onnx.TensorProto>;
export type GraphProto = InstanceType<typeof onnxProto.onnx.GraphProto>;
export type NodeProto = InstanceType<typeof onnxProto.onnx.NodeProto>;
export type ValueInfoProto = InstanceType<typeof onnxProto.onnx.ValueInfoProto>;
export const DataType = onnxProto.onnx.TensorProto.DataType;
export const AttributeType = onnxProto.onnx.AttributeProto.AttributeType;
