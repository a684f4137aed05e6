/**
 * NDArray: a shaped, typed array on a context. Values live in host memory for the reference
 * and cpu contexts and in device memory for gpu contexts (see storage.ts); they move in and
 * out with `set`, `toArray`, `toBytes`, `setBytes` and `copyTo`, between any two contexts.
 */
import { DType, DTYPE_BYTES, checkDType } from "../compiler/base/dtype.js";
import { Shape, shapeSize, shapeToString, shapesEqual } from "../compiler/base/shape.js";
import { KilnError } from "../compiler/base/errors.js";
import { Context, cpu } from "./context.js";
import { HostArray, allocHost, readHost, writeHost } from "./host_buffer.js";
import { ArrayStorage, DeviceStorage, HostStorage } from "./storage.js";
import { cudaDevice } from "./cuda/device.js";

export interface ArrayOptions {
  shape?: readonly number[];
  dtype?: DType;
  ctx?: Context;
}

/** The arithmetic an NDArray method asks for: `a.plus(b)` is ("plus", a, b). */
export type ArithmeticOp = "plus" | "minus" | "mul" | "div" | "pow" | "rminus" | "rdiv" | "rpow";

/**
 * Where NDArray's arithmetic methods run: installed by runtime/imperative/arithmetic.ts
 * (imported by nd), which this module cannot import without a cycle.
 * @internal
 */
export const ndarrayArithmetic: { run?: (op: ArithmeticOp, a: NDArray, b: NDArray | number) => NDArray } = {};

function arith(op: ArithmeticOp, a: NDArray, b: NDArray | number): NDArray {
  if (!ndarrayArithmetic.run) throw new KilnError(`NDArray.${op} runs imperative ops: import Kiln's index (or runtime/nd.js), which installs them`);
  return ndarrayArithmetic.run(op, a, b);
}

export class NDArray {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly ctx: Context;
  readonly size: number;
  private readonly storage: ArrayStorage;

  /**
   * A zero-filled array. On a gpu context this allocates device memory, and throws a
   * CudaUnavailableError naming what is missing when there is no usable GPU.
   */
  constructor(shape: Shape, dtype: DType = "float32", ctx: Context = cpu()) {
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0))
      throw new KilnError(`NDArray shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    this.shape = Object.freeze([...shape]);
    this.dtype = checkDType(dtype, "NDArray");
    this.ctx = ctx;
    this.size = shapeSize(shape);
    this.storage =
      ctx.deviceType === "gpu"
        ? new DeviceStorage(cudaDevice(ctx.deviceId), this.dtype, this.size, this)
        : new HostStorage(this.dtype, this.size, ctx.deviceType === "reference");
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** Bytes of the values in the dtype's binary form. */
  get byteLength(): number {
    return this.size * DTYPE_BYTES[this.dtype];
  }

  /** Every value as a flat row-major list of numbers. */
  toArray(): number[] {
    const { buf, wide } = this.hostValues();
    const out = new Array<number>(this.size);
    for (let i = 0; i < out.length; i++) out[i] = readHost(buf, this.dtype, i, wide);
    return out;
  }

  /** The values as float64 (a copy). */
  toFloat64(): Float64Array {
    const { buf, wide } = this.hostValues();
    const out = new Float64Array(this.size);
    for (let i = 0; i < out.length; i++) out[i] = readHost(buf, this.dtype, i, wide);
    return out;
  }

  /** Overwrites every value: a flat list of `size` numbers, or one number for all. */
  set(values: ArrayLike<number> | number): this {
    if (typeof values !== "number" && values.length !== this.size)
      throw new KilnError(`NDArray.set: array of shape ${shapeToString(this.shape)} needs ${this.size} values, got ${values.length}`);
    const s = this.storage;
    const wide = s.kind === "host" && s.wide;
    const buf = s.kind === "host" ? s.buf : allocHost(this.dtype, this.size, false);
    if (typeof values === "number") for (let i = 0; i < this.size; i++) writeHost(buf, this.dtype, i, values, wide);
    else for (let i = 0; i < this.size; i++) writeHost(buf, this.dtype, i, values[i], wide);
    if (s.kind === "device") s.writeBytes(buf);
    return this;
  }

  /**
   * Copies into another array of the same shape (converting values when its dtype differs),
   * or into a new array of this dtype on a context. Works between any two contexts.
   */
  copyTo(target: NDArray | Context): NDArray {
    const dst = target instanceof NDArray ? target : new NDArray(this.shape, this.dtype, target);
    if (!shapesEqual(dst.shape, this.shape))
      throw new KilnError(`NDArray.copyTo: shape ${shapeToString(this.shape)} does not match target ${shapeToString(dst.shape)}`);
    if (dst === this) return dst;
    const src = this.storage;
    const out = dst.storage;
    if (dst.dtype === this.dtype && !(src.kind === "host" && out.kind === "host")) {
      // Same binary form: move bytes without converting values.
      if (src.kind === "device" && out.kind === "device" && src.device === out.device) out.copyFrom(src);
      else if (out.kind === "device") out.writeBytes(src.kind === "host" && !src.wide ? src.buf : src.readBytes());
      else if (src.kind === "device" && !out.wide) src.device.download(out.buf, src.ptr);
      else out.writeBytes(src.readBytes());
      return dst;
    }
    const { buf, wide } = this.hostValues();
    const outWide = out.kind === "host" && out.wide;
    const outBuf = out.kind === "host" ? out.buf : allocHost(dst.dtype, dst.size, false);
    for (let i = 0; i < this.size; i++) writeHost(outBuf, dst.dtype, i, readHost(buf, this.dtype, i, wide), outWide);
    if (out.kind === "device") out.writeBytes(outBuf);
    return dst;
  }

  /**
   * The values in the dtype's own little-endian binary form (what .params files hold): exact
   * for every dtype, including int64 beyond 2^53 and float16 bit patterns.
   */
  toBytes(): Uint8Array {
    return this.storage.readBytes();
  }

  /** Overwrites the values from the dtype's binary form (the inverse of toBytes). */
  setBytes(bytes: Uint8Array): this {
    if (bytes.byteLength !== this.byteLength)
      throw new KilnError(
        `NDArray.setBytes: ${this.dtype} array of shape ${shapeToString(this.shape)} needs ${this.byteLength} bytes, got ${bytes.byteLength}`,
      );
    this.storage.writeBytes(bytes);
    return this;
  }

  asScalar(): number {
    if (this.size !== 1) throw new KilnError(`asScalar needs an array of one element, this one has shape ${shapeToString(this.shape)}`);
    const { buf, wide } = this.hostValues();
    return readHost(buf, this.dtype, 0, wide);
  }

  /**
   * The host storage, for CPU kernels: a typed array of the dtype's own form (float16 as its
   * bits, int64 as BigInt64Array). Not for gpu arrays, nor reference arrays of a dtype other
   * than float64 (the reference context stores float64).
   */
  hostData(): HostArray {
    const s = this.storage;
    if (s.kind === "device") throw new KilnError(`${this}: hostData() of a gpu array; use devicePointer(), or copyTo(cpu()) first`);
    if (s.wide && this.dtype !== "float64")
      throw new KilnError(`${this}: reference arrays hold float64 values, not ${this.dtype}; copyTo(cpu()) first`);
    return s.buf;
  }

  /** The device address of a gpu array, for CUDA kernels (0n when empty). */
  devicePointer(): bigint {
    const s = this.storage;
    if (s.kind !== "device") throw new KilnError(`${this}: devicePointer() of an array in host memory`);
    return s.ptr;
  }

  /**
   * `this + other` as a new array, as MXNet's `NDArray.__add__`: elemwise_add for arrays of
   * one shape, broadcast_add for different (broadcastable) shapes, _plus_scalar for a number.
   * Runs as an imperative op (compiled once per shape, dtype and context).
   */
  plus(other: NDArray | number): NDArray {
    return arith("plus", this, other);
  }

  /** `this - other` (elemwise_sub, broadcast_sub or _minus_scalar). */
  minus(other: NDArray | number): NDArray {
    return arith("minus", this, other);
  }

  /** `this * other` (elemwise_mul, broadcast_mul or _mul_scalar). */
  mul(other: NDArray | number): NDArray {
    return arith("mul", this, other);
  }

  /** `this / other` (elemwise_div, broadcast_div or _div_scalar). */
  div(other: NDArray | number): NDArray {
    return arith("div", this, other);
  }

  /** `this ** other` (_power, broadcast_power or _power_scalar). */
  pow(other: NDArray | number): NDArray {
    return arith("pow", this, other);
  }

  /** `-this` (MXNet's `__neg__`: _mul_scalar by -1). */
  neg(): NDArray {
    return arith("mul", this, -1);
  }

  /** `scalar - this` (MXNet's `__rsub__`: _rminus_scalar). */
  rminus(scalar: number): NDArray {
    return arith("rminus", this, scalar);
  }

  /** `scalar / this` (MXNet's `__rtruediv__`: _rdiv_scalar). */
  rdiv(scalar: number): NDArray {
    return arith("rdiv", this, scalar);
  }

  /** `scalar ** this` (MXNet's `__rpow__`: _rpower_scalar). */
  rpow(scalar: number): NDArray {
    return arith("rpow", this, scalar);
  }

  /** Releases device memory now instead of at garbage collection (a no-op on the host). */
  dispose(): void {
    if (this.storage.kind === "device") this.storage.dispose();
  }

  toString(): string {
    return `NDArray${shapeToString(this.shape)} ${this.dtype} @${this.ctx}`;
  }

  /** What console.log shows: the header and the first values, not the storage internals. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    const shown = this.size <= 8 ? this.toArray() : [...this.toArray().slice(0, 8), "…"];
    return `${this.toString()} [${shown.join(", ")}]`;
  }

  /** The values on the host: the storage itself, or a download of a gpu array. */
  private hostValues(): { buf: HostArray; wide: boolean } {
    const s = this.storage;
    return s.kind === "host" ? { buf: s.buf, wide: s.wide } : { buf: s.download(), wide: false };
  }
}
