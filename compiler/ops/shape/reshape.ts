/** Ops that only change how the elements are viewed: Reshape, Flatten, expand_dims, squeeze. */
import { defineOp, singleOutput, ShapeCtx, GradCtx } from "../registry.js";
import type { NodeEntry } from "../../ir/node.js";
import { P } from "../params.js";
import { Tensor } from "../tensor.js";
import { Shape, isShapeKnown, shapeSize } from "../../base/shape.js";
import { ShapeError } from "../../base/errors.js";
import { axisOf, knownProduct, show } from "./util.js";
import { viewIndex } from "./index_expr.js";
import type { ComputeCtx, StageBody } from "../../te/stage.js";

const tupleText = (t: readonly number[]): string => `(${t.join(",")})`;

/**
 * MXNet's InferReshapeShape: output dims from the `shape` param and the input dims, 0 where a
 * dim cannot be known yet. Special values: 0 copy, -1 infer, -2 copy the rest, -3 merge two,
 * -4 split one into the next two values. With `reverse` both lists are read right to left.
 */
export function reshapeTarget(spec: readonly number[], dshape: Shape, reverse: boolean): number[] {
  const what = `shape=${tupleText(spec)}${reverse ? " (reverse)" : ""} for input ${show(dshape)}`;
  const src = reverse ? [...dshape].reverse() : [...dshape];
  const sp = reverse ? [...spec].reverse() : [...spec];
  const out: number[] = [];
  let si = 0;
  let inferAt = -1;
  for (let i = 0; i < sp.length; i++) {
    const d = sp[i];
    if (d === 0) {
      if (si >= src.length) throw new ShapeError(`${what}: 0 copies input dim ${si}, but the input has ${src.length} dims`);
      out.push(src[si++]);
    } else if (d === -1) {
      if (inferAt >= 0) throw new ShapeError(`${what}: one and only one dim can be inferred (-1)`);
      inferAt = out.length;
      out.push(1);
      si++;
    } else if (d === -2) {
      while (si < src.length) out.push(src[si++]);
    } else if (d === -3) {
      if (si + 1 >= src.length) throw new ShapeError(`${what}: -3 merges input dims ${si} and ${si + 1}, but the input has ${src.length} dims`);
      const a = src[si++];
      const b = src[si++];
      out.push(a * b);
    } else if (d === -4) {
      if (i + 2 >= sp.length) throw new ShapeError(`${what}: -4 must be followed by the two dims to split into`);
      if (si >= src.length) throw new ShapeError(`${what}: -4 splits input dim ${si}, but the input has ${src.length} dims`);
      const d0 = src[si++];
      let d1 = sp[++i];
      let d2 = sp[++i];
      if (d1 === -1 && d2 === -1) throw new ShapeError(`${what}: split dims cannot both be -1`);
      if ((d1 <= 0 && d1 !== -1) || (d2 <= 0 && d2 !== -1)) throw new ShapeError(`${what}: split dims must be positive or -1, got ${d1}, ${d2}`);
      if (d1 === -1 && d0 > 0) d1 = Math.trunc(d0 / d2);
      if (d2 === -1 && d0 > 0) d2 = Math.trunc(d0 / d1);
      if (d0 > 0 && d1 * d2 !== d0) throw new ShapeError(`${what}: split dims ${d1}, ${d2} do not divide original dim ${d0}`);
      out.push(Math.max(d1, 0), Math.max(d2, 0));
    } else if (d > 0) {
      out.push(d);
      si++;
    } else throw new ShapeError(`${what}: invalid value ${d} (allowed: positive, 0, -1, -2, -3, -4)`);
  }
  if (inferAt >= 0) {
    if (isShapeKnown(dshape)) {
      const rest = shapeSize(out);
      const total = shapeSize(dshape);
      if (total % rest !== 0) throw new ShapeError(`${what}: cannot infer the -1 dim, ${total} elements do not divide by ${rest}`);
      out[inferAt] = total / rest;
    } else out[inferAt] = 0;
  }
  return reverse ? out.reverse() : out;
}

/** The deprecated `target_shape` (0 = infer one dim) with `keep_highest`. */
function legacyTarget(target: readonly number[], keepHighest: boolean, dshape: Shape): number[] {
  const out = [...target];
  if (keepHighest) out[0] = dshape[0];
  const zeros = out.map((d, i) => (d === 0 && (i > 0 || !keepHighest) ? i : -1)).filter((i) => i >= 0);
  if (zeros.length === 1) {
    out[zeros[0]] = 1;
    const rest = shapeSize(out);
    out[zeros[0]] = isShapeKnown(dshape) ? shapeSize(dshape) / rest : 0;
  }
  return out;
}

/** Fills the one unknown dim of one side from the other side's size; checks sizes when both are known. */
export function sameSizeFill(ctx: ShapeCtx, inIdx = 0, outIdx = 0): void {
  const fill = (s: Shape | undefined, other: Shape | undefined): Shape | undefined => {
    if (!s || !isShapeKnown(other)) return undefined;
    const unknown = s.filter((d) => d === 0).length;
    if (unknown !== 1) return undefined;
    const prod = knownProduct(s.filter((d) => d !== 0));
    const total = shapeSize(other);
    if (total % prod !== 0) throw new ShapeError(`cannot fill ${show(s)} to the size of ${show(other)}: ${total} does not divide by ${prod}`);
    return s.map((d) => (d === 0 ? total / prod : d));
  };
  ctx.setIn(inIdx, fill(ctx.in(inIdx), ctx.out(outIdx)));
  ctx.setOut(outIdx, fill(ctx.out(outIdx), ctx.in(inIdx)));
  const [i, o] = [ctx.in(inIdx), ctx.out(outIdx)];
  if (isShapeKnown(i) && isShapeKnown(o) && shapeSize(i) !== shapeSize(o))
    throw new ShapeError(`Target shape size is different to source. Target: ${show(o)}, Source: ${show(i)}`);
}

const reshapeParams = {
  shape: P.tuple([], "Target shape; special values 0 copy, -1 infer, -2 copy the rest, -3 merge two, -4 split one."),
  reverse: P.bool(false, "Apply the special values right to left."),
  target_shape: P.tuple([], "(Deprecated) target shape; one 0 is inferred."),
  keep_highest: P.bool(false, "(Deprecated) with target_shape, keep the first input dim."),
};

function reshapeOut(p: { shape: number[]; reverse: boolean; target_shape: number[]; keep_highest: boolean }, d: Shape): number[] | undefined {
  if (p.shape.length > 0) return reshapeTarget(p.shape, d, p.reverse);
  if (p.target_shape.length > 0) return legacyTarget(p.target_shape, p.keep_highest, d);
  return undefined;
}

/** The gradient of every view op: the head gradient reshaped to the input's shape. */
const viewGradient = (g: GradCtx<unknown>): NodeEntry[] => [g.op1("_backward_reshape", [g.ograd(), g.input(0)])];

/** Every view op: the output element at i is input 0's element at the same row-major offset. */
const viewCompute = (ctx: ComputeCtx): StageBody[] => {
  const [x] = ctx.inputs;
  const out = ctx.outputs[0];
  return [{ kind: "map", value: x.at(viewIndex(ctx.index(), out.shape, x.shape)) }];
};

const copyAs = (x: Tensor, shape: Shape): Tensor => new Tensor(shape, x.data.slice());

export const Reshape = defineOp({
  name: "Reshape",
  aliases: ["reshape"],
  doc: "Views the input with another shape of the same size (MXNet's special values 0, -1, -2, -3, -4 and reverse).",
  params: reshapeParams,
  inputs: ["data"],
  ...singleOutput,
  pattern: "injective",
  inferShape: (ctx, p) => {
    const d = ctx.in(0);
    if (d === undefined) {
      // Only explicit dims: the output is known without the input.
      const t = p.shape.length > 0 ? p.shape : p.keep_highest ? [] : p.target_shape;
      if (t.length > 0 && t.every((x) => x > 0)) ctx.setOut(0, t);
      return;
    }
    const o = reshapeOut(p, d);
    if (o) ctx.setOut(0, o);
    // Then one unknown dim on either side follows from the other side's size.
    sameSizeFill(ctx);
  },
  gradient: viewGradient,
  compute: viewCompute,
  forward: (p, [x], ctx) => [copyAs(x, reshapeOut(p, x.shape) ?? ctx.outputShape(0))],
});

export const Flatten = defineOp({
  name: "Flatten",
  aliases: ["flatten"],
  doc: "Collapses all dims but the first: (d1, d2, ..., dk) -> (d1, d2*...*dk).",
  params: {},
  inputs: ["data"],
  ...singleOutput,
  pattern: "injective",
  inferShape: (ctx) => {
    const d = ctx.in(0);
    const o = ctx.out(0);
    if (o !== undefined && o.length !== 2) throw new ShapeError(`the output of Flatten is 2-D, got ${show(o)}`);
    if (d !== undefined) {
      if (d.length === 0) throw new ShapeError(`Flatten needs an input of at least 1 dim, got ${show(d)}`);
      ctx.setOut(0, [d[0], knownProduct(d.slice(1))]);
      if (o !== undefined) ctx.setIn(0, [o[0], ...d.slice(1)]);
      sameSizeFill(ctx);
    }
  },
  gradient: viewGradient,
  compute: viewCompute,
  forward: (_p, [x]) => [copyAs(x, [x.shape[0], shapeSize(x.shape.slice(1))])],
});

export const expandDims = defineOp({
  name: "expand_dims",
  doc: "Inserts a new axis of size 1 at `axis` (in [-ndim-1, ndim]).",
  params: { axis: P.int.required("Position of the new axis; negative counts from the end.") },
  inputs: ["data"],
  ...singleOutput,
  pattern: "injective",
  inferShape: (ctx, p) => {
    const d = ctx.in(0);
    const o = ctx.out(0);
    const ndim = d ? d.length : o ? o.length - 1 : undefined;
    if (ndim === undefined) return;
    const axis = p.axis < 0 ? p.axis + ndim + 1 : p.axis;
    if (axis < 0 || axis > ndim) throw new ShapeError(`axis=${p.axis} is out of range for an input of ${ndim} dimensions (allowed: [${-ndim - 1}, ${ndim}])`);
    const din = d ?? new Array<number>(ndim).fill(0);
    ctx.setOut(0, [...din.slice(0, axis), 1, ...din.slice(axis)]);
    const out = ctx.out(0)!;
    ctx.setIn(0, [...out.slice(0, axis), ...out.slice(axis + 1)]);
  },
  gradient: viewGradient,
  compute: viewCompute,
  forward: (p, [x]) => {
    const axis = p.axis < 0 ? p.axis + x.ndim + 1 : p.axis;
    return [copyAs(x, [...x.shape.slice(0, axis), 1, ...x.shape.slice(axis)])];
  },
});

function squeezeAxes(axis: number[] | null, d: Shape): number[] | undefined {
  if (axis === null) return d.every((x) => x > 0) ? d.flatMap((x, i) => (x === 1 ? [i] : [])) : undefined;
  const axes = axis.map((a) => axisOf(a, d.length));
  if (new Set(axes).size !== axes.length) throw new ShapeError(`squeeze: duplicate value in axis=${tupleText(axis)}`);
  for (const a of axes)
    if (d[a] > 1) throw new ShapeError(`cannot select an axis to squeeze out which has size=${d[a]} not equal to one (axis ${a} of ${show(d)})`);
  return axes;
}

function squeezed(d: Shape, axes: number[]): number[] {
  const out = d.filter((_, i) => !axes.includes(i));
  return out.length === 0 ? [1] : out;
}

export const squeeze = defineOp({
  name: "squeeze",
  doc: "Removes dims of size 1 (all, or those in `axis`); keeps at least one dim.",
  params: { axis: P.tuple.optional("Axes to remove; each must have size 1. None: every size-1 dim.") },
  inputs: ["data"],
  ...singleOutput,
  pattern: "injective",
  inferShape: (ctx, p) => {
    const d = ctx.in(0);
    if (d === undefined) return;
    const axes = squeezeAxes(p.axis, d);
    if (axes === undefined) return;
    // The squeezed axes are 1 even when the input did not say so yet.
    ctx.setIn(0, d.map((x, i) => (axes.includes(i) ? 1 : x)));
    ctx.setOut(0, squeezed(d, axes));
    const o = ctx.out(0)!;
    const kept = d.map((_, i) => i).filter((i) => !axes.includes(i));
    if (kept.length > 0) ctx.setIn(0, d.map((x, i) => (axes.includes(i) ? 1 : o[kept.indexOf(i)])));
  },
  gradient: viewGradient,
  compute: viewCompute,
  forward: (p, [x]) => [copyAs(x, squeezed(x.shape, squeezeAxes(p.axis, x.shape)!))],
});

export const backwardReshape = defineOp({
  name: "_backward_reshape",
  doc: "The gradient of the view ops: `ograd` with the shape of `data` (whose values are not read).",
  params: {},
  inputs: ["ograd", "data"],
  ...singleOutput,
  pattern: "injective",
  inferShape: (ctx) => {
    ctx.setOut(0, ctx.in(1));
    ctx.setIn(1, ctx.out(0));
    sameSizeFill(ctx, 0, 0);
  },
  compute: viewCompute,
  forward: (_p, [og, x]) => [copyAs(og, x.shape)],
});
