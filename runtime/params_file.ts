/**
 * MXNet's NDArray list files (`.params`, `nd.save`/`nd.load`), little-endian throughout.
 *
 * File: u64 magic 0x112, u64 reserved, u64 N, N array records, u64 K (0 for a list, N for
 * a record), K names (u64 byte length + UTF-8).
 *
 * Array records, by their first u32:
 * - V3 0xF993FACA (NumPy-shape semantics) and V2 0xF993FAC9: i32 storage type (0 dense),
 *   i32 ndim, ndim × i64 dims, i32 dev_type, i32 dev_id, i32 type flag, raw data.
 * - V1 0xF993FAC8: as V2 without the storage type.
 * - Anything else (the oldest format): that u32 is ndim, then ndim × u32 dims, then the
 *   same i32 dev_type, i32 dev_id, i32 type flag and raw data.
 *
 * A shape that ends the record early is MXNet's "none" array (no context, type or data):
 * ndim 0 in V2/V1/oldest, ndim -1 or a -1 dim in V3. Kiln has no none array; it loads as an
 * empty float32 array of shape (0,). In V3, ndim 0 is a real 0-d array with one value.
 *
 * Writing: V2 records with dev_type 1 (cpu), dev_id 0, as MXNet writes them. A zero-size
 * array is written with its full shape (as MXNet writes `zeros((0,))`). A 0-d array cannot
 * be written in V2 (ndim 0 means "none" there), so a file holding one is written with V3
 * records throughout, as MXNet's NumPy mode (`npx.save`) does; MXNet loads such a file only
 * under np-shape semantics.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { DType, DTYPE_FLAG } from "../compiler/base/dtype.js";
import { KilnError } from "../compiler/base/errors.js";
import { shapeSize, shapeToString } from "../compiler/base/shape.js";
import { cpu } from "./context.js";
import { NDArray } from "./ndarray.js";

export const PARAMS_FILE_MAGIC = 0x112;
export const NDARRAY_V1_MAGIC = 0xf993fac8;
export const NDARRAY_V2_MAGIC = 0xf993fac9;
export const NDARRAY_V3_MAGIC = 0xf993faca;

/** Most dims a record may declare; anything larger is taken as garbage (a bad magic). */
const MAX_NDIM = 32;

/** MXNet's (mshadow's) type flags: name and element size, indexed by flag. */
const MX_TYPES: readonly { name: string; bytes: number }[] = [
  { name: "float32", bytes: 4 },
  { name: "float64", bytes: 8 },
  { name: "float16", bytes: 2 },
  { name: "uint8", bytes: 1 },
  { name: "int32", bytes: 4 },
  { name: "int8", bytes: 1 },
  { name: "int64", bytes: 8 },
  { name: "bool", bytes: 1 },
  { name: "int16", bytes: 2 },
  { name: "uint16", bytes: 2 },
  { name: "uint32", bytes: 4 },
  { name: "uint64", bytes: 8 },
  { name: "bfloat16", bytes: 2 },
];

const FLAG_TO_KILN = new Map<number, DType>(Object.entries(DTYPE_FLAG).map(([t, f]) => [f, t as DType]));
const SUPPORTED = [...FLAG_TO_KILN.entries()]
  .sort((a, b) => a[0] - b[0])
  .map(([f, t]) => `${f} ${t}`)
  .join(", ");

/** MXNet's storage types besides dense (0). */
const SPARSE_STYPES: Readonly<Record<number, string>> = { 1: "row_sparse", 2: "csr" };
/** MXNet's device types: cpu, gpu, cpu_pinned, cpu_shared. */
const DEV_TYPES = new Set([1, 2, 3, 5]);

const hex = (n: number): string => `0x${n.toString(16).toUpperCase()}`;

// ---------------------------------------------------------------------------------------
// Reading

class Cursor {
  off = 0;
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    private readonly where: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get left(): number {
    return this.bytes.byteLength - this.off;
  }

  fail(at: number, msg: string): never {
    throw new KilnError(`${this.where}: at byte ${at}: ${msg}`);
  }

  /** Claims n bytes and returns where they start. */
  take(n: number, what: string): number {
    if (!(n <= this.left)) this.fail(this.off, `file ends early: expected ${what} (${n} bytes), only ${this.left} left`);
    const at = this.off;
    this.off += n;
    return at;
  }

  u32(what: string): number {
    return this.view.getUint32(this.take(4, what), true);
  }

  i32(what: string): number {
    return this.view.getInt32(this.take(4, what), true);
  }

  i64(what: string): bigint {
    return this.view.getBigInt64(this.take(8, what), true);
  }

  u64(what: string): bigint {
    return this.view.getBigUint64(this.take(8, what), true);
  }

  /** A u64 count or length, which must be a safe integer. */
  count(what: string): number {
    const at = this.off;
    const v = this.u64(what);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(at, `expected ${what}, got impossible value ${v}`);
    return Number(v);
  }
}

interface RawArray {
  /** Byte offset of the record. */
  at: number;
  /** null: MXNet's none array (the record ended after its shape). */
  shape: number[] | null;
  flag: number;
  flagAt: number;
  dataAt: number;
  dataLen: number;
}

/** Reads an i32 ndim and ndim × i64 dims (V1, V2, V3). null: a none array. */
function readShape64(c: Cursor, label: string, np: boolean): number[] | null {
  const ndimAt = c.off;
  const ndim = c.i32(`ndim of ${label}`);
  if (np && ndim === -1) return null;
  if (ndim < 0 || ndim > MAX_NDIM)
    c.fail(ndimAt, `${label}: impossible ndim ${ndim} (expected 0..${MAX_NDIM}${np ? ", or -1 for unknown" : ""})`);
  if (ndim === 0) return np ? [] : null;
  const dims: number[] = [];
  let unknown = false;
  for (let i = 0; i < ndim; i++) {
    const at = c.off;
    const d = c.i64(`dim ${i} of ${label}`);
    if (np && d === -1n) unknown = true;
    else if (d < 0n || d > BigInt(Number.MAX_SAFE_INTEGER))
      c.fail(at, `${label}: impossible dim ${i} = ${d} (expected a non-negative size${np ? " or -1 for unknown" : ""})`);
    dims.push(Number(d));
  }
  return unknown ? null : dims;
}

function readArray(c: Cursor, index: number): RawArray {
  const label = `array #${index}`;
  const at = c.off;
  const magic = c.u32(`${label}'s magic`);
  let shape: number[] | null;
  if (magic === NDARRAY_V2_MAGIC || magic === NDARRAY_V3_MAGIC) {
    const stAt = c.off;
    const stype = c.i32(`storage type of ${label}`);
    if (stype !== 0) {
      const sparse = SPARSE_STYPES[stype];
      if (sparse !== undefined) c.fail(stAt, `${label}: ${sparse} storage (type ${stype}) is not supported; only dense (0) arrays can be loaded`);
      c.fail(stAt, `${label}: expected storage type 0 (dense), got ${stype}`);
    }
    shape = readShape64(c, label, magic === NDARRAY_V3_MAGIC);
  } else if (magic === NDARRAY_V1_MAGIC) {
    shape = readShape64(c, label, false);
  } else {
    // The oldest format has no magic: this u32 is the ndim, followed by u32 dims.
    if (magic > MAX_NDIM)
      c.fail(
        at,
        `${label}: bad array magic ${hex(magic)} (expected ${hex(NDARRAY_V2_MAGIC)}, ${hex(NDARRAY_V3_MAGIC)}, ` +
          `${hex(NDARRAY_V1_MAGIC)}, or a legacy ndim of at most ${MAX_NDIM})`,
      );
    shape = [];
    for (let i = 0; i < magic; i++) shape.push(c.u32(`dim ${i} of ${label}`));
    if (magic === 0) shape = null;
  }
  if (shape === null) return { at, shape, flag: -1, flagAt: -1, dataAt: c.off, dataLen: 0 };

  const devAt = c.off;
  const devType = c.i32(`dev_type of ${label}`);
  if (!DEV_TYPES.has(devType)) c.fail(devAt, `${label}: expected dev_type 1 (cpu), 2 (gpu), 3 (cpu_pinned) or 5 (cpu_shared), got ${devType}`);
  c.i32(`dev_id of ${label}`);
  const flagAt = c.off;
  const flag = c.i32(`type flag of ${label}`);
  const info = MX_TYPES[flag];
  if (info === undefined) c.fail(flagAt, `${label}: unknown type flag ${flag} (MXNet's are 0..${MX_TYPES.length - 1})`);
  const dataLen = shapeSize(shape) * info.bytes;
  const dataAt = c.take(dataLen, `${info.name} data of ${label}, shape ${shapeToString(shape)}`);
  return { at, shape, flag, flagAt, dataAt, dataLen };
}

/**
 * Decodes a whole .params file: a list when it holds no names, else a record by name.
 * Arrays land on cpu() with their own dtype. `where` prefixes error messages (a path).
 */
export function decodeParams(bytes: Uint8Array, where = ".params file"): Record<string, NDArray> | NDArray[] {
  const c: Cursor = new Cursor(bytes, where);
  const magicAt = c.off;
  const magic = c.u64("file magic 0x112 (u64)");
  if (magic !== BigInt(PARAMS_FILE_MAGIC))
    c.fail(magicAt, `bad file magic 0x${magic.toString(16).toUpperCase()} (expected ${hex(PARAMS_FILE_MAGIC)}): not an MXNet NDArray file`);
  c.u64("reserved u64"); // MXNet ignores it
  // Every record takes at least 4 bytes, so a wrong count ends in "file ends early".
  const n = c.count("array count (u64)");

  const raws: RawArray[] = [];
  for (let i = 0; i < n; i++) raws.push(readArray(c, i));

  const kAt = c.off;
  const k = c.count("names count (u64)");
  if (k !== 0 && k !== n) c.fail(kAt, `expected names count 0 or ${n} (one per array), got ${k}`);
  const names: string[] = [];
  const seen = new Set<string>();
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  for (let i = 0; i < k; i++) {
    const lenAt = c.off;
    const len = c.count(`byte length of name #${i}`);
    const at = c.take(len, `name #${i} (${len} bytes of UTF-8)`);
    let name: string;
    try {
      name = utf8.decode(bytes.subarray(at, at + len));
    } catch {
      c.fail(at, `name #${i} is not valid UTF-8`);
    }
    if (seen.has(name)) c.fail(lenAt, `duplicate name ${JSON.stringify(name)} (name #${i})`);
    seen.add(name);
    names.push(name);
  }
  if (c.left !== 0) c.fail(c.off, `expected the end of the file after ${k} names, found ${c.left} more bytes`);

  const arrays = raws.map((r, i) => {
    if (r.shape === null) return new NDArray([0], "float32", cpu());
    const dtype = FLAG_TO_KILN.get(r.flag);
    if (dtype === undefined) {
      const label = k ? `array #${i} (${JSON.stringify(names[i])})` : `array #${i}`;
      c.fail(r.flagAt, `${label}: type flag ${r.flag} (${MX_TYPES[r.flag].name}) is not supported by Kiln (supported: ${SUPPORTED})`);
    }
    // A fresh, exactly sized copy: `bytes` may be a Node Buffer (a view of a shared pool).
    const start = bytes.byteOffset + r.dataAt;
    return new NDArray(r.shape, dtype, cpu()).setBytes(new Uint8Array(bytes.buffer.slice(start, start + r.dataLen)));
  });
  if (k === 0) return arrays;
  return Object.fromEntries(names.map((name, i) => [name, arrays[i]]));
}

// ---------------------------------------------------------------------------------------
// Writing

class Writer {
  private readonly chunks: Uint8Array[] = [];
  length = 0;

  bytes(b: Uint8Array): void {
    this.chunks.push(b);
    this.length += b.byteLength;
  }

  private fixed(n: number, set: (v: DataView) => void): void {
    const b = new Uint8Array(n);
    set(new DataView(b.buffer));
    this.bytes(b);
  }

  u32(v: number): void {
    this.fixed(4, (d) => d.setUint32(0, v, true));
  }

  i32(v: number): void {
    this.fixed(4, (d) => d.setInt32(0, v, true));
  }

  i64(v: number): void {
    this.fixed(8, (d) => d.setBigInt64(0, BigInt(v), true));
  }

  u64(v: number): void {
    this.fixed(8, (d) => d.setBigUint64(0, BigInt(v), true));
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.byteLength;
    }
    return out;
  }
}

/** Encodes arrays as MXNet's `nd.save` does: a list (no names) or a record by name. */
export function encodeParams(arrays: Record<string, NDArray> | NDArray[]): Uint8Array {
  if (arrays === null || typeof arrays !== "object")
    throw new KilnError(`encodeParams: expected a list of NDArrays or a record of them by name, got ${arrays === null ? "null" : typeof arrays}`);
  const isList = Array.isArray(arrays);
  const entries: [string, unknown][] = isList ? arrays.map((a, i) => [`#${i}`, a]) : Object.entries(arrays);
  const list: NDArray[] = entries.map(([key, a]) => {
    if (!(a instanceof NDArray)) throw new KilnError(`encodeParams: ${isList ? `element ${key}` : `entry ${JSON.stringify(key)}`} is not an NDArray`);
    return a;
  });
  const magic = list.some((a) => a.ndim === 0) ? NDARRAY_V3_MAGIC : NDARRAY_V2_MAGIC;

  const w = new Writer();
  w.u64(PARAMS_FILE_MAGIC);
  w.u64(0);
  w.u64(list.length);
  for (const a of list) {
    w.u32(magic);
    w.i32(0); // dense storage
    w.i32(a.ndim);
    for (const d of a.shape) w.i64(d);
    w.i32(1); // dev_type: cpu
    w.i32(0); // dev_id
    w.i32(DTYPE_FLAG[a.dtype]);
    w.bytes(a.toBytes());
  }
  const utf8 = new TextEncoder();
  w.u64(isList ? 0 : list.length);
  if (!isList)
    for (const [name] of entries) {
      const b = utf8.encode(name);
      w.u64(b.byteLength);
      w.bytes(b);
    }
  return w.finish();
}

/**
 * Writes a .params file: to a temporary file in the same folder first, flushed to disk,
 * then renamed over `path`, so a crash never leaves half a file.
 */
export function saveParams(path: string, arrays: Record<string, NDArray> | NDArray[]): void {
  const data = encodeParams(arrays);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, "wx");
    let off = 0;
    while (off < data.byteLength) off += writeSync(fd, data, off, data.byteLength - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // never created, or already renamed
    }
    throw e;
  }
}

/** Reads a .params file (every MXNet version); errors name the path and the byte offset. */
export function loadParams(path: string): Record<string, NDArray> | NDArray[] {
  return decodeParams(readFileSync(path), path);
}
