/**
 * The reductions convolution-shaped ops are made of, as tensor-expression stage bodies.
 * Convolution and Deconvolution are adjoint, so each one's forward is the other's data
 * gradient, and their weight gradients share one form:
 *
 * - `correlate`: out[n, a, o] = Σ_{b, k} X[n, grp(a)·B + b, o·s − pad + k·dil] · W[a, b, k]
 *   (Convolution forward, Deconvolution data gradient), the read guarded against the padding;
 * - `transposedCorrelate`: out[n, a, p] = Σ_{b, k} X[n, grp(a)·B + b, (p + pad − k·dil)/s] ·
 *   W[grp(a)·B + b, a mod A, k] over the windows that read p (Convolution data gradient,
 *   Deconvolution forward);
 * - `windowWeightGrad`: dW[a, b, k] = Σ_{n, o} S[n, a, o] · L[n, grp(a)·B + b, o·s − pad + k·dil];
 * - `channelSum`: Σ over batch and positions of one channel (bias gradients).
 *
 * Channels come in groups: channel a of the result belongs to group grp(a) = a / A, which
 * reads the B channels grp(a)·B … grp(a)·B + B − 1 of the other side.
 */
import { E, Expr, ix, num, v } from "../../te/expr.js";
import type { ComputeCtx, StageBody, TensorHandle } from "../../te/stage.js";
import { WindowGeometry, forwardPositions, backwardPositions, guard } from "./window_expr.js";
import { reduceAxes } from "./common.js";

/** How channels pair up: A result channels per group, each reading B channels of the other side. */
export interface Groups {
  readonly perGroup: number;
  readonly reads: number;
}

type Reduce = StageBody & { kind: "reduce" };

/** Result channel `a`'s first channel on the other side. */
const groupBase = (a: Expr, g: Groups): Expr => ix.mul(ix.div(a, g.perGroup), g.reads);

/** `acc + bias[channel]` as the reduction's epilogue, or the plain sum without a bias. */
export function withBias(body: Reduce, bias: TensorHandle | undefined, channel: Expr): Reduce {
  return bias ? { ...body, post: E.add(v("acc"), bias.at([channel])) } : body;
}

/** Convolution forward (Deconvolution's data gradient): window reads of X times W[a, b, k]. */
export function correlate(ctx: ComputeCtx, x: TensorHandle, w: TensorHandle, geo: WindowGeometry, g: Groups): Reduce {
  const [n, a, ...o] = ctx.index();
  const { axes, vars } = reduceAxes(ctx, g.reads, ...geo.w.kernel);
  const [b, ...k] = vars;
  const { pos, inside } = forwardPositions(geo, o, k);
  const value = E.mul(x.at([n, ix.add(groupBase(a, g), b), ...pos]), w.at([a, b, ...k]));
  return { kind: "reduce", op: "sum", axes, value: guard(inside, value, num(0)) };
}

/** Convolution's data gradient (Deconvolution forward): every window that reads position p, times W. */
export function transposedCorrelate(ctx: ComputeCtx, x: TensorHandle, w: TensorHandle, geo: WindowGeometry, g: Groups): Reduce {
  const [n, a, ...p] = ctx.index();
  const { axes, vars } = reduceAxes(ctx, g.reads, ...geo.w.kernel);
  const [b, ...k] = vars;
  const { pos, valid } = backwardPositions(geo, p, k);
  const channel = ix.add(groupBase(a, g), b);
  const value = E.mul(x.at([n, channel, ...pos]), w.at([channel, ix.mod(a, g.perGroup), ...k]));
  return { kind: "reduce", op: "sum", axes, value: guard(valid, value, num(0)) };
}

/**
 * A weight gradient dW[a, b, k] = Σ_{n, o} S[n, a, o] · L[n, grp(a)·B + b, window position],
 * S on the window's small side and L on its large side (`smallFirst` orders the product as
 * the reference does). `out` is the weight gradient's output number.
 */
export function windowWeightGrad(
  ctx: ComputeCtx,
  small: TensorHandle,
  large: TensorHandle,
  geo: WindowGeometry,
  g: Groups,
  smallFirst: boolean,
  out: number,
): Reduce {
  const [a, b, ...k] = ctx.index(out);
  const { axes, vars } = reduceAxes(ctx, small.shape[0], ...geo.small);
  const [n, ...o] = vars;
  const { pos, inside } = forwardPositions(geo, o, k);
  const s = small.at([n, a, ...o]);
  const l = large.at([n, ix.add(groupBase(a, g), b), ...pos]);
  return { kind: "reduce", op: "sum", axes, value: guard(inside, smallFirst ? E.mul(s, l) : E.mul(l, s), num(0)) };
}

/** Σ over batch and spatial positions of channel i0 of an (N, C, spatial…) tensor, as output `out`. */
export function channelSum(ctx: ComputeCtx, t: TensorHandle, out: number): Reduce {
  const [c] = ctx.index(out);
  const [n0, , ...sp] = t.shape;
  const { axes, vars } = reduceAxes(ctx, n0, ...sp);
  const [n, ...o] = vars;
  return { kind: "reduce", op: "sum", axes, value: t.at([n, c, ...o]) };
}
