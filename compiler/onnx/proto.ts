/**
 * Decoding ONNX protobuf bytes (a ModelProto, or a bare TensorProto as the ONNX test data
 * sets store them) into plain, typed objects, with protobufjs and the schema in schema.ts.
 * int64 fields come back as numbers (exact up to 2^53, which covers dims and indices).
 */
import protobuf from "protobufjs";
import { GraphError } from "../base/errors.js";
import { ONNX_PROTO } from "./schema.js";

export interface OnnxDimension {
  dimValue?: number;
  dimParam?: string;
}

export interface OnnxValueInfo {
  name: string;
  /** Element type (TensorProto.DataType) of a tensor value; undefined for sequences and maps. */
  elemType?: number;
  /** Dims of a tensor value; undefined when the shape is not given at all. */
  shape?: OnnxDimension[];
  /** "tensor", "sequence", "map", "optional", "sparse_tensor" or "" when absent. */
  kind: string;
}

export interface OnnxTensorProto {
  name: string;
  dims: number[];
  dataType: number;
  rawData?: Uint8Array;
  floatData: number[];
  int32Data: number[];
  int64Data: number[];
  doubleData: number[];
  uint64Data: number[];
  stringData: Uint8Array[];
  /** The data lives in an external file (data_location EXTERNAL), which import cannot read. */
  external: boolean;
}

export interface OnnxAttribute {
  name: string;
  /** AttributeProto.AttributeType */
  type: number;
  f: number;
  i: number;
  s: Uint8Array;
  t?: OnnxTensorProto;
  g?: OnnxGraph;
  floats: number[];
  ints: number[];
  strings: Uint8Array[];
  tensors: OnnxTensorProto[];
  graphs: OnnxGraph[];
  refAttrName: string;
}

export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: OnnxAttribute[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensorProto[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  valueInfo: OnnxValueInfo[];
}

export interface OnnxModel {
  irVersion: number;
  /** Opset version by domain ("" and "ai.onnx" are the default domain, stored under ""). */
  opsets: Map<string, number>;
  producerName: string;
  producerVersion: string;
  graph: OnnxGraph;
}

export const ATTR = {
  UNDEFINED: 0, FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5,
  FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10,
  SPARSE_TENSOR: 11, SPARSE_TENSORS: 12, TYPE_PROTO: 13, TYPE_PROTOS: 14,
} as const;

let root: protobuf.Root | undefined;
function schema(): protobuf.Root {
  root ??= protobuf.parse(ONNX_PROTO, { keepCase: true }).root;
  return root;
}

const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, enums: Number, defaults: true, arrays: true, oneofs: true };

type Obj = Record<string, unknown>;

function decode(typeName: string, bytes: Uint8Array, what: string): Obj {
  if (!(bytes instanceof Uint8Array)) throw new GraphError(`${what}: expected a Uint8Array of protobuf bytes, got ${typeof bytes}`);
  const type = schema().lookupType(typeName);
  let msg: protobuf.Message;
  try {
    msg = type.decode(bytes);
  } catch (e) {
    throw new GraphError(`${what}: not a valid ${typeName.replace("onnx.", "")} (${bytes.length} bytes): ${(e as Error).message}`);
  }
  return type.toObject(msg, TO_OBJECT) as Obj;
}

/** Decodes an ONNX model file's bytes. */
export function decodeModel(bytes: Uint8Array): OnnxModel {
  const m = decode("onnx.ModelProto", bytes, "ONNX model");
  if (!m.graph) throw new GraphError(`ONNX model: no graph (${bytes.length} bytes; is this an ONNX ModelProto?)`);
  const opsets = new Map<string, number>();
  for (const o of m.opset_import as Obj[]) {
    const d = o.domain as string;
    opsets.set(d === "ai.onnx" ? "" : d, o.version as number);
  }
  // IR version 2 models may omit opset_import: they mean opset 1.
  if (!opsets.has("")) opsets.set("", 1);
  return {
    irVersion: m.ir_version as number,
    opsets,
    producerName: m.producer_name as string,
    producerVersion: m.producer_version as string,
    graph: toGraph(m.graph as Obj),
  };
}

/** Decodes a serialized TensorProto (the input_N.pb / output_N.pb files of ONNX test data). */
export function decodeTensor(bytes: Uint8Array): OnnxTensorProto {
  return toTensor(decode("onnx.TensorProto", bytes, "ONNX tensor"));
}

function toGraph(g: Obj): OnnxGraph {
  return {
    name: g.name as string,
    nodes: (g.node as Obj[]).map(toNode),
    initializers: (g.initializer as Obj[]).map(toTensor),
    inputs: (g.input as Obj[]).map(toValueInfo),
    outputs: (g.output as Obj[]).map(toValueInfo),
    valueInfo: (g.value_info as Obj[]).map(toValueInfo),
  };
}

function toNode(n: Obj): OnnxNode {
  return {
    name: n.name as string,
    opType: n.op_type as string,
    domain: (n.domain as string) === "ai.onnx" ? "" : (n.domain as string),
    inputs: n.input as string[],
    outputs: n.output as string[],
    attributes: (n.attribute as Obj[]).map(toAttribute),
  };
}

function toAttribute(a: Obj): OnnxAttribute {
  return {
    name: a.name as string,
    type: a.type as number,
    f: a.f as number,
    i: a.i as number,
    s: a.s as Uint8Array,
    t: a.t ? toTensor(a.t as Obj) : undefined,
    g: a.g ? toGraph(a.g as Obj) : undefined,
    floats: a.floats as number[],
    ints: a.ints as number[],
    strings: a.strings as Uint8Array[],
    tensors: (a.tensors as Obj[]).map(toTensor),
    graphs: (a.graphs as Obj[]).map(toGraph),
    refAttrName: a.ref_attr_name as string,
  };
}

function toTensor(t: Obj): OnnxTensorProto {
  const raw = t.raw_data as Uint8Array;
  return {
    name: t.name as string,
    dims: t.dims as number[],
    dataType: t.data_type as number,
    rawData: raw && raw.length > 0 ? raw : undefined,
    floatData: t.float_data as number[],
    int32Data: t.int32_data as number[],
    int64Data: t.int64_data as number[],
    doubleData: t.double_data as number[],
    uint64Data: t.uint64_data as number[],
    stringData: t.string_data as Uint8Array[],
    external: (t.data_location as number) === 1,
  };
}

function toValueInfo(v: Obj): OnnxValueInfo {
  const type = v.type as Obj | undefined;
  const kind = (type?.value as string | undefined)?.replace(/_type$/, "") ?? "";
  const tt = type?.tensor_type as Obj | undefined;
  const shape = tt?.shape as Obj | undefined;
  return {
    name: v.name as string,
    kind,
    elemType: tt ? (tt.elem_type as number) : undefined,
    shape: shape
      ? (shape.dim as Obj[]).map((d) =>
          d.value === "dim_value" ? { dimValue: d.dim_value as number } : d.value === "dim_param" ? { dimParam: d.dim_param as string } : {},
        )
      : undefined,
  };
}
