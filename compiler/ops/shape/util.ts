/** Small helpers the shape, indexing and linalg rows share. */
import { Shape, shapeToString, shapeSize } from "../../base/shape.js";
import { ShapeError, KilnError } from "../../base/errors.js";
import { Tensor, forEachIndex } from "../tensor.js";

/** Normalizes a possibly negative axis for a rank, throwing a ShapeError naming the op's param. */
export function axisOf(axis: number, ndim: number, what = "axis"): number {
  const a = axis < 0 ? axis + ndim : axis;
  if (!Number.isInteger(a) || a < 0 || a >= ndim)
    throw new ShapeError(`${what}=${axis} is out of range for an input of ${ndim} dimensions (allowed: [${-ndim}, ${ndim - 1}])`);
  return a;
}

/** Product of dims, or 0 (unknown) when any dim is unknown. */
export function knownProduct(dims: readonly number[]): number {
  let p = 1;
  for (const d of dims) {
    if (d === 0) return 0;
    p *= d;
  }
  return p;
}

export function show(s: Shape | undefined): string {
  return shapeToString(s);
}

/** The permutation that undoes `perm`. */
export function inversePermutation(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

/** out[i...] = x[perm applied]: output dim i is input dim perm[i]. */
export function transposeTensor(x: Tensor, perm: readonly number[]): Tensor {
  const outShape = perm.map((p) => x.shape[p]);
  const st = x.strides;
  const out = new Tensor(outShape);
  forEachIndex(outShape, (idx, flat) => {
    let o = 0;
    for (let i = 0; i < perm.length; i++) o += idx[i] * st[perm[i]];
    out.data[flat] = x.data[o];
  });
  return out;
}

/**
 * Views a shape as (outer, mid, inner) around `axis`: the layout every
 * concat/split/take/pick kernel walks.
 */
export function aroundAxis(shape: Shape, axis: number): [outer: number, mid: number, inner: number] {
  return [shapeSize(shape.slice(0, axis)), shape[axis], shapeSize(shape.slice(axis + 1))];
}

/** Integer index as MXNet reads a float index array: truncated toward zero. */
export function toIndex(v: number): number {
  return Math.trunc(v);
}

/** Clips or wraps an index into [0, n). */
export function fixIndex(j: number, n: number, mode: "clip" | "wrap" | "raise", where: string): number {
  if (mode === "clip") return j < 0 ? 0 : j >= n ? n - 1 : j;
  if (mode === "wrap") return ((j % n) + n) % n;
  if (j < 0 || j >= n) throw new KilnError(`${where}: index ${j} is out of bounds for a dimension of size ${n} (mode 'raise')`);
  return j;
}

