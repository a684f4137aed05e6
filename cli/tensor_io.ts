/**
 * Arrays in files for `kiln run`: IDX (MNIST's format, .gz or plain, via idx.readIdx),
 * NPY (version 1-3, little-endian numeric dtypes, C order) and raw little-endian float32.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { KilnError, idx } from "../index.js";

export interface FileArray {
  /** The file's own shape, when its format records one (not raw float32). */
  shape?: number[];
  values: ArrayLike<number>;
  format: "idx" | "npy" | "raw float32";
}

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Reads IDX (by its magic or name), NPY (by its magic) or raw float32 (anything else). */
export function readArrayFile(path: string): FileArray {
  let head: Buffer;
  try {
    head = readFileSync(path);
  } catch (e) {
    throw new KilnError(`cannot read input ${path}: ${(e as Error).message}`);
  }
  const gz = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
  if (gz || /\.idx\d?(\.gz)?$|-ubyte(\.gz)?$/i.test(path) || (head.length >= 4 && head[0] === 0 && head[1] === 0 && head[2] >= 0x08 && head[2] <= 0x0e)) {
    const a = idx.readIdx(path);
    return { shape: a.shape, values: a.data, format: "idx" };
  }
  if (head.length >= 10 && NPY_MAGIC.every((b, i) => head[i] === b)) return readNpy(head, path);
  if (head.length % 4 !== 0) throw new KilnError(`${path}: ${head.length} bytes is not a whole number of float32 values (raw input is little-endian float32)`);
  return { values: new Float32Array(head.buffer.slice(head.byteOffset, head.byteOffset + head.length)), format: "raw float32" };
}

const NPY_TYPES: Record<string, { bytes: number; get: (v: DataView, off: number) => number }> = {
  f4: { bytes: 4, get: (v, o) => v.getFloat32(o, true) },
  f8: { bytes: 8, get: (v, o) => v.getFloat64(o, true) },
  u1: { bytes: 1, get: (v, o) => v.getUint8(o) },
  i1: { bytes: 1, get: (v, o) => v.getInt8(o) },
  i2: { bytes: 2, get: (v, o) => v.getInt16(o, true) },
  u2: { bytes: 2, get: (v, o) => v.getUint16(o, true) },
  i4: { bytes: 4, get: (v, o) => v.getInt32(o, true) },
  u4: { bytes: 4, get: (v, o) => v.getUint32(o, true) },
  i8: { bytes: 8, get: (v, o) => Number(v.getBigInt64(o, true)) },
};

function readNpy(buf: Buffer, path: string): FileArray {
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.subarray(start, start + headerLen).toString("latin1");
  const descr = /'descr'\s*:\s*'([<>|=]?)([a-z]\d+)'/.exec(header);
  const order = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shapeM = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !order || !shapeM) throw new KilnError(`${path}: cannot read the NPY header ${JSON.stringify(header.trim())}`);
  if (descr[1] === ">") throw new KilnError(`${path}: big-endian NPY (${descr[1]}${descr[2]}) is not supported`);
  if (order[1] === "True") throw new KilnError(`${path}: Fortran-order NPY is not supported; save it in C order`);
  const type = NPY_TYPES[descr[2]];
  if (!type) throw new KilnError(`${path}: NPY dtype ${descr[2]} is not supported (${Object.keys(NPY_TYPES).join(", ")})`);
  const shape = shapeM[1].split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  const count = shape.reduce((a, d) => a * d, 1);
  const off = start + headerLen;
  if (buf.length - off < count * type.bytes) throw new KilnError(`${path}: NPY data of shape (${shape.join(", ")}) needs ${count * type.bytes} bytes after the header, the file has ${buf.length - off}`);
  const view = new DataView(buf.buffer, buf.byteOffset + off, count * type.bytes);
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) values[i] = type.get(view, i * type.bytes);
  return { shape, values, format: "npy" };
}

/** An NPY (version 1.0, little-endian float32, C order) file's bytes. */
export function npyBytes(shape: readonly number[], values: Float32Array): Buffer {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(", ")}${shape.length === 1 ? "," : ""}), }`;
  // Magic (6) + version (2) + length (2) + header, padded with spaces to a multiple of 64, ending in \n.
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const header = dict.padEnd(total - 10 - 1, " ") + "\n";
  const pre = Buffer.alloc(10);
  NPY_MAGIC.forEach((b, i) => (pre[i] = b));
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const data = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  return Buffer.concat([pre, Buffer.from(header, "latin1"), data]);
}

/** Writes `.npy` files as NPY, anything else as raw little-endian float32. */
export function writeArrayFile(path: string, shape: readonly number[], values: Float32Array): void {
  writeFileSync(path, /\.npy$/i.test(path) ? npyBytes(shape, values) : Buffer.from(values.buffer, values.byteOffset, values.byteLength));
}
