/** Ops that move or select elements by position: transpose, slice, slice_axis. */
import { defineOp, singleOutput } from "../registry.js";
import { P } from "../params.js";
import { Tensor, forEachIndex } from "../tensor.js";
import { Shape } from "../../base/shape.js";
import { ShapeError } from "../../base/errors.js";
import { axisOf, inversePermutation, show, transposeTensor } from "./util.js";
import { boxIndex, onBox } from "./index_expr.js";
import { Expr, select } from "../../te/expr.js";
import type { ComputeCtx, StageBody } from "../../te/stage.js";

/** The permutation of a transpose: `axes` (negative allowed) or, when empty, the reversed dims. */
export function permutationOf(axes: readonly number[], ndim: number): number[] {
  if (axes.length === 0) return Array.from({ length: ndim }, (_, i) => ndim - 1 - i);
  if (axes.length !== ndim) throw new ShapeError(`transpose: axes=(${axes.join(",")}) has ${axes.length} entries for an input of ${ndim} dimensions`);
  const perm = axes.map((a) => axisOf(a, ndim, "transpose axes entry"));
  if (new Set(perm).size !== ndim) throw new ShapeError(`transpose: axes=(${axes.join(",")}) is not a permutation of the ${ndim} dims`);
  return perm;
}

export const transpose = defineOp({
  name: "transpose",
  doc: "Permutes the dims: output dim i is input dim axes[i] (default: reversed).",
  params: { axes: P.tuple([], "Target order of the axes; empty reverses them.") },
  inputs: ["data"],
  ...singleOutput,
  pattern: "injective",
  inferShape: (ctx, p) => {
    const d = ctx.in(0);
    const o = ctx.out(0);
    const ndim = d?.length ?? o?.length;
    if (ndim === undefined) return;
    const perm = permutationOf(p.axes, ndim);
    if (d) ctx.setOut(0, perm.map((a) => d[a]));
    const out = ctx.out(0);
    if (out) {
      const inv = inversePermutation(perm);
      ctx.setIn(0, inv.map((i) => out[i]));
    }
  },
  gradient: (g) => {
    const axes = g.params.axes.length === 0 ? [] : inversePermutation(g.params.axes.map((a) => (a < 0 ? a + g.params.axes.length : a)));
    return [g.op1("transpose", [g.ograd()], { axes })];
  },
  compute: (ctx, p) => {
    const x = ctx.inputs[0];
    const i = ctx.index();
    // Output dim d is input dim perm[d].
    const at = new Array<Expr>(x.shape.length);
    permutationOf(p.axes, x.shape.length).forEach((src, d) => (at[src] = i[d]));
    return [{ kind: "map", value: x.at(at) }];
  },
  forward: (p, [x]) => [transposeTensor(x, permutationOf(p.axes, x.ndim))],
});

/** Copies the strided box starting at `begin` with `step` out of x into a tensor of `outShape`. */
function gather(x: Tensor, begin: readonly number[], step: readonly number[], outShape: Shape): Tensor {
  const out = new Tensor(outShape);
  const st = x.strides;
  forEachIndex(outShape, (idx, flat) => {
    let o = 0;
    for (let d = 0; d < idx.length; d++) o += (begin[d] + idx[d] * step[d]) * st[d];
    out.data[flat] = x.data[o];
  });
  return out;
}

/** The adjoint of gather: zeros of `shape` with og added into the box. */
function scatter(og: Tensor, begin: readonly number[], step: readonly number[], shape: Shape): Tensor {
  const out = new Tensor(shape);
  const st = out.strides;
  forEachIndex(og.shape, (idx, flat) => {
    let o = 0;
    for (let d = 0; d < idx.length; d++) o += (begin[d] + idx[d] * step[d]) * st[d];
    out.data[o] += og.data[flat];
  });
  return out;
}

/** out[i] = data[begin + i·step]: the forward of both slices. */
function gatherCompute(ctx: ComputeCtx, box: Box): StageBody[] {
  return [{ kind: "map", value: ctx.inputs[0].at(boxIndex(ctx.index(), box.begin, box.step)) }];
}

/**
 * The adjoint of gatherCompute without a scatter: each element of the full array reads ograd
 * (input 0) where it lies on the box's grid, else 0.
 */
function placeCompute(ctx: ComputeCtx, box: Box): StageBody[] {
  const [og] = ctx.inputs;
  const { cond, at } = onBox(ctx.index(), box.begin, box.step, og.shape, ctx.outputs[0].shape);
  return [{ kind: "map", value: cond === undefined ? og.at(at) : select(cond, og.at(at), 0) }];
}

interface Box {
  begin: number[];
  step: number[];
  /** Output dims; 0 where the input dim is unknown. */
  shape: number[];
}

// ---------------------------------------------------------------- slice_axis

const sliceAxisParams = {
  axis: P.int.required("Axis to slice; negative counts from the end."),
  begin: P.int.required("First index (negative counts from the end)."),
  end: P.int.optional("One past the last index (negative counts from the end); None: the end of the axis."),
};

function sliceAxisBox(p: { axis: number; begin: number; end: number | null }, d: Shape): Box {
  const axis = axisOf(p.axis, d.length);
  const len = d[axis];
  const begin = d.map(() => 0);
  const shape = [...d];
  if (len > 0) {
    const b = p.begin < 0 ? p.begin + len : p.begin;
    const e = p.end === null ? len : p.end < 0 ? p.end + len : p.end;
    if (!(b >= 0 && b < e && e <= len))
      throw new ShapeError(`slice_axis: invalid begin=${p.begin}, end=${p.end ?? "None"} for axis ${axis} of size ${len} in ${show(d)}`);
    begin[axis] = b;
    shape[axis] = e - b;
  }
  return { begin, step: d.map(() => 1), shape };
}

export const sliceAxis = defineOp({
  name: "slice_axis",
  doc: "Takes indices [begin, end) along one axis.",
  params: sliceAxisParams,
  inputs: ["data"],
  ...singleOutput,
  pattern: "injective",
  inferShape: (ctx, p) => {
    const d = ctx.in(0);
    const o = ctx.out(0);
    const ndim = d?.length ?? o?.length;
    if (ndim === undefined) return;
    const axis = axisOf(p.axis, ndim);
    if (d) ctx.setOut(0, sliceAxisBox(p, d).shape);
    const out = ctx.out(0)!;
    ctx.setIn(0, out.map((x, i) => (i === axis ? 0 : x)));
  },
  gradient: (g) => [g.op1("_backward_slice_axis", [g.ograd(), g.input(0)], g.params)],
  compute: (ctx, p) => gatherCompute(ctx, sliceAxisBox(p, ctx.inputs[0].shape)),
  forward: (p, [x]) => {
    const box = sliceAxisBox(p, x.shape);
    return [gather(x, box.begin, box.step, box.shape)];
  },
});

export const backwardSliceAxis = defineOp({
  name: "_backward_slice_axis",
  doc: "The gradient of slice_axis: ograd placed in zeros of data's shape.",
  params: sliceAxisParams,
  inputs: ["ograd", "data"],
  ...singleOutput,
  pattern: "injective",
  inferShape: (ctx) => {
    ctx.setOut(0, ctx.in(1));
    ctx.setIn(1, ctx.out(0));
  },
  compute: (ctx, p) => placeCompute(ctx, sliceAxisBox(p, ctx.inputs[1].shape)),
  forward: (p, [og, x]) => {
    const box = sliceAxisBox(p, x.shape);
    return [scatter(og, box.begin, box.step, x.shape)];
  },
});

// ---------------------------------------------------------------- slice

const sliceParams = {
  begin: P.tupleOfOptional.required("Start index per axis (None: from the start, or the end for a negative step)."),
  end: P.tupleOfOptional.required("Stop index per axis, exclusive (None: to the end)."),
  step: P.tupleOfOptional([], "Step per axis (None or absent: 1); negative walks backwards."),
};

type SliceP = { begin: (number | null)[]; end: (number | null)[]; step: (number | null)[] };

function sliceBox(p: SliceP, d: Shape): Box {
  const nd = d.length;
  const where = `slice with begin=${fmt(p.begin)}, end=${fmt(p.end)}${p.step.length ? `, step=${fmt(p.step)}` : ""} on ${show(d)}`;
  if (p.begin.length > nd || p.end.length > nd) throw new ShapeError(`${where}: slicing axis exceeds data dimensions`);
  if (p.begin.length !== p.end.length) throw new ShapeError(`${where}: begin and end must have the same length`);
  if (p.step.length !== 0 && p.step.length !== p.begin.length) throw new ShapeError(`${where}: step and begin must have the same length`);
  const box: Box = { begin: d.map(() => 0), step: d.map(() => 1), shape: [...d] };
  for (let i = 0; i < p.begin.length; i++) {
    const s = p.step[i] ?? 1;
    if (s === 0) throw new ShapeError(`${where}: step[${i}] cannot be 0`);
    box.step[i] = s;
    const len = d[i];
    if (len === 0) continue; // unknown dim: unknown output dim
    let b = p.begin[i] ?? (s < 0 ? len - 1 : 0);
    let e = p.end[i] ?? (s < 0 ? -1 : len);
    if (b < 0) b += len;
    if (b < 0 || b >= len) throw new ShapeError(`${where}: begin[${i}]=${p.begin[i]} exceeds the limit of input dimension ${i} (${len})`);
    if (e < 0 && p.end[i] !== null) {
      e += len;
      if (e < 0) throw new ShapeError(`${where}: end[${i}]=${p.end[i]} exceeds the limit of input dimension ${i} (${len})`);
    }
    if (e > len) throw new ShapeError(`${where}: end[${i}]=${p.end[i]} exceeds the limit of input dimension ${i} (${len})`);
    if (b === e) throw new ShapeError(`${where}: begin[${i}]=end[${i}]=${e} gives an empty array, which is not supported`);
    if (s > 0 ? b > e : e > b) throw new ShapeError(`${where}: begin[${i}]=${b}, end[${i}]=${e} and step[${i}]=${s} select nothing`);
    box.begin[i] = b;
    box.shape[i] = Math.floor((Math.abs(e - b) - 1) / Math.abs(s)) + 1;
  }
  return box;
}

const fmt = (t: (number | null)[]): string => `(${t.map((x) => (x === null ? "None" : x)).join(",")})`;

export const slice = defineOp({
  name: "slice",
  aliases: ["crop", "_sparse_slice"],
  doc: "Takes a strided box: begin/end/step per leading axis, None for defaults, negative indices from the end.",
  params: sliceParams,
  inputs: ["data"],
  ...singleOutput,
  pattern: "injective",
  inferShape: (ctx, p) => {
    const d = ctx.in(0);
    if (d === undefined) return;
    ctx.setOut(0, sliceBox(p, d).shape);
    const o = ctx.out(0)!;
    // Axes past the sliced ones pass through unchanged.
    ctx.setIn(0, d.map((x, i) => (i < p.begin.length ? x : o[i])));
  },
  gradient: (g) => [g.op1("_backward_slice", [g.ograd(), g.input(0)], g.params)],
  compute: (ctx, p) => gatherCompute(ctx, sliceBox(p, ctx.inputs[0].shape)),
  forward: (p, [x]) => {
    const box = sliceBox(p, x.shape);
    return [gather(x, box.begin, box.step, box.shape)];
  },
});

export const backwardSlice = defineOp({
  name: "_backward_slice",
  doc: "The gradient of slice: ograd placed in zeros of data's shape.",
  params: sliceParams,
  inputs: ["ograd", "data"],
  ...singleOutput,
  pattern: "injective",
  inferShape: (ctx) => {
    ctx.setOut(0, ctx.in(1));
    ctx.setIn(1, ctx.out(0));
  },
  compute: (ctx, p) => placeCompute(ctx, sliceBox(p, ctx.inputs[1].shape)),
  forward: (p, [og, x]) => {
    const box = sliceBox(p, x.shape);
    return [scatter(og, box.begin, box.step, x.shape)];
  },
});
