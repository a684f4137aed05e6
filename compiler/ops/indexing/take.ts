/** Gathers by integer index: take, pick, Embedding, and their scatter-add gradients. */
import { defineOp, singleOutput, ShapeCtx } from "../registry.js";
import { P } from "../params.js";
import { Tensor } from "../tensor.js";
import { Shape } from "../../base/shape.js";
import { ShapeError } from "../../base/errors.js";
import { aroundAxis, axisOf, fixIndex, show, toIndex } from "../shape/util.js";
import { cmp, indexFromValue } from "../shape/index_expr.js";
import { Expr, int, select, v } from "../../te/expr.js";
import type { ComputeCtx, StageBody } from "../../te/stage.js";

// ---------------------------------------------------------------- take

const takeParams = {
  axis: P.int(0, "The axis of `a` to index (negative counts from the end)."),
  mode: P.enum(["clip", "wrap", "raise"] as const, "clip", "Out-of-range indices: clip to the ends, wrap around, or raise an error."),
};

function takeShape(ctx: ShapeCtx, axisParam: number): void {
  const a = ctx.in(0);
  const idx = ctx.in(1);
  if (a && a.length === 0) throw new ShapeError(`take needs an input a of at least 1 dim, got ${show(a)}`);
  if (a && idx) {
    const axis = axisOf(axisParam, a.length);
    ctx.setOut(0, [...a.slice(0, axis), ...idx, ...a.slice(axis + 1)]);
  }
  const o = ctx.out(0);
  if (!o) return;
  if (a) {
    const axis = axisOf(axisParam, a.length);
    const r = o.length - a.length + 1;
    if (r < 0) throw new ShapeError(`the output ${show(o)} has fewer dims than a ${show(a)} less one`);
    ctx.setIn(1, o.slice(axis, axis + r));
    ctx.setIn(0, [...o.slice(0, axis), a[axis], ...o.slice(axis + r)]);
  } else if (idx) {
    const rank = o.length - idx.length + 1;
    if (rank < 1) throw new ShapeError(`the output ${show(o)} has fewer dims than indices ${show(idx)}`);
    const axis = axisOf(axisParam, rank);
    ctx.setIn(0, [...o.slice(0, axis), 0, ...o.slice(axis + idx.length)]);
  }
}

/**
 * take's index map: output (or ograd) position `o` = (before, idx position, after) reads `a` at
 * (before, indices[idx position] made safe, after).
 */
function takeSource(ctx: ComputeCtx, p: { axis: number; mode: "clip" | "wrap" | "raise" }, o: readonly Expr[], aSlot: number, idxSlot: number): Expr[] {
  const a = ctx.inputs[aSlot];
  const indices = ctx.inputs[idxSlot];
  const axis = axisOf(p.axis, a.shape.length);
  const r = indices.shape.length;
  const j = indexFromValue(indices.at(o.slice(axis, axis + r)), a.shape[axis], p.mode);
  return [...o.slice(0, axis), j, ...o.slice(axis + r)];
}

export const take = defineOp({
  name: "take",
  doc: "Takes slices of `a` along `axis` at the given indices: out shape a[:axis] + indices + a[axis+1:].",
  params: takeParams,
  inputs: ["a", "indices"],
  ...singleOutput,
  pattern: "injective",
  inferShape: (ctx, p) => takeShape(ctx, p.axis),
  inferType: (ctx) => ctx.sameType([0], [0]),
  gradient: (g) => [g.op1("_backward_take", [g.ograd(), g.input(0), g.input(1)], g.params), null],
  compute: (ctx, p) => [{ kind: "map", value: ctx.inputs[0].at(takeSource(ctx, p, ctx.index(), 0, 1)) }],
  forward: (p, [a, idx], ctx) => {
    const axis = axisOf(p.axis, a.ndim);
    const [outer, n, inner] = aroundAxis(a.shape, axis);
    const m = idx.size;
    const out = new Tensor([...a.shape.slice(0, axis), ...idx.shape, ...a.shape.slice(axis + 1)]);
    for (let i = 0; i < m; i++) {
      const j = fixIndex(toIndex(idx.data[i]), n, p.mode, ctx.nodeName);
      for (let o = 0; o < outer; o++)
        for (let k = 0; k < inner; k++) out.data[(o * m + i) * inner + k] = a.data[(o * n + j) * inner + k];
    }
    return [out];
  },
});

export const backwardTake = defineOp({
  name: "_backward_take",
  doc: "The gradient of take with respect to `a`: ograd scatter-added at the indices.",
  params: takeParams,
  inputs: ["ograd", "a", "indices"],
  ...singleOutput,
  pattern: "opaque",
  inferShape: (ctx) => {
    ctx.setOut(0, ctx.in(1));
    ctx.setIn(1, ctx.out(0));
  },
  inferType: (ctx) => ctx.sameType([0, 1], [0]),
  // Repeated indices add up: a scatter over ograd's positions into zeros of a's shape.
  compute: (ctx, p) => {
    const og = ctx.inputs[0];
    const axes = ctx.axes(...og.shape);
    const r = axes.map((x) => v(x.name));
    return [{ kind: "scatter", axes, index: takeSource(ctx, p, r, 1, 2), value: og.at(r) }];
  },
  forward: (p, [og, a, idx], ctx) => {
    const axis = axisOf(p.axis, a.ndim);
    const [outer, n, inner] = aroundAxis(a.shape, axis);
    const m = idx.size;
    const out = new Tensor(a.shape);
    for (let i = 0; i < m; i++) {
      const j = fixIndex(toIndex(idx.data[i]), n, p.mode, ctx.nodeName);
      for (let o = 0; o < outer; o++)
        for (let k = 0; k < inner; k++) out.data[(o * n + j) * inner + k] += og.data[(o * m + i) * inner + k];
    }
    return [out];
  },
});

// ---------------------------------------------------------------- pick

const pickParams = {
  axis: { ...P.int.optional("The axis to pick along (negative counts from the end); None is not supported, as in MXNet."), default: -1 },
  keepdims: P.bool(false, "Keep the picked axis as a dim of size 1."),
  mode: P.enum(["wrap", "clip"] as const, "clip", "Out-of-range indices: clip to the ends or wrap around."),
};

function pickAxis(axis: number | null, ndim: number): number {
  if (axis === null) throw new ShapeError("axis=None is not supported by pick; give an axis");
  return axisOf(axis, ndim);
}

/**
 * pick's picked position along `axis` for the output position `o` (shaped like the index
 * input `idxSlot`), and the data position it reads, for data of shape `shape`.
 */
function pickSource(
  ctx: ComputeCtx,
  p: { axis: number | null; keepdims: boolean; mode: "clip" | "wrap" },
  o: readonly Expr[],
  shape: readonly number[],
  idxSlot: number,
): { j: Expr; at: Expr[] } {
  const axis = pickAxis(p.axis, shape.length);
  const j = indexFromValue(ctx.inputs[idxSlot].at(o), shape[axis], p.mode);
  return { j, at: p.keepdims ? o.map((x, d) => (d === axis ? j : x)) : [...o.slice(0, axis), j, ...o.slice(axis)] };
}

export const pick = defineOp({
  name: "pick",
  doc: "Picks one element along `axis` per position, at the index given by `index` (shaped like the output).",
  params: pickParams,
  inputs: ["data", "index"],
  ...singleOutput,
  pattern: "injective",
  inferShape: (ctx, p) => {
    const d = ctx.in(0);
    ctx.setOut(0, ctx.in(1));
    ctx.setIn(1, ctx.out(0));
    const o = ctx.out(0);
    const ndim = d?.length ?? (o ? o.length + (p.keepdims ? 0 : 1) : undefined);
    if (ndim === undefined) return;
    const axis = pickAxis(p.axis, ndim);
    if (d) ctx.setOut(0, p.keepdims ? d.map((x, i) => (i === axis ? 1 : x)) : d.filter((_, i) => i !== axis));
    const out = ctx.out(0)!;
    ctx.setIn(1, out);
    const len = d?.[axis] ?? 0;
    ctx.setIn(0, p.keepdims ? out.map((x, i) => (i === axis ? len : x)) : [...out.slice(0, axis), len, ...out.slice(axis)]);
  },
  inferType: (ctx) => ctx.sameType([0], [0]),
  gradient: (g) => [g.op1("_backward_pick", [g.ograd(), g.input(0), g.input(1)], g.params), null],
  compute: (ctx, p) => [{ kind: "map", value: ctx.inputs[0].at(pickSource(ctx, p, ctx.index(), ctx.inputs[0].shape, 1).at) }],
  forward: (p, [x, idx], ctx) => {
    const axis = pickAxis(p.axis, x.ndim);
    const [outer, n, inner] = aroundAxis(x.shape, axis);
    const out = new Tensor(p.keepdims ? x.shape.map((d, i) => (i === axis ? 1 : d)) : x.shape.filter((_, i) => i !== axis));
    for (let o = 0; o < outer; o++)
      for (let k = 0; k < inner; k++) {
        const j = fixIndex(toIndex(idx.data[o * inner + k]), n, p.mode, ctx.nodeName);
        out.data[o * inner + k] = x.data[(o * n + j) * inner + k];
      }
    return [out];
  },
});

export const backwardPick = defineOp({
  name: "_backward_pick",
  doc: "The gradient of pick with respect to data: ograd placed at the picked positions.",
  params: pickParams,
  inputs: ["ograd", "data", "index"],
  ...singleOutput,
  pattern: "injective",
  inferShape: (ctx) => {
    ctx.setOut(0, ctx.in(1));
    ctx.setIn(1, ctx.out(0));
  },
  inferType: (ctx) => ctx.sameType([0, 1], [0]),
  // Each data position takes ograd where it is the picked one along the axis: a map, no scatter.
  compute: (ctx, p) => {
    const shape = ctx.outputs[0].shape;
    const axis = pickAxis(p.axis, shape.length);
    const i = ctx.index();
    const o = p.keepdims ? i.map((x, d) => (d === axis ? int(0) : x)) : [...i.slice(0, axis), ...i.slice(axis + 1)];
    const { j } = pickSource(ctx, p, o, shape, 2);
    return [{ kind: "map", value: select(cmp.eq(i[axis], j), ctx.inputs[0].at(o), 0) }];
  },
  forward: (p, [og, x, idx], ctx) => {
    const axis = pickAxis(p.axis, x.ndim);
    const [outer, n, inner] = aroundAxis(x.shape, axis);
    const out = new Tensor(x.shape);
    for (let o = 0; o < outer; o++)
      for (let k = 0; k < inner; k++) {
        const j = fixIndex(toIndex(idx.data[o * inner + k]), n, p.mode, ctx.nodeName);
        out.data[(o * n + j) * inner + k] += og.data[o * inner + k];
      }
    return [out];
  },
});

// ---------------------------------------------------------------- Embedding

const embeddingParams = {
  input_dim: P.int.required("Vocabulary size: rows of the weight."),
  output_dim: P.int.required("Embedding size: columns of the weight."),
  dtype: P.dtype("float32", "Type of the weight and output when nothing else decides it."),
  sparse_grad: P.bool(false, "Row-sparse weight gradient in MXNet; Kiln computes it dense."),
};

export const Embedding = defineOp({
  name: "Embedding",
  doc: "Looks up rows of weight (input_dim, output_dim) at the indices in data (clipped to the table).",
  params: embeddingParams,
  inputs: ["data", "weight"],
  ...singleOutput,
  pattern: "injective",
  inferShape: (ctx, p) => {
    if (p.input_dim < 1 || p.output_dim < 1)
      throw new ShapeError(`Embedding needs input_dim and output_dim >= 1, got ${p.input_dim}, ${p.output_dim}`);
    ctx.setIn(1, [p.input_dim, p.output_dim]);
    const d = ctx.in(0);
    const o = ctx.out(0);
    const lead: Shape | undefined = d ?? o?.slice(0, -1);
    if (lead) ctx.setOut(0, [...lead, p.output_dim]);
    const out = ctx.out(0);
    if (out) ctx.setIn(0, out.slice(0, -1));
  },
  inferType: (ctx, p) => {
    // As MXNet: weight and output share a type; the dtype param decides only when neither is known.
    if (ctx.in(1) === undefined && ctx.out(0) === undefined) {
      ctx.setIn(1, p.dtype);
      ctx.setOut(0, p.dtype);
    } else ctx.sameType([1], [0]);
  },
  gradient: (g) => [null, g.op1("_backward_Embedding", [g.ograd(), g.input(0)], g.params)],
  // take on axis 0 of the weight, clipped.
  compute: (ctx, p) => {
    const i = ctx.index();
    const row = indexFromValue(ctx.inputs[0].at(i.slice(0, -1)), p.input_dim, "clip");
    return [{ kind: "map", value: ctx.inputs[1].at([row, i[i.length - 1]]) }];
  },
  forward: (p, [idx, w]) => {
    const n = p.output_dim;
    const out = new Tensor([...idx.shape, n]);
    for (let i = 0; i < idx.size; i++) {
      const j = fixIndex(toIndex(idx.data[i]), p.input_dim, "clip", "");
      out.data.set(w.data.subarray(j * n, (j + 1) * n), i * n);
    }
    return [out];
  },
});

export const backwardEmbedding = defineOp({
  name: "_backward_Embedding",
  doc: "The gradient of Embedding with respect to weight: rows of ograd summed into the looked-up rows.",
  params: embeddingParams,
  inputs: ["ograd", "data"],
  ...singleOutput,
  pattern: "opaque",
  inferShape: (ctx, p) => ctx.setOut(0, [p.input_dim, p.output_dim]),
  inferType: (ctx) => ctx.sameType([0], [0]),
  compute: (ctx, p) => {
    const og = ctx.inputs[0];
    const axes = ctx.axes(...og.shape);
    const r = axes.map((x) => v(x.name));
    const row = indexFromValue(ctx.inputs[1].at(r.slice(0, -1)), p.input_dim, "clip");
    return [{ kind: "scatter", axes, index: [row, r[r.length - 1]], value: og.at(r) }];
  },
  forward: (p, [og, idx]) => {
    const n = p.output_dim;
    const out = new Tensor([p.input_dim, n]);
    for (let i = 0; i < idx.size; i++) {
      const j = fixIndex(toIndex(idx.data[i]), p.input_dim, "clip", "");
      for (let k = 0; k < n; k++) out.data[j * n + k] += og.data[i * n + k];
    }
    return [out];
  },
});
