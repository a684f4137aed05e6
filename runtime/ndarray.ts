/**
 * NDArray: a shaped, typed array on a context. Host-resident for the reference and cpu
 * contexts; values move in and out with `set` and `toArray`.
 */
import { DType, DTYPE_BYTES, checkDType } from "../compiler/base/dtype.js";
import { Shape, shapeSize, shapeToString, shapesEqual } from "../compiler/base/shape.js";
import { KilnError } from "../compiler/base/errors.js";
import { Context, cpu } from "./context.js";
import { HostArray, allocHost, readHost, writeHost, viewHost } from "./host_buffer.js";

export interface ArrayOptions {
  shape?: readonly number[];
  dtype?: DType;
  ctx?: Context;
}

export class NDArray {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly ctx: Context;
  private readonly buf: HostArray;
  private readonly wide: boolean;

  constructor(shape: Shape, dtype: DType = "float32", ctx: Context = cpu()) {
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0))
      throw new KilnError(`NDArray shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    this.shape = Object.freeze([...shape]);
    this.dtype = checkDType(dtype, "NDArray");
    this.ctx = ctx;
    this.wide = ctx.deviceType === "reference";
    this.buf = allocHost(this.dtype, shapeSize(shape), this.wide);
  }

  get size(): number {
    return this.buf.length;
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** Every value as a flat row-major list of numbers. */
  toArray(): number[] {
    const out = new Array<number>(this.size);
    for (let i = 0; i < out.length; i++) out[i] = readHost(this.buf, this.dtype, i, this.wide);
    return out;
  }

  /** The values as float64 (a copy). */
  toFloat64(): Float64Array {
    const out = new Float64Array(this.size);
    for (let i = 0; i < out.length; i++) out[i] = readHost(this.buf, this.dtype, i, this.wide);
    return out;
  }

  /** Overwrites every value: a flat list of `size` numbers, or one number for all. */
  set(values: ArrayLike<number> | number): this {
    if (typeof values === "number") {
      for (let i = 0; i < this.size; i++) writeHost(this.buf, this.dtype, i, values, this.wide);
      return this;
    }
    if (values.length !== this.size)
      throw new KilnError(`NDArray.set: array of shape ${shapeToString(this.shape)} needs ${this.size} values, got ${values.length}`);
    for (let i = 0; i < this.size; i++) writeHost(this.buf, this.dtype, i, values[i], this.wide);
    return this;
  }

  /** Copies into another array of the same shape, or into a new array on a context. */
  copyTo(target: NDArray | Context): NDArray {
    const dst = target instanceof NDArray ? target : new NDArray(this.shape, this.dtype, target);
    if (!shapesEqual(dst.shape, this.shape))
      throw new KilnError(`NDArray.copyTo: shape ${shapeToString(this.shape)} does not match target ${shapeToString(dst.shape)}`);
    for (let i = 0; i < this.size; i++) writeHost(dst.buf, dst.dtype, i, readHost(this.buf, this.dtype, i, this.wide), dst.wide);
    return dst;
  }

  /**
   * The values in the dtype's own little-endian binary form (what .params files hold): exact
   * for every dtype, including int64 beyond 2^53 and float16 bit patterns.
   */
  toBytes(): Uint8Array {
    if (!this.wide) return new Uint8Array(this.buf.buffer.slice(this.buf.byteOffset, this.buf.byteOffset + this.buf.byteLength));
    const tmp = allocHost(this.dtype, this.size, false);
    for (let i = 0; i < this.size; i++) writeHost(tmp, this.dtype, i, (this.buf as Float64Array)[i], false);
    return new Uint8Array(tmp.buffer);
  }

  /** Overwrites the values from the dtype's binary form (the inverse of toBytes). */
  setBytes(bytes: Uint8Array): this {
    const want = this.size * DTYPE_BYTES[this.dtype];
    if (bytes.byteLength !== want)
      throw new KilnError(`NDArray.setBytes: ${this.dtype} array of shape ${shapeToString(this.shape)} needs ${want} bytes, got ${bytes.byteLength}`);
    const copy = bytes.slice();
    const src = viewHost(this.dtype, copy.buffer);
    if (!this.wide) new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength).set(copy);
    else for (let i = 0; i < this.size; i++) (this.buf as Float64Array)[i] = readHost(src, this.dtype, i, false);
    return this;
  }

  asScalar(): number {
    if (this.size !== 1) throw new KilnError(`asScalar needs an array of one element, this one has shape ${shapeToString(this.shape)}`);
    return readHost(this.buf, this.dtype, 0, this.wide);
  }

  toString(): string {
    return `NDArray${shapeToString(this.shape)} ${this.dtype} @${this.ctx}`;
  }
}
