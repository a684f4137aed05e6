/** Index reductions: argmax, argmin (MXNet's ReduceAxisParam: one optional axis) and argmax_channel. */
import { defineOp, singleOutput, ShapeCtx } from "../registry.js";
import { P } from "../params.js";
import { Tensor, forEachIndex } from "../tensor.js";
import { Shape } from "../../base/shape.js";
import { ShapeError } from "../../base/errors.js";
import { reduceBody } from "./indexing.js";
import type { ComputeCtx, StageBody } from "../../te/stage.js";

/** MXNet's ReduceAxisShapeImpl: no axis (or a 1-d input) gives (1,), or all ones with keepdims. */
function argShape(x: Shape, axis: number | null, keepdims: boolean): number[] {
  if (axis === null || x.length === 1) return keepdims ? x.map(() => 1) : [1];
  const a = normalize(axis, x.length);
  return keepdims ? x.map((d, i) => (i === a ? 1 : d)) : x.filter((_, i) => i !== a);
}

function normalize(axis: number, ndim: number): number {
  if (axis < -ndim || axis >= ndim) throw new ShapeError(`axis ${axis} exceeds the input dimension of ${ndim}`);
  return (axis + ndim) % ndim;
}

function argShapeRule(ctx: ShapeCtx, axis: number | null, keepdims: boolean): void {
  const x = ctx.in(0);
  if (x === undefined) return;
  ctx.setOut(0, argShape(x, axis, keepdims));
  // Backward: the kept dims of the input are the output's.
  if (axis !== null && x.length > 1) {
    const a = normalize(axis, x.length);
    const out = ctx.out(0)!;
    ctx.setIn(0, x.map((d, i) => (i === a ? d : keepdims ? out[i] : out[i < a ? i : i - 1])));
  }
}

/** Index of the first best element along `axis` (over the flattened input when axis is None). */
function argReduce(x: Tensor, axis: number | null, keepdims: boolean, better: (v: number, best: number) => boolean): Tensor {
  if (axis === null) {
    let best = 0;
    for (let i = 1; i < x.size; i++) if (better(x.data[i], x.data[best])) best = i;
    return new Tensor(argShape(x.shape, null, keepdims), [best]);
  }
  const a = normalize(axis, x.ndim);
  const kshape = x.shape.map((d, i) => (i === a ? 1 : d));
  const bestVal = Tensor.full(kshape, NaN);
  const bestIdx = Tensor.zeros(kshape);
  forEachIndex(x.shape, (idx, flat) => {
    const k = idx[a];
    idx[a] = 0;
    const o = bestVal.offset(idx);
    idx[a] = k;
    const v = x.data[flat];
    if (k === 0 || better(v, bestVal.data[o])) {
      bestVal.data[o] = v;
      bestIdx.data[o] = k;
    }
  });
  return bestIdx.reshape(argShape(x.shape, axis, keepdims));
}

/**
 * argmax/argmin as a reduce stage: over the one axis (the index along it), or over every dim
 * (the flat row-major index, as the reference's flattened search), first extreme on ties.
 */
function argCompute(ctx: ComputeCtx, op: "argmax" | "argmin", axis: number | null, keepdims: boolean): StageBody[] {
  const ndim = ctx.inputs[0].shape.length;
  const a = axis === null ? null : normalize(axis, ndim);
  const mask = Array.from({ length: ndim }, (_, d) => a === null || d === a);
  // A 1-d input gives (1,) even without keepdims, which is what dropping its only dim gives too.
  return [reduceBody(ctx, mask, keepdims, op)];
}

const argParams = {
  axis: P.int.optional("The axis to reduce; None means the flattened input"),
  keepdims: P.bool(false, "Keep the reduced axis as a dim of size one"),
};

function argOp<const N extends "argmax" | "argmin">(name: N, what: string, better: (v: number, best: number) => boolean) {
  return defineOp({
    name,
    doc: `Index (as a float of the input's type) of the first ${what} along axis; zero gradient. Pattern "reduce".`,
    params: argParams,
    inputs: ["data"],
    ...singleOutput,
    pattern: "reduce",
    inferShape: (ctx, p) => argShapeRule(ctx, p.axis, p.keepdims),
    gradient: () => [null],
    // The row name is the reduce op of its stage.
    compute: (ctx, p) => argCompute(ctx, name, p.axis, p.keepdims),
    forward: (p, [x]) => [argReduce(x, p.axis, p.keepdims, better)],
  });
}

export const argmax = argOp("argmax", "maximum", (v, best) => v > best);
export const argmin = argOp("argmin", "minimum", (v, best) => v < best);

export const argmaxChannel = defineOp({
  name: "argmax_channel",
  doc: "argmax along axis 1 (legacy); not differentiable.",
  params: {},
  inputs: ["data"],
  ...singleOutput,
  pattern: "reduce",
  inferShape: (ctx) => argShapeRule(ctx, 1, false),
  compute: (ctx) => argCompute(ctx, "argmax", 1, false),
  forward: (_p, [x]) => [argReduce(x, 1, false, (v, best) => v > best)],
});
