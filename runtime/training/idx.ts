/**
 * IDX files (the MNIST format), gzip-compressed or plain: two zero bytes, a type code, the
 * number of dimensions, then one big-endian u32 per dimension and the values, big-endian,
 * row-major. `mnistIter` turns an images/labels pair into an NDArrayIter like MXNet's MNISTIter.
 */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { endianness } from "node:os";
import { KilnError } from "../../compiler/base/errors.js";
import { shapeToString } from "../../compiler/base/shape.js";
import { cpu } from "../context.js";
import { NDArray } from "../ndarray.js";
import { NDArrayIter, LastBatchHandle } from "./io.js";

export type IdxDType = "uint8" | "int8" | "int16" | "int32" | "float32" | "float64";
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  shape: number[];
  dtype: IdxDType;
  /** The values in host byte order, row-major. */
  data: IdxData;
}

const TYPES: Record<number, { dtype: IdxDType; bytes: number }> = {
  0x08: { dtype: "uint8", bytes: 1 },
  0x09: { dtype: "int8", bytes: 1 },
  0x0b: { dtype: "int16", bytes: 2 },
  0x0c: { dtype: "int32", bytes: 4 },
  0x0d: { dtype: "float32", bytes: 4 },
  0x0e: { dtype: "float64", bytes: 8 },
};

const hex = (n: number, width = 2): string => `0x${n.toString(16).padStart(width, "0")}`;

/** Decodes IDX bytes (already decompressed); errors name `where` and the byte offset. */
export function decodeIdx(bytes: Uint8Array, where = "IDX data"): IdxArray {
  if (bytes.byteLength < 4)
    throw new KilnError(`${where}: truncated IDX header: the 4-byte magic at offset 0 needs 4 bytes, the data has ${bytes.byteLength}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (bytes[0] !== 0 || bytes[1] !== 0)
    throw new KilnError(`${where}: bad IDX magic ${hex(magic, 8)} at offset 0: an IDX file starts with two zero bytes, a type code (0x08-0x0e) and the number of dimensions`);
  const code = bytes[2];
  const type = TYPES[code];
  if (!type)
    throw new KilnError(
      `${where}: unknown IDX type code ${hex(code)} at offset 2 (magic ${hex(magic, 8)}); known: ${Object.entries(TYPES)
        .map(([c, t]) => `${hex(Number(c))} ${t.dtype}`)
        .join(", ")}`,
    );
  const ndim = bytes[3];
  const header = 4 + 4 * ndim;
  if (bytes.byteLength < header)
    throw new KilnError(`${where}: truncated IDX header: ${ndim} dimensions need bytes 4-${header - 1}, the data ends at offset ${bytes.byteLength}`);
  const shape: number[] = [];
  for (let i = 0; i < ndim; i++) shape.push(view.getUint32(4 + 4 * i));
  let count = 1;
  for (const d of shape) count *= d;
  const need = count * type.bytes;
  const have = bytes.byteLength - header;
  if (have < need)
    throw new KilnError(
      `${where}: truncated IDX data: ${type.dtype} values of shape ${shapeToString(shape)} need ${need} bytes from offset ${header}, the data ends at offset ${bytes.byteLength} (${need - have} bytes missing)`,
    );
  if (have > need)
    throw new KilnError(`${where}: ${have - need} unexpected bytes at offset ${header + need}, after the ${type.dtype} values of shape ${shapeToString(shape)}`);
  return { shape, dtype: type.dtype, data: readValues(view, header, count, type.dtype) };
}

function readValues(view: DataView, off: number, n: number, dtype: IdxDType): IdxData {
  switch (dtype) {
    case "uint8":
      return new Uint8Array(view.buffer.slice(view.byteOffset + off, view.byteOffset + off + n));
    case "int8":
      return new Int8Array(view.buffer.slice(view.byteOffset + off, view.byteOffset + off + n));
    case "int16": {
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(off + 2 * i);
      return out;
    }
    case "int32": {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(off + 4 * i);
      return out;
    }
    case "float32": {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(off + 4 * i);
      return out;
    }
    case "float64": {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(off + 8 * i);
      return out;
    }
  }
}

/** Reads an IDX file; gzip-compressed files (by their 1f 8b magic, whatever the name) are inflated first. */
export function readIdx(path: string): IdxArray {
  let raw: Uint8Array;
  try {
    raw = readFileSync(path);
  } catch (e) {
    throw new KilnError(`readIdx: cannot read ${path}: ${(e as Error).message}`);
  }
  if (raw.byteLength >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      raw = gunzipSync(raw);
    } catch (e) {
      throw new KilnError(`${path}: corrupt or truncated gzip stream (${raw.byteLength} bytes compressed): ${(e as Error).message}`);
    }
    return decodeIdx(raw, `${path} (decompressed)`);
  }
  return decodeIdx(raw, path);
}

export interface MnistIterOptions {
  /** IDX file of images, shape (N, rows, cols), .gz or plain. */
  images: string;
  /** IDX file of labels, shape (N). */
  labels: string;
  batchSize: number;
  shuffle?: boolean;
  /** Data shape (N, rows·cols) instead of (N, 1, rows, cols). */
  flat?: boolean;
  /** Pixel multiplier (default 1/255: values in [0, 1]). */
  scale?: number;
  lastBatchHandle?: LastBatchHandle;
  seed?: number;
  dataName?: string;
  labelName?: string;
}

/**
 * An NDArrayIter over an MNIST-style images/labels pair: float32 data (N, 1, rows, cols), or
 * (N, rows·cols) with `flat`, scaled by `scale`; float32 labels (N).
 */
export function mnistIter(opts: MnistIterOptions): NDArrayIter {
  const img = readIdx(opts.images);
  const lab = readIdx(opts.labels);
  if (img.shape.length !== 3) throw new KilnError(`mnistIter: ${opts.images} holds shape ${shapeToString(img.shape)}; images need (count, rows, cols)`);
  if (lab.shape.length !== 1) throw new KilnError(`mnistIter: ${opts.labels} holds shape ${shapeToString(lab.shape)}; labels need (count,)`);
  const [n, rows, cols] = img.shape;
  if (lab.shape[0] !== n) throw new KilnError(`mnistIter: ${opts.images} has ${n} images but ${opts.labels} has ${lab.shape[0]} labels`);
  const scale = opts.scale ?? 1 / 255;
  const pixels = new Float32Array(img.data.length);
  if (img.data instanceof Uint8Array) {
    const table = Float32Array.from({ length: 256 }, (_, p) => p * scale);
    const src = img.data;
    for (let i = 0; i < pixels.length; i++) pixels[i] = table[src[i]];
  } else for (let i = 0; i < pixels.length; i++) pixels[i] = img.data[i] * scale;
  const data = float32Array(opts.flat ? [n, rows * cols] : [n, 1, rows, cols], pixels);
  const label = float32Array([n], Float32Array.from(lab.data));
  return new NDArrayIter({
    data,
    label,
    batchSize: opts.batchSize,
    shuffle: opts.shuffle ?? false,
    lastBatchHandle: opts.lastBatchHandle,
    seed: opts.seed,
    dataName: opts.dataName,
    labelName: opts.labelName,
  });
}

/** A float32 cpu() array from values, copied as bytes (the host is little-endian, as the binary form). */
function float32Array(shape: number[], values: Float32Array): NDArray {
  const a = new NDArray(shape, "float32", cpu());
  return endianness() === "LE" ? a.setBytes(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)) : a.set(values);
}
