/** Explicit broadcasting: broadcast_to, broadcast_axis (broadcast_axes), broadcast_like. */
import { defineOp, singleOutput, ShapeCtx } from "../registry.js";
import { P } from "../params.js";
import { broadcastTo } from "../tensor.js";
import { Shape, shapeToBracket } from "../../base/shape.js";
import { ShapeError } from "../../base/errors.js";
import { reduceTo } from "./rules.js";
import { broadcastIndex } from "./indexing.js";
import type { ComputeCtx, StageBody } from "../../te/stage.js";

/** Input 0 (of the output's rank) read at the output index, its dims of size 1 at 0. */
const broadcastCompute = (ctx: ComputeCtx): StageBody[] => {
  const x = ctx.inputs[0];
  if (x.shape.length !== ctx.outputs[0].shape.length)
    throw new ShapeError(`cannot broadcast ${shapeToBracket(x.shape)} to ${shapeToBracket(ctx.outputs[0].shape)}: ranks differ`);
  return [{ kind: "map", value: x.at(broadcastIndex(ctx.index(), x.shape)) }];
};

/** An input dim `d` broadcast to `o` (both maybe unknown): d must be o or 1. */
function checkDim(d: number, o: number, from: Shape, to: Shape): void {
  if (d > 0 && o > 0 && d !== o && d !== 1) throw new ShapeError(`Array cannot be broadcasted from ${shapeToBracket(from)} to ${shapeToBracket(to)}`);
}

export const broadcastToOp = defineOp({
  name: "broadcast_to",
  doc: "Broadcasts dims of size 1 to `shape`; a 0 in `shape` keeps the input's dim.",
  params: { shape: P.tuple([], "The shape of the desired array; 0 keeps the input's dim") },
  inputs: ["data"],
  ...singleOutput,
  pattern: "broadcast",
  inferShape: (ctx, p) => {
    const x = ctx.in(0);
    if (x !== undefined && x.length !== p.shape.length)
      throw new ShapeError(`Operand of shape ${shapeToBracket(x)} cannot be broadcasted to ${shapeToBracket(p.shape)}`);
    if (p.shape.length === 0) return;
    // Dims given in `shape` are known even before the input is.
    ctx.setOut(0, p.shape.map((d, i) => (d !== 0 ? d : (x?.[i] ?? 0))));
    const out = ctx.out(0)!;
    if (x !== undefined) x.forEach((d, i) => checkDim(d, out[i], x, p.shape));
    // Where `shape` keeps the dim, the input has the output's size.
    ctx.setIn(0, p.shape.map((d, i) => (d === 0 ? out[i] : (x?.[i] ?? 0))));
  },
  gradient: (g) => [reduceTo(g, g.ograd(), g.input(0))],
  compute: broadcastCompute,
  forward: (p, [x], ctx) => [broadcastTo(x, outShapeOf(p.shape, x.shape, ctx.nodeName))],
});

function outShapeOf(shape: readonly number[], x: readonly number[], where: string): number[] {
  if (shape.length !== x.length) throw new ShapeError(`${where}: cannot broadcast ${shapeToBracket(x)} to ${shapeToBracket(shape)}`);
  return shape.map((d, i) => (d === 0 ? x[i] : d));
}

function axesOf(axis: readonly number[], ndim: number, what: string): number[] {
  return axis.map((a) => {
    const n = a < 0 ? a + ndim : a;
    if (n < 0 || n >= ndim) throw new ShapeError(`${what} ${a} is out of range for ${ndim} dimensions`);
    return n;
  });
}

export const broadcastAxis = defineOp({
  name: "broadcast_axis",
  aliases: ["broadcast_axes"],
  doc: "Broadcasts the dims listed in `axis` (each of size 1) to the sizes in `size`.",
  params: {
    axis: P.tuple([], "The axes to perform the broadcasting"),
    size: P.tuple([], "Target sizes of the broadcasting axes"),
  },
  inputs: ["data"],
  ...singleOutput,
  pattern: "broadcast",
  inferShape: (ctx: ShapeCtx, p) => {
    if (p.axis.length !== p.size.length)
      throw new ShapeError(`axis ${shapeToBracket(p.axis)} and size ${shapeToBracket(p.size)} must have the same length`);
    const ndim = (ctx.in(0) ?? ctx.out(0))?.length;
    if (ndim === undefined) return;
    const axes = axesOf(p.axis, ndim, "broadcast axis");
    const x = ctx.in(0) ?? new Array<number>(ndim).fill(0);
    axes.forEach((a) => {
      if (x[a] > 1) throw new ShapeError(`Broadcasting axis must have size 1, got input ${shapeToBracket(x)} at axis ${a}`);
    });
    const out = ctx.out(0) ?? new Array<number>(ndim).fill(0);
    ctx.setIn(0, out.map((d, i) => (axes.includes(i) ? 1 : d)));
    ctx.setOut(
      0,
      ctx.in(0)!.map((d, i) => (axes.includes(i) ? p.size[axes.indexOf(i)] : d)),
    );
  },
  gradient: (g) => [reduceTo(g, g.ograd(), g.input(0))],
  compute: broadcastCompute,
  forward: (p, [x]) => {
    const axes = axesOf(p.axis, x.ndim, "broadcast axis");
    return [broadcastTo(x, x.shape.map((d, i) => (axes.includes(i) ? p.size[axes.indexOf(i)] : d)))];
  },
});

/** The output shape of broadcast_like, or undefined while ranks are unknown. */
function likeShape(lhs: Shape, rhs: Shape, lhsAxes: number[] | null, rhsAxes: number[] | null): number[] {
  if (lhsAxes === null || rhsAxes === null) {
    if (lhs.length !== rhs.length) throw new ShapeError(`Operand of shape ${shapeToBracket(lhs)} cannot be broadcasted to ${shapeToBracket(rhs)}`);
    lhs.forEach((d, i) => checkDim(d, rhs[i], lhs, rhs));
    return rhs.map((d, i) => (d === 0 ? (lhs[i] === 1 ? 0 : lhs[i]) : d));
  }
  if (lhsAxes.length !== rhsAxes.length) throw new ShapeError(`lhs_axes ${shapeToBracket(lhsAxes)} and rhs_axes ${shapeToBracket(rhsAxes)} must have the same length`);
  if (lhsAxes.length === 0) throw new ShapeError("Empty axes tuple is not allowed");
  const from = axesOf(lhsAxes, lhs.length, "lhs_axes entry");
  const to = axesOf(rhsAxes, rhs.length, "rhs_axes entry");
  const out = [...lhs];
  from.forEach((a, i) => {
    if (lhs[a] > 1) throw new ShapeError(`Input axis ${lhsAxes[i]} of ${shapeToBracket(lhs)} has size ${lhs[a]}, cannot be broadcasted`);
    out[a] = rhs[to[i]];
  });
  return out;
}

export const broadcastLike = defineOp({
  name: "broadcast_like",
  doc: "Broadcasts lhs to the shape of rhs (or only lhs_axes to the sizes of rhs_axes); rhs gets no gradient.",
  params: {
    lhs_axes: P.tuple.optional("Axes to perform broadcast on in the first input array"),
    rhs_axes: P.tuple.optional("Axes to copy from the second input array"),
  },
  inputs: ["lhs", "rhs"],
  ...singleOutput,
  pattern: "broadcast",
  inferShape: (ctx, p) => {
    const [lhs, rhs] = [ctx.in(0), ctx.in(1)];
    if (lhs === undefined || rhs === undefined) return;
    ctx.setOut(0, likeShape(lhs, rhs, p.lhs_axes, p.rhs_axes));
  },
  gradient: (g) => [reduceTo(g, g.ograd(), g.input(0)), null],
  compute: broadcastCompute,
  forward: (p, [lhs, rhs]) => [broadcastTo(lhs, likeShape(lhs.shape, rhs.shape, p.lhs_axes, p.rhs_axes))],
});
