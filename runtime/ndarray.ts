/**
 * NDArray: a shaped, typed array on a context. Host-resident for the reference and cpu
 * contexts; values move in and out with `set` and `toArray`.
 */
import { DType, checkDType } from "../compiler/base/dtype.js";
import { Shape, shapeSize, shapeToString, shapesEqual } from "../compiler/base/shape.js";
import { KilnError } from "../compiler/base/errors.js";
import { Context, cpu } from "./context.js";
import { HostArray, allocHost, readHost, writeHost } from "./host_buffer.js";

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

  asScalar(): number {
    if (this.size !== 1) throw new KilnError(`asScalar needs an array of one element, this one has shape ${shapeToString(this.shape)}`);
    return readHost(this.buf, this.dtype, 0, this.wide);
  }

  toString(): string {
    return `NDArray${shapeToString(this.shape)} ${this.dtype} @${this.ctx}`;
  }
}

function make(shape: readonly number[], opts: ArrayOptions | undefined, fill?: number): NDArray {
  const a = new NDArray(shape, opts?.dtype ?? "float32", opts?.ctx ?? cpu());
  if (fill !== undefined && fill !== 0) a.set(fill);
  return a;
}

/** Creating arrays, as MXNet's `mx.nd`. */
export const nd = {
  /** From a flat or nested list of numbers; `shape` defaults to the nesting. */
  array(values: ArrayLike<number> | NestedNumbers, opts?: ArrayOptions): NDArray {
    const { flat, shape } = flatten(values);
    const s = opts?.shape ?? shape;
    const a = make(s, opts);
    a.set(flat);
    return a;
  },
  zeros: (shape: readonly number[], opts?: ArrayOptions): NDArray => make(shape, opts),
  ones: (shape: readonly number[], opts?: ArrayOptions): NDArray => make(shape, opts, 1),
  /** Uninitialized in MXNet; zeros here, since host memory is zeroed anyway. */
  empty: (shape: readonly number[], opts?: ArrayOptions): NDArray => make(shape, opts),
  full: (shape: readonly number[], value: number, opts?: ArrayOptions): NDArray => make(shape, opts, value),
};

export type NestedNumbers = number | readonly NestedNumbers[];

function flatten(values: ArrayLike<number> | NestedNumbers): { flat: number[]; shape: number[] } {
  if (typeof values === "number") return { flat: [values], shape: [] };
  const shape: number[] = [];
  let probe: unknown = values;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  if (!Array.isArray(values)) return { flat: Array.from(values as ArrayLike<number>), shape: [(values as ArrayLike<number>).length] };
  const flat = (values as unknown[]).flat(Infinity as 1) as number[];
  if (flat.length !== shapeSize(shape)) throw new KilnError(`nd.array: ragged nested list (shape ${shapeToString(shape)} but ${flat.length} values)`);
  return { flat, shape };
}
