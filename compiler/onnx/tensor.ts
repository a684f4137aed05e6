/**
 * ONNX tensors as import sees them: dims, ONNX element type, the Kiln dtype that holds it,
 * and the values as float64 (exact for every type Kiln maps, int64 up to 2^53). Reads
 * raw_data (little-endian) and every typed field of TensorProto.
 */
import { DType } from "../base/dtype.js";
import { shapeSize } from "../base/shape.js";
import type { OnnxTensorProto } from "./proto.js";
import { OnnxUnsupportedError } from "./errors.js";

export const ONNX_TYPE = {
  UNDEFINED: 0, FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9,
  FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, COMPLEX64: 14, COMPLEX128: 15, BFLOAT16: 16,
} as const;

const TYPE_NAMES: Record<number, string> = {
  0: "undefined", 1: "float", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64", 8: "string", 9: "bool",
  10: "float16", 11: "double", 12: "uint32", 13: "uint64", 14: "complex64", 15: "complex128", 16: "bfloat16",
  17: "float8e4m3fn", 18: "float8e4m3fnuz", 19: "float8e5m2", 20: "float8e5m2fnuz", 21: "uint4", 22: "int4", 23: "float4e2m1",
};

export function onnxTypeName(t: number): string {
  return TYPE_NAMES[t] ?? `type ${t}`;
}

/**
 * The Kiln dtype holding an ONNX element type. bool becomes uint8 (0/1), as MXNet's ONNX
 * importer does; int16 and uint16 widen to int32, uint32 to int64. Types with no exact
 * holder (uint64, bfloat16, float8, complex, string) are unsupported.
 */
export function kilnDType(onnxType: number, where: string): DType {
  switch (onnxType) {
    case ONNX_TYPE.FLOAT: return "float32";
    case ONNX_TYPE.DOUBLE: return "float64";
    case ONNX_TYPE.FLOAT16: return "float16";
    case ONNX_TYPE.INT32: return "int32";
    case ONNX_TYPE.INT64: return "int64";
    case ONNX_TYPE.UINT8: return "uint8";
    case ONNX_TYPE.INT8: return "int8";
    case ONNX_TYPE.BOOL: return "uint8";
    case ONNX_TYPE.INT16: case ONNX_TYPE.UINT16: return "int32";
    case ONNX_TYPE.UINT32: return "int64";
  }
  throw new OnnxUnsupportedError([{ opType: "(tensor)", nodeName: where, reason: `element type ${onnxTypeName(onnxType)} has no Kiln dtype` }]);
}

/** A constant: an initializer, a Constant node's value, or a value folded at import. */
export interface ConstTensor {
  /** ONNX dims; [] is a scalar. */
  readonly dims: readonly number[];
  readonly onnxType: number;
  readonly dtype: DType;
  readonly values: Float64Array;
}

export function constTensor(dims: readonly number[], onnxType: number, values: ArrayLike<number>, where = "constant"): ConstTensor {
  const n = shapeSize(dims);
  if (values.length !== n) throw new Error(`${where}: ${values.length} values for dims [${dims.join(",")}]`);
  return { dims: [...dims], onnxType, dtype: kilnDType(onnxType, where), values: Float64Array.from(values) };
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

function bfloat16ToFloat(h: number): number {
  const b = new DataView(new ArrayBuffer(4));
  b.setUint32(0, (h & 0xffff) << 16);
  return b.getFloat32(0);
}

function readRaw(raw: Uint8Array, type: number, n: number, where: string): Float64Array {
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Float64Array(n);
  const size: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };
  const w = size[type];
  if (w === undefined) throw new OnnxUnsupportedError([{ opType: "(tensor)", nodeName: where, reason: `raw_data of type ${onnxTypeName(type)}` }]);
  if (raw.byteLength !== w * n) throw new Error(`${where}: raw_data holds ${raw.byteLength} bytes, ${n} ${onnxTypeName(type)} values need ${w * n}`);
  for (let i = 0; i < n; i++) {
    const o = i * w;
    switch (type) {
      case ONNX_TYPE.FLOAT: out[i] = dv.getFloat32(o, true); break;
      case ONNX_TYPE.DOUBLE: out[i] = dv.getFloat64(o, true); break;
      case ONNX_TYPE.UINT8: case ONNX_TYPE.BOOL: out[i] = dv.getUint8(o); break;
      case ONNX_TYPE.INT8: out[i] = dv.getInt8(o); break;
      case ONNX_TYPE.UINT16: out[i] = dv.getUint16(o, true); break;
      case ONNX_TYPE.INT16: out[i] = dv.getInt16(o, true); break;
      case ONNX_TYPE.INT32: out[i] = dv.getInt32(o, true); break;
      case ONNX_TYPE.UINT32: out[i] = dv.getUint32(o, true); break;
      case ONNX_TYPE.INT64: out[i] = Number(dv.getBigInt64(o, true)); break;
      case ONNX_TYPE.UINT64: out[i] = Number(dv.getBigUint64(o, true)); break;
      case ONNX_TYPE.FLOAT16: out[i] = halfToFloat(dv.getUint16(o, true)); break;
      case ONNX_TYPE.BFLOAT16: out[i] = bfloat16ToFloat(dv.getUint16(o, true)); break;
    }
  }
  return out;
}

/** The values of a TensorProto as float64, from raw_data or the typed field its type uses. */
export function tensorValues(t: OnnxTensorProto, where: string): Float64Array {
  if (t.external) throw new OnnxUnsupportedError([{ opType: "(tensor)", nodeName: where, reason: "external data (a separate weights file)" }]);
  const n = shapeSize(t.dims);
  if (t.rawData) return readRaw(t.rawData, t.dataType, n, where);
  let src: readonly number[];
  switch (t.dataType) {
    case ONNX_TYPE.FLOAT: src = t.floatData; break;
    case ONNX_TYPE.DOUBLE: src = t.doubleData; break;
    case ONNX_TYPE.INT64: src = t.int64Data; break;
    case ONNX_TYPE.UINT32: case ONNX_TYPE.UINT64: src = t.uint64Data; break;
    case ONNX_TYPE.FLOAT16: src = t.int32Data.map(halfToFloat); break;
    case ONNX_TYPE.BFLOAT16: src = t.int32Data.map(bfloat16ToFloat); break;
    case ONNX_TYPE.INT32: case ONNX_TYPE.INT16: case ONNX_TYPE.UINT16: case ONNX_TYPE.INT8: case ONNX_TYPE.UINT8: case ONNX_TYPE.BOOL:
      src = t.int32Data; break;
    default:
      throw new OnnxUnsupportedError([{ opType: "(tensor)", nodeName: where, reason: `element type ${onnxTypeName(t.dataType)}` }]);
  }
  if (src.length !== n) throw new Error(`${where}: ${src.length} values for dims [${t.dims.join(",")}] (${n} expected)`);
  return Float64Array.from(src);
}

/** A TensorProto as a ConstTensor (its type must map to a Kiln dtype). */
export function tensorFromProto(t: OnnxTensorProto, where: string): ConstTensor {
  const dtype = kilnDType(t.dataType, where);
  return { dims: [...t.dims], onnxType: t.dataType, dtype, values: tensorValues(t, where) };
}

/** Rounds float64 values to what `dtype` holds (float32 rounding, integer truncation and wrap). */
export function roundToDType(values: Float64Array, dtype: DType): Float64Array {
  const out = new Float64Array(values.length);
  const wrap = (x: number, bits: number, signed: boolean): number => {
    if (!Number.isFinite(x)) return 0;
    const m = 2 ** bits;
    let r = Math.trunc(x) % m;
    if (r < 0) r += m;
    return signed && r >= m / 2 ? r - m : r;
  };
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    switch (dtype) {
      case "float32": out[i] = Math.fround(x); break;
      case "float64": out[i] = x; break;
      case "float16": out[i] = Math.fround(x); break;
      case "int32": out[i] = wrap(x, 32, true); break;
      case "int64": out[i] = Number.isFinite(x) ? Math.trunc(x) : 0; break;
      case "uint8": out[i] = wrap(x, 8, false); break;
      case "int8": out[i] = wrap(x, 8, true); break;
    }
  }
  return out;
}
