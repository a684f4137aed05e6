/**
 * Axis handling shared by the reductions, following MXNet's ReduceAxesShapeImpl: `axis` None
 * or () reduces everything (to shape (1,), or all ones with keepdims, whatever `exclude` says);
 * negative axes count from the end; `exclude` reduces the axes not listed; a result with no
 * dims left is (1,).
 */
import { ShapeCtx } from "../registry.js";
import { P, ParamValues } from "../params.js";
import { Tensor, forEachIndex } from "../tensor.js";
import { Shape, shapeToBracket, shapeSize } from "../../base/shape.js";
import { ShapeError } from "../../base/errors.js";

export const reduceParams = {
  axis: P.tuple.optional("The axis or axes to reduce; None or () reduces all of them"),
  keepdims: P.bool(false, "Keep the reduced axes as dims of size one"),
  exclude: P.bool(false, "Reduce the axes NOT in `axis` instead"),
};
export type ReduceParams = ParamValues<typeof reduceParams>;

/** Which dims of an ndim-rank input are reduced; throws on a bad or duplicate axis. */
export function reducedMask(ndim: number, axis: readonly number[] | null, exclude: boolean): boolean[] {
  if (axis === null || axis.length === 0) return new Array<boolean>(ndim).fill(true);
  const mask = new Array<boolean>(ndim).fill(false);
  for (const a of axis) {
    const n = a < 0 ? a + ndim : a;
    if (n < 0 || n >= ndim) throw new ShapeError(`Reduction axis ${a} exceeds input dimensions ${ndim} (axis ${shapeToBracket(axis)})`);
    if (mask[n]) throw new ShapeError(`Reduction axes have duplicates ${shapeToBracket(axis)}`);
    mask[n] = true;
  }
  return exclude ? mask.map((m) => !m) : mask;
}

/** The result shape: reduced dims dropped (or 1 with keepdims); (1,) when nothing is left. */
export function reducedShape(ishape: Shape, mask: readonly boolean[], keepdims: boolean): number[] {
  if (keepdims) return ishape.map((d, i) => (mask[i] ? 1 : d));
  const kept = ishape.filter((_, i) => !mask[i]);
  return kept.length ? kept : [1];
}

/**
 * Shape rule of a reduction: the output from the input's rank and known dims, and backward,
 * the input's kept dims from the output.
 */
export function reduceShapeRule(ctx: ShapeCtx, mask: (ndim: number) => boolean[], keepdims: boolean): void {
  const x = ctx.in(0);
  const given = ctx.out(0);
  if (x === undefined) {
    // With keepdims the input has the output's rank and its kept dims.
    if (keepdims && given !== undefined) {
      const m = mask(given.length);
      ctx.setIn(0, given.map((d, i) => (m[i] ? 0 : d)));
    }
    return;
  }
  const m = mask(x.length);
  ctx.setOut(0, reducedShape(x, m, keepdims));
  const out = ctx.out(0)!;
  const keptAt = x.map((_, i) => i).filter((i) => !m[i]);
  const filled = [...x];
  keptAt.forEach((i, k) => (filled[i] = keepdims ? out[i] : out[k]));
  ctx.setIn(0, filled);
}

/** Row-major strides of the keepdims-shaped result, 0 on reduced dims: input index → result offset. */
function resultStrides(ishape: Shape, mask: readonly boolean[]): number[] {
  const st = new Array<number>(ishape.length).fill(0);
  let acc = 1;
  for (let i = ishape.length - 1; i >= 0; i--) {
    if (mask[i]) continue;
    st[i] = acc;
    acc *= ishape[i];
  }
  return st;
}

/** Folds x over the masked dims; the result has the keepdims shape. */
export function reduceTensor(x: Tensor, mask: readonly boolean[], init: number, step: (acc: number, v: number) => number): Tensor {
  const oshape = x.shape.map((d, i) => (mask[i] ? 1 : d));
  const out = Tensor.full(oshape, init);
  const st = resultStrides(x.shape, mask);
  forEachIndex(x.shape, (idx, flat) => {
    let o = 0;
    for (let d = 0; d < idx.length; d++) o += idx[d] * st[d];
    out.data[o] = step(out.data[o], x.data[flat]);
  });
  return out;
}

/** Reads a keepdims-shaped (or same-size) tensor broadcast back to the input shape. */
export function expandTo(t: Tensor, ishape: Shape, mask: readonly boolean[]): Float64Array {
  const st = resultStrides(ishape, mask);
  const out = new Float64Array(shapeSize(ishape));
  forEachIndex(ishape, (idx, flat) => {
    let o = 0;
    for (let d = 0; d < idx.length; d++) o += idx[d] * st[d];
    out[flat] = t.data[o];
  });
  return out;
}

/** How many input elements fold into one result element. */
export function reducedCount(ishape: Shape, mask: readonly boolean[]): number {
  return ishape.reduce((acc, d, i) => (mask[i] ? acc * d : acc), 1);
}
