/**
 * Builds ONNX model bytes for tests from a short description, encoded with protobufjs and the
 * schema import decodes with (field numbers from the ONNX IR spec; proto.test.ts checks the
 * decoder on bytes written by hand, independently of this encoder).
 */
import protobuf from "protobufjs";
import { ONNX_PROTO } from "../../compiler/onnx/schema.js";

export type AttrSpec = { i: number } | { f: number } | { s: string } | { ints: number[] } | { floats: number[] } | { t: TensorSpec };

export interface TensorSpec {
  name?: string;
  dims: number[];
  /** TensorProto.DataType (default 1, FLOAT). */
  type?: number;
  values: number[];
  /** Store the values in raw_data (little-endian) instead of the typed field. */
  raw?: boolean;
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attrs?: Record<string, AttrSpec>;
}

export interface ValueSpec {
  name: string;
  type?: number;
  /** Numbers are fixed dims, strings symbolic ones; absent: no shape. */
  dims?: (number | string)[];
}

export interface ModelSpec {
  nodes: NodeSpec[];
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  initializers?: TensorSpec[];
  opset?: number;
}

const root = protobuf.parse(ONNX_PROTO, { keepCase: true }).root;

function rawBytes(t: TensorSpec): Uint8Array {
  const type = t.type ?? 1;
  const width: Record<number, number> = { 1: 4, 2: 1, 3: 1, 6: 4, 7: 8, 9: 1, 11: 8 };
  const w = width[type];
  const dv = new DataView(new ArrayBuffer(w * t.values.length));
  t.values.forEach((v, i) => {
    if (type === 1) dv.setFloat32(i * w, v, true);
    else if (type === 11) dv.setFloat64(i * w, v, true);
    else if (type === 6) dv.setInt32(i * w, v, true);
    else if (type === 7) dv.setBigInt64(i * w, BigInt(v), true);
    else if (type === 3) dv.setInt8(i * w, v);
    else dv.setUint8(i * w, v);
  });
  return new Uint8Array(dv.buffer);
}

function tensor(t: TensorSpec): Record<string, unknown> {
  const type = t.type ?? 1;
  const out: Record<string, unknown> = { name: t.name ?? "", dims: t.dims, data_type: type };
  if (t.raw) out.raw_data = rawBytes(t);
  else if (type === 1) out.float_data = t.values;
  else if (type === 11) out.double_data = t.values;
  else if (type === 7) out.int64_data = t.values;
  else out.int32_data = t.values;
  return out;
}

function attr(name: string, a: AttrSpec): Record<string, unknown> {
  if ("i" in a) return { name, type: 2, i: a.i };
  if ("f" in a) return { name, type: 1, f: a.f };
  if ("s" in a) return { name, type: 3, s: new TextEncoder().encode(a.s) };
  if ("ints" in a) return { name, type: 7, ints: a.ints };
  if ("floats" in a) return { name, type: 6, floats: a.floats };
  return { name, type: 4, t: tensor(a.t) };
}

function valueInfo(v: ValueSpec): Record<string, unknown> {
  const tt: Record<string, unknown> = { elem_type: v.type ?? 1 };
  if (v.dims) tt.shape = { dim: v.dims.map((d) => (typeof d === "number" ? { dim_value: d } : { dim_param: d })) };
  return { name: v.name, type: { tensor_type: tt } };
}

/** The bytes of a model.onnx for `spec`. */
export function buildModel(spec: ModelSpec): Uint8Array {
  const type = root.lookupType("onnx.ModelProto");
  const msg = type.fromObject({
    ir_version: 8,
    producer_name: "kiln-test",
    opset_import: [{ domain: "", version: spec.opset ?? 17 }],
    graph: {
      name: "g",
      node: spec.nodes.map((n, k) => ({
        name: n.name ?? `${n.op.toLowerCase()}_${k}`,
        op_type: n.op,
        domain: n.domain ?? "",
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attrs ?? {}).map(([k2, a]) => attr(k2, a)),
      })),
      initializer: (spec.initializers ?? []).map(tensor),
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
    },
  });
  return type.encode(msg).finish();
}
