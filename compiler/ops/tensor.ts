/**
 * The reference interpreter's value: a dense row-major float64 array. Integer data (labels,
 * indices) is held as exact float64 values. Deliberately simple: it is the oracle.
 */
import { Shape, shapeSize, stridesOf, shapeToString } from "../base/shape.js";

export class Tensor {
  readonly shape: number[];
  readonly data: Float64Array;

  constructor(shape: Shape, data?: Float64Array | ArrayLike<number>) {
    this.shape = [...shape];
    const n = shapeSize(shape);
    if (data === undefined) this.data = new Float64Array(n);
    else {
      if (data.length !== n) throw new Error(`tensor of shape ${shapeToString(shape)} needs ${n} values, got ${data.length}`);
      this.data = data instanceof Float64Array ? data : Float64Array.from(data);
    }
  }

  static zeros(shape: Shape): Tensor {
    return new Tensor(shape);
  }

  static full(shape: Shape, v: number): Tensor {
    return new Tensor(shape, new Float64Array(shapeSize(shape)).fill(v));
  }

  static scalarLike(v: number): Tensor {
    return new Tensor([1], [v]);
  }

  get size(): number {
    return this.data.length;
  }

  get ndim(): number {
    return this.shape.length;
  }

  get strides(): number[] {
    return stridesOf(this.shape);
  }

  clone(): Tensor {
    return new Tensor(this.shape, this.data.slice());
  }

  reshape(shape: Shape): Tensor {
    return new Tensor(shape, this.data);
  }

  map(f: (x: number, i: number) => number): Tensor {
    const out = new Float64Array(this.data.length);
    for (let i = 0; i < out.length; i++) out[i] = f(this.data[i], i);
    return new Tensor(this.shape, out);
  }

  /** Flat offset of a multi-index. */
  offset(idx: readonly number[]): number {
    let o = 0;
    let acc = 1;
    for (let i = this.shape.length - 1; i >= 0; i--) {
      o += idx[i] * acc;
      acc *= this.shape[i];
    }
    return o;
  }

  at(...idx: number[]): number {
    return this.data[this.offset(idx)];
  }
}

/** Calls f with every multi-index of a shape in row-major order, and the flat index. */
export function forEachIndex(shape: Shape, f: (idx: number[], flat: number) => void): void {
  const n = shapeSize(shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < n; flat++) {
    f(idx, flat);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

/** NumPy broadcasting of two shapes; throws when incompatible. */
export function broadcastShapes(a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`shapes ${shapeToString(a)} and ${shapeToString(b)} cannot broadcast`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Reads `t` as if broadcast to `shape` (NumPy rules), returning a fresh tensor. */
export function broadcastTo(t: Tensor, shape: Shape): Tensor {
  const out = new Tensor(shape);
  const off = shape.length - t.ndim;
  const st = t.strides;
  forEachIndex(shape, (idx, flat) => {
    let o = 0;
    for (let d = 0; d < t.ndim; d++) if (t.shape[d] !== 1) o += idx[d + off] * st[d];
    out.data[flat] = t.data[o];
  });
  return out;
}

/** Sums `t` down to `shape` (the adjoint of broadcasting): the gradient of a broadcast input. */
export function sumToShape(t: Tensor, shape: Shape): Tensor {
  const out = new Tensor(shape);
  const off = t.ndim - shape.length;
  const st = stridesOf(shape);
  forEachIndex(t.shape, (idx, flat) => {
    let o = 0;
    for (let d = 0; d < shape.length; d++) if (shape[d] !== 1) o += idx[d + off] * st[d];
    out.data[o] += t.data[flat];
  });
  return out;
}

/** Elementwise binary op with NumPy broadcasting. */
export function broadcastBinary(a: Tensor, b: Tensor, f: (x: number, y: number) => number): Tensor {
  const shape = broadcastShapes(a.shape, b.shape);
  const A = broadcastTo(a, shape);
  const B = broadcastTo(b, shape);
  const out = new Tensor(shape);
  for (let i = 0; i < out.size; i++) out.data[i] = f(A.data[i], B.data[i]);
  return out;
}
