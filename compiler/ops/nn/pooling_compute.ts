/**
 * Pooling and its gradient as tensor-expression stage bodies, matching the reference rows in
 * pooling.ts exactly:
 *
 * - forward: a reduction over the kernel window of each output position, reads outside the
 *   data guarded (−∞ for max, 0 otherwise). Max starts from the lowest finite value as the
 *   reference does, so a window with nothing above it gives −MAX_VALUE; avg divides by the
 *   reference's divisor, an expression of the output position (the window clipped to the padded
 *   extent, or to the data with count_include_pad=False); lp takes the root in the epilogue.
 * - gradient: for each data position x, a reduction over the kernel offsets k naming the
 *   windows that read x (window o = (x + pad − k)/stride when whole and in range). avg, sum and
 *   lp add their share. Max adds ograd[o] where x is the FIRST maximum of window o: x equals
 *   the forward output y[o] (which is the window maximum, or −MAX_VALUE when nothing beats it),
 *   and no in-window element before x in window order equals y[o]. That test unrolls over the
 *   kernel's K offsets, so the expression has O(K) terms and the work per data element is
 *   O(K) per window that reads it; global max pooling, where K is the whole plane, is
 *   decomposed into argmax + one_hot instead (see pooling.ts).
 */
import { E, Expr, cast, int, ix, num, v, call } from "../../te/expr.js";
import type { ComputeCtx, StageBody, TensorHandle } from "../../te/stage.js";
import { WindowGeometry, forwardPositions, backwardPositions, guard, insideLarge, all, kernelFlat } from "./window_expr.js";
import { reduceAxes } from "./common.js";

export type PoolType = "max" | "avg" | "sum" | "lp";

export interface PoolSpec {
  readonly type: PoolType;
  /** p of lp pooling (1, 2 or 3). */
  readonly pValue: number;
  /** Avg pooling counts padded positions in the divisor. */
  readonly includePad: boolean;
  readonly geo: WindowGeometry;
}

/** The reference's max pooling starts from the lowest finite double, not −∞. */
const LOWEST = -Number.MAX_VALUE;

/** v^p for p = 1, 2, 3, multiplied out as the reference does. */
function powP(x: Expr, p: number): Expr {
  if (p === 1) return x;
  if (p === 2) return E.mul(x, x);
  return E.mul(E.mul(x, x), x);
}

/**
 * The avg divisor of output position `o`: per dim, the window [o·s − pad, o·s − pad + k)
 * clipped to the padded extent (and with count_include_pad=False to the data), multiplied
 * over dims. Dims where every window has one size contribute a constant.
 */
function divisor(spec: PoolSpec, o: readonly Expr[]): Expr {
  const { w, large, small } = spec.geo;
  let constant = 1;
  let expr: Expr | undefined;
  for (let d = 0; d < large.length; d++) {
    const sizeAt = (oi: number): number => {
      const start = oi * w.stride[d] - w.pad[d];
      const end = Math.min(start + w.kernel[d], large[d] + w.pad[d]);
      return spec.includePad ? end - start : Math.min(end, large[d]) - Math.max(start, 0);
    };
    const sizes = Array.from({ length: small[d] }, (_, i) => sizeAt(i));
    if (sizes.every((s) => s === sizes[0])) {
      constant *= sizes[0];
      continue;
    }
    const start = ix.sub(ix.mul(o[d], w.stride[d]), w.pad[d]);
    const end = call("min", ix.add(start, w.kernel[d]), int(large[d] + w.pad[d]));
    const size = spec.includePad ? ix.sub(end, start) : ix.sub(call("min", end, int(large[d])), call("max", start, int(0)));
    expr = expr === undefined ? size : ix.mul(expr, size);
  }
  return expr === undefined ? int(constant) : ix.mul(expr, constant);
}

/** The divisor as a value of the output's type (a constant folds to a float literal). */
function divisorValue(spec: PoolSpec, o: readonly Expr[], dtype: Parameters<typeof cast>[0]): Expr {
  const d = divisor(spec, o);
  return d.kind === "const" ? num(d.value) : cast(dtype, d);
}

/** Pooling forward: output (N, C, out…) from data input 0. */
export function poolForward(ctx: ComputeCtx, spec: PoolSpec): StageBody {
  const x = ctx.inputs[0];
  const [n, c, ...o] = ctx.index();
  const { axes, vars: k } = reduceAxes(ctx, ...spec.geo.w.kernel);
  const { pos, inside } = forwardPositions(spec.geo, o, k);
  const xv = x.at([n, c, ...pos]);
  const acc = v("acc");
  switch (spec.type) {
    case "max":
      return { kind: "reduce", op: "max", axes, value: guard(inside, xv, num(-Infinity)), post: E.max(acc, num(LOWEST)) };
    case "sum":
      return { kind: "reduce", op: "sum", axes, value: guard(inside, xv, num(0)) };
    case "avg":
      return { kind: "reduce", op: "sum", axes, value: guard(inside, xv, num(0)), post: E.div(acc, divisorValue(spec, o, ctx.outputs[0].dtype)) };
    case "lp": {
      const root = spec.pValue === 1 ? undefined : E.fn(spec.pValue === 2 ? "sqrt" : "cbrt", acc);
      return { kind: "reduce", op: "sum", axes, value: guard(inside, powP(xv, spec.pValue), num(0)), ...(root ? { post: root } : {}) };
    }
  }
}

/**
 * Whether data position `p` is the first maximum of the window that reads it at kernel
 * offset `k`, given the window's maximum `y`: no in-data element at an earlier offset k'
 * (row-major) equals y. Element k' of that window sits at p − k + k'.
 */
function noEarlierMax(spec: PoolSpec, x: TensorHandle, nc: readonly Expr[], p: readonly Expr[], k: readonly Expr[], y: Expr): Expr | undefined {
  const { w } = spec.geo;
  const kFlat = kernelFlat(k, w.kernel);
  const K = w.kernel.reduce((a, b) => a * b, 1);
  const terms: Expr[] = [];
  // The last offset is never before another one.
  for (let f = 0; f + 1 < K; f++) {
    const kk = ix.unflatten(int(f), w.kernel);
    const q = p.map((pd, d) => ix.add(ix.sub(pd, k[d]), kk[d]));
    const before = all([E.lt(int(f), kFlat), insideLarge(spec.geo, q)]);
    terms.push(E.select(before!, E.ne(x.at([...nc, ...q]), y), num(1)));
  }
  return all(terms);
}

/** Pooling gradient: data gradient from inputs (ograd, data, output). */
export function poolBackward(ctx: ComputeCtx, spec: PoolSpec): StageBody {
  const [og, x, out] = ctx.inputs;
  const [n, c, ...p] = ctx.index();
  const { axes, vars: k } = reduceAxes(ctx, ...spec.geo.w.kernel);
  const { pos: o, valid } = backwardPositions(spec.geo, p, k);
  const g = og.at([n, c, ...o]);
  let value: Expr;
  switch (spec.type) {
    case "sum":
      value = g;
      break;
    case "avg":
      value = E.div(g, divisorValue(spec, o, ctx.outputs[0].dtype));
      break;
    case "lp": {
      const xv = x.at([n, c, ...p]);
      const y = out.at([n, c, ...o]);
      value = spec.pValue === 1 ? g : E.mul(g, spec.pValue === 2 ? E.div(xv, y) : E.div(E.mul(xv, xv), E.mul(y, y)));
      break;
    }
    case "max": {
      const y = out.at([n, c, ...o]);
      const isMax = call("and", E.eq(x.at([n, c, ...p]), y), E.gt(y, num(LOWEST)));
      // Nested selects keep the O(K) first-maximum test lazy: it runs only where x is a maximum.
      value = E.select(isMax, guard(noEarlierMax(spec, x, [n, c], p, k, y), g, num(0)), num(0));
      break;
    }
  }
  return { kind: "reduce", op: "sum", axes, value: guard(valid, value, num(0)) };
}
