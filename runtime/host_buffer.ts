/**
 * Host storage of each dtype. float16 is stored as its 16 bits and converted on access;
 * int64 as BigInt64Array, read as numbers (exact below 2^53). The reference context keeps
 * float64 whatever the declared dtype: it is the oracle.
 */
import { DType } from "../compiler/base/dtype.js";

export type HostArray = Float32Array | Float64Array | Uint16Array | Int32Array | BigInt64Array | Uint8Array | Int8Array;

export function allocHost(dtype: DType, n: number, float64: boolean): HostArray {
  if (float64) return new Float64Array(n);
  switch (dtype) {
    case "float32":
      return new Float32Array(n);
    case "float64":
      return new Float64Array(n);
    case "float16":
      return new Uint16Array(n);
    case "int32":
      return new Int32Array(n);
    case "int64":
      return new BigInt64Array(n);
    case "uint8":
      return new Uint8Array(n);
    case "int8":
      return new Int8Array(n);
  }
}

/** A typed view of raw little-endian bytes holding `dtype` values. */
export function viewHost(dtype: DType, buf: ArrayBuffer): HostArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(buf);
    case "float64":
      return new Float64Array(buf);
    case "float16":
      return new Uint16Array(buf);
    case "int32":
      return new Int32Array(buf);
    case "int64":
      return new BigInt64Array(buf);
    case "uint8":
      return new Uint8Array(buf);
    case "int8":
      return new Int8Array(buf);
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → float16 bits, round to nearest even, with subnormals, inf and NaN. */
export function toHalf(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

export function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Converts a number to what an integer dtype stores (truncation toward zero, wrap-around). */
export function readHost(buf: HostArray, dtype: DType, i: number, float64: boolean): number {
  if (!float64 && dtype === "float16") return fromHalf((buf as Uint16Array)[i]);
  if (buf instanceof BigInt64Array) return Number(buf[i]);
  return (buf as Float64Array)[i];
}

export function writeHost(buf: HostArray, dtype: DType, i: number, v: number, float64: boolean): void {
  if (float64) {
    (buf as Float64Array)[i] = dtype === "float32" || dtype === "float64" || dtype === "float16" ? v : Math.trunc(v);
    return;
  }
  if (dtype === "float16") (buf as Uint16Array)[i] = toHalf(v);
  else if (buf instanceof BigInt64Array) buf[i] = BigInt(Math.trunc(Number.isFinite(v) ? v : 0));
  else (buf as Float64Array)[i] = v;
}
