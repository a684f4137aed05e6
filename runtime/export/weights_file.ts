/**
 * The weights file of an exported model (`weights.bin`): every weight and aux state the
 * inference program reads, in one little-endian binary file that C reads without a library.
 *
 * Layout (all integers little-endian):
 * ```
 * header   (32 bytes)  char[8] magic "KILNWTS\0", u32 version (1), u32 count,
 *                      u64 data_offset (from the file start, a multiple of 64), u64 data_bytes
 * table    (count entries, packed, right after the header)
 *                      u32 name_bytes, name (UTF-8, no NUL), u32 dtype (MXNet type flag:
 *                      0 float32, 1 float64, 2 float16, 3 uint8, 4 int32, 5 int8, 6 int64),
 *                      u32 ndim, ndim x i64 dims, u64 offset (from data_offset, a multiple
 *                      of 64), u64 bytes
 * padding  zeros up to data_offset
 * data     data_bytes bytes: each array's values in its dtype's binary form (float16 as
 *          its 16 bits), row-major, at its offset
 * ```
 * A reader checks the magic and version, that every entry lies inside the data section, and
 * that `bytes` equals the product of the dims times the dtype's size.
 */
import { readFileSync } from "node:fs";
import { DType, DTYPE_BYTES, DTYPE_FLAG, dtypeFromFlag } from "../../compiler/base/dtype.js";
import { KilnError } from "../../compiler/base/errors.js";
import { shapeSize, shapeToString } from "../../compiler/base/shape.js";

export const WEIGHTS_MAGIC = "KILNWTS\0";
export const WEIGHTS_VERSION = 1;
/** Alignment of the data section and of every array in it. */
export const WEIGHTS_ALIGN = 64;
const HEADER_BYTES = 32;

/** One array of the file. */
export interface WeightEntry {
  name: string;
  dtype: DType;
  shape: number[];
  /** Values in the dtype's little-endian binary form. */
  bytes: Uint8Array;
}

/** What a reader finds: the table, and each array's bytes as a view of the data section. */
export interface WeightsFile {
  entries: (WeightEntry & { offset: number })[];
  /** The data section (a fresh, aligned buffer). */
  data: Uint8Array;
}

const align = (n: number, a = WEIGHTS_ALIGN): number => Math.ceil(n / a) * a;

/** The file's bytes for `entries`, in their order. */
export function encodeWeights(entries: readonly WeightEntry[]): Uint8Array {
  const names = entries.map((e) => Buffer.from(e.name, "utf8"));
  let tableBytes = 0;
  entries.forEach((e, i) => (tableBytes += 4 + names[i].length + 4 + 4 + 8 * e.shape.length + 16));
  const dataOffset = align(HEADER_BYTES + tableBytes);
  const offsets: number[] = [];
  let dataBytes = 0;
  for (const e of entries) {
    const want = shapeSize(e.shape) * DTYPE_BYTES[e.dtype];
    if (e.bytes.byteLength !== want)
      throw new KilnError(`weights file: ${e.name} is ${e.dtype}${shapeToString(e.shape)} (${want} bytes) but ${e.bytes.byteLength} bytes were given`);
    dataBytes = align(dataBytes);
    offsets.push(dataBytes);
    dataBytes += want;
  }
  const out = new Uint8Array(dataOffset + dataBytes);
  const view = new DataView(out.buffer);
  out.set(Buffer.from(WEIGHTS_MAGIC, "latin1"), 0);
  view.setUint32(8, WEIGHTS_VERSION, true);
  view.setUint32(12, entries.length, true);
  view.setBigUint64(16, BigInt(dataOffset), true);
  view.setBigUint64(24, BigInt(dataBytes), true);
  let p = HEADER_BYTES;
  entries.forEach((e, i) => {
    view.setUint32(p, names[i].length, true);
    out.set(names[i], p + 4);
    p += 4 + names[i].length;
    view.setUint32(p, DTYPE_FLAG[e.dtype], true);
    view.setUint32(p + 4, e.shape.length, true);
    p += 8;
    for (const d of e.shape) (view.setBigInt64(p, BigInt(d), true), (p += 8));
    view.setBigUint64(p, BigInt(offsets[i]), true);
    view.setBigUint64(p + 8, BigInt(e.bytes.byteLength), true);
    p += 16;
    out.set(e.bytes, dataOffset + offsets[i]);
  });
  return out;
}

/** Parses a weights file; errors name the file, the entry and the byte offset. */
export function decodeWeights(bytes: Uint8Array, where = "weights.bin"): WeightsFile {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (at: number, what: string): never => {
    throw new KilnError(`${where}: ${what} (at byte ${at})`);
  };
  const need = (at: number, n: number, what: string): void => {
    if (at + n > bytes.byteLength) fail(at, `file ends inside ${what} (${bytes.byteLength} bytes in all)`);
  };
  need(0, HEADER_BYTES, "the header");
  const magic = Buffer.from(bytes.subarray(0, 8)).toString("latin1");
  if (magic !== WEIGHTS_MAGIC) fail(0, `not a Kiln weights file (magic ${JSON.stringify(magic)}, expected "KILNWTS\\0")`);
  const version = view.getUint32(8, true);
  if (version !== WEIGHTS_VERSION) fail(8, `unsupported version ${version} (this reader knows ${WEIGHTS_VERSION})`);
  const count = view.getUint32(12, true);
  const dataOffset = Number(view.getBigUint64(16, true));
  const dataBytes = Number(view.getBigUint64(24, true));
  if (dataOffset + dataBytes > bytes.byteLength) fail(16, `data section [${dataOffset}, ${dataOffset + dataBytes}) runs past the end of the file (${bytes.byteLength} bytes)`);
  const entries: WeightsFile["entries"] = [];
  const data = new Uint8Array(dataBytes);
  data.set(bytes.subarray(dataOffset, dataOffset + dataBytes));
  let p = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const at = p;
    need(p, 4, `entry ${i}`);
    const nameBytes = view.getUint32(p, true);
    need(p + 4, nameBytes + 8, `entry ${i}`);
    const name = Buffer.from(bytes.subarray(p + 4, p + 4 + nameBytes)).toString("utf8");
    p += 4 + nameBytes;
    const flag = view.getUint32(p, true);
    const ndim = view.getUint32(p + 4, true);
    p += 8;
    let dtype: DType;
    try {
      dtype = dtypeFromFlag(flag);
    } catch {
      return fail(at, `entry ${i} (${name}) has unknown dtype flag ${flag}`);
    }
    if (ndim > 32) fail(at, `entry ${i} (${name}) has ${ndim} dims`);
    need(p, 8 * ndim + 16, `entry ${i} (${name})`);
    const shape: number[] = [];
    for (let d = 0; d < ndim; d++) shape.push(Number(view.getBigInt64(p + 8 * d, true)));
    p += 8 * ndim;
    const offset = Number(view.getBigUint64(p, true));
    const n = Number(view.getBigUint64(p + 8, true));
    p += 16;
    if (shape.some((d) => d < 0)) fail(at, `entry ${i} (${name}) has a negative dim in ${shapeToString(shape)}`);
    if (n !== shapeSize(shape) * DTYPE_BYTES[dtype]) fail(at, `entry ${i} (${name}) holds ${n} bytes, but ${dtype}${shapeToString(shape)} needs ${shapeSize(shape) * DTYPE_BYTES[dtype]}`);
    if (offset + n > dataBytes) fail(at, `entry ${i} (${name}) at data offset ${offset} (+${n} bytes) runs past the data section (${dataBytes} bytes)`);
    entries.push({ name, dtype, shape, offset, bytes: data.subarray(offset, offset + n) });
  }
  if (p > dataOffset) fail(p, `the table runs into the data section (which starts at ${dataOffset})`);
  return { entries, data };
}

export function readWeightsFile(path: string): WeightsFile {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new KilnError(`cannot read the weights file ${path}: ${(err as Error).message}`);
  }
  return decodeWeights(bytes, path);
}
