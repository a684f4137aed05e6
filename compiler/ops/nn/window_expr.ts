/**
 * Tensor-expression helpers for sliding windows (convolution, deconvolution, pooling).
 *
 * A window maps a position `o` of its small side (a convolution's output) and a kernel offset
 * `k` to a position of its large side (the convolution's input): o·stride − pad + k·dilate.
 * Forward rules read the large side at that position, guarded where it can fall into the
 * padding; gradient rules go the other way, from a large-side position p and a kernel offset k
 * to o = (p + pad − k·dilate) / stride, which must be a whole, in-range position. Every guard
 * is left out where the static shapes prove it always holds, so the common unpadded,
 * unit-stride cases lower to plain loads.
 */
import { E, Expr, int, ix, call } from "../../te/expr.js";
import type { Window } from "./common.js";

/** A window with the spatial sizes of both of its sides. */
export interface WindowGeometry {
  readonly w: Window;
  /** Spatial sizes of the large side (a convolution's input). */
  readonly large: readonly number[];
  /** Spatial sizes of the small side (a convolution's output). */
  readonly small: readonly number[];
}

/** The conjunction of the conditions given (undefined ones always hold); undefined when none remain. */
export function all(conds: readonly (Expr | undefined)[]): Expr | undefined {
  const cs = conds.filter((c): c is Expr => c !== undefined);
  if (cs.length === 0) return undefined;
  return cs.reduce((a, b) => call("and", a, b));
}

/** `cond ? value : otherwise`, or just `value` when there is no condition. Lazy: a guarded load is never out of range. */
export function guard(cond: Expr | undefined, value: Expr, otherwise: Expr | number): Expr {
  return cond === undefined ? value : E.select(cond, value, otherwise);
}

/**
 * Large-side positions of small-side position `o` at kernel offsets `k`, and the condition
 * that all of them lie inside the data (undefined where the padding is never reached).
 */
export function forwardPositions(g: WindowGeometry, o: readonly Expr[], k: readonly Expr[]): { pos: Expr[]; inside: Expr | undefined } {
  const { w } = g;
  const pos: Expr[] = [];
  const conds: (Expr | undefined)[] = [];
  for (let d = 0; d < g.large.length; d++) {
    const p = ix.add(ix.sub(ix.mul(o[d], w.stride[d]), w.pad[d]), ix.mul(k[d], w.dilate[d]));
    pos.push(p);
    const lowest = -w.pad[d];
    const highest = (g.small[d] - 1) * w.stride[d] - w.pad[d] + (w.kernel[d] - 1) * w.dilate[d];
    if (lowest < 0) conds.push(E.ge(p, int(0)));
    if (highest >= g.large[d]) conds.push(E.lt(p, int(g.large[d])));
  }
  return { pos, inside: all(conds) };
}

/** Whether a large-side position `p` (per dim) lies inside the data: for reading neighbours at run-time offsets. */
export function insideLarge(g: WindowGeometry, p: readonly Expr[]): Expr | undefined {
  return all(p.flatMap((e, d) => [E.ge(e, int(0)), E.lt(e, int(g.large[d]))]));
}

/**
 * The small-side position whose window reads large-side position `p` at kernel offset `k`,
 * and the condition that it exists: p + pad − k·dilate is non-negative, divisible by the
 * stride, and below the small side's size. Each (p, k) pair names at most one window, so a
 * reduction over k under this guard visits every window that reads p exactly once.
 */
export function backwardPositions(g: WindowGeometry, p: readonly Expr[], k: readonly Expr[]): { pos: Expr[]; valid: Expr | undefined } {
  const { w } = g;
  const pos: Expr[] = [];
  const conds: (Expr | undefined)[] = [];
  for (let d = 0; d < g.large.length; d++) {
    const t = ix.sub(ix.add(p[d], w.pad[d]), ix.mul(k[d], w.dilate[d]));
    const s = w.stride[d];
    pos.push(ix.div(t, s));
    const lowest = w.pad[d] - (w.kernel[d] - 1) * w.dilate[d];
    const highest = g.large[d] - 1 + w.pad[d];
    if (lowest < 0) conds.push(E.ge(t, int(0)));
    if (s > 1) conds.push(E.eq(ix.mod(t, s), int(0)));
    if (Math.floor(highest / s) >= g.small[d]) conds.push(E.lt(t, int(g.small[d] * s)));
  }
  return { pos, valid: all(conds) };
}

/** Row-major flat offset of kernel offsets `k` in the kernel's shape (an index expression). */
export function kernelFlat(k: readonly Expr[], kernel: readonly number[]): Expr {
  return ix.flatten(k, kernel);
}
