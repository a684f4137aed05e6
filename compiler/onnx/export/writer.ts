/**
 * Encoding an ONNX ModelProto with protobufjs from the schema import reads (../schema.ts):
 * the model is built as plain objects with ONNX's own field names (snake_case, as the
 * schema spells them), checked and encoded by protobufjs.
 */
import protobuf from "protobufjs";
import { ONNX_PROTO } from "../schema.js";

/** AttributeProto.AttributeType values export writes. */
export const ATTR_TYPE = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

/** TensorProto.DataType values export writes. */
export const DATA_TYPE = { FLOAT: 1, INT64: 7 } as const;

export interface AttributeObject {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  floats?: number[];
  ints?: number[];
}

export interface NodeObject {
  name: string;
  op_type: string;
  input: string[];
  output: string[];
  attribute: AttributeObject[];
}

export interface TensorObject {
  name: string;
  dims: number[];
  data_type: number;
  /** Little-endian values. */
  raw_data: Uint8Array;
}

export interface ValueInfoObject {
  name: string;
  type: { tensor_type: { elem_type: number; shape: { dim: { dim_value: number }[] } } };
}

export interface ModelObject {
  ir_version: number;
  opset_import: { domain: string; version: number }[];
  producer_name: string;
  producer_version: string;
  doc_string?: string;
  graph: {
    name: string;
    node: NodeObject[];
    initializer: TensorObject[];
    input: ValueInfoObject[];
    output: ValueInfoObject[];
  };
}

let root: protobuf.Root | undefined;
function schema(): protobuf.Root {
  root ??= protobuf.parse(ONNX_PROTO, { keepCase: true }).root;
  return root;
}

/** The model's protobuf bytes. */
export function encodeModel(model: ModelObject): Uint8Array {
  const type = schema().lookupType("onnx.ModelProto");
  const err = type.verify(model);
  if (err) throw new Error(`ONNX export: the model does not fit ModelProto: ${err}`);
  return type.encode(type.fromObject(model)).finish();
}

/** A float32 tensor's ValueInfo with static dims. */
export function tensorValueInfo(name: string, dims: readonly number[], elemType: number = DATA_TYPE.FLOAT): ValueInfoObject {
  return { name, type: { tensor_type: { elem_type: elemType, shape: { dim: dims.map((d) => ({ dim_value: d })) } } } };
}

/** float32 values as a little-endian TensorProto. */
export function floatTensor(name: string, dims: readonly number[], values: ArrayLike<number>): TensorObject {
  const bytes = new Uint8Array(values.length * 4);
  const dv = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) dv.setFloat32(i * 4, values[i], true);
  return { name, dims: [...dims], data_type: DATA_TYPE.FLOAT, raw_data: bytes };
}

/** int64 values (exact up to 2^53) as a little-endian TensorProto. */
export function int64Tensor(name: string, dims: readonly number[], values: ArrayLike<number>): TensorObject {
  const bytes = new Uint8Array(values.length * 8);
  const dv = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) dv.setBigInt64(i * 8, BigInt(values[i]), true);
  return { name, dims: [...dims], data_type: DATA_TYPE.INT64, raw_data: bytes };
}

/** Attribute constructors (the name is filled in by the node builder). */
export const attr = {
  int: (i: number): Omit<AttributeObject, "name"> => ({ type: ATTR_TYPE.INT, i }),
  ints: (ints: readonly number[]): Omit<AttributeObject, "name"> => ({ type: ATTR_TYPE.INTS, ints: [...ints] }),
  float: (f: number): Omit<AttributeObject, "name"> => ({ type: ATTR_TYPE.FLOAT, f }),
  floats: (floats: readonly number[]): Omit<AttributeObject, "name"> => ({ type: ATTR_TYPE.FLOATS, floats: [...floats] }),
  string: (s: string): Omit<AttributeObject, "name"> => ({ type: ATTR_TYPE.STRING, s: new TextEncoder().encode(s) }),
};
