/** The adjoint of broadcasting, used by every broadcasting op's gradient. */
import { defineOp, singleOutput } from "../registry.js";
import { sumToShape } from "../tensor.js";
import { sameShape } from "../rules.js";
import { Expr, v } from "../../te/expr.js";
import { broadcastReducedDims } from "./indexing.js";

export const backwardBroadcastReduce = defineOp({
  name: "_backward_broadcast_reduce",
  doc: "Sums ograd (of a broadcast shape) over the broadcast dims down to the shape of `like`.",
  params: {},
  inputs: ["ograd", "like"],
  ...singleOutput,
  pattern: "reduce",
  inferShape: (ctx) => sameShape(ctx, [1], [0]),
  inferType: (ctx) => ctx.sameType([1], [0]),
  // A sum over the reduced dims of ograd; the output keeps `like`'s rank, and ograd's other
  // dims are read at the output index (dims of 1 on both sides at 0).
  compute: (ctx) => {
    const og = ctx.inputs[0];
    const out = ctx.outputs[0].shape;
    const reduced = broadcastReducedDims(og.shape, out);
    const axes = ctx.axes(...og.shape.filter((_, d) => reduced[d]));
    const i = ctx.index();
    const lead = og.shape.length - out.length;
    let next = 0;
    const index: Expr[] = og.shape.map((_, d) => (reduced[d] ? v(axes[next++].name) : i[d - lead]));
    return [{ kind: "reduce", op: "sum", axes, value: og.at(index) }];
  },
  // Nothing broadcast (the common case of equal shapes): a copy, which fuses as elementwise.
  decompose: (d) => {
    const from = d.inputShape(0);
    const to = d.outputShape(0);
    if (from.length !== to.length || from.some((n, k) => n !== to[k]) || d.inputType(0) !== d.outputType(0)) return undefined;
    return [d.op1("_copy", [d.input(0)])];
  },
  forward: (_p, [og, like]) => [sumToShape(og, like.shape)],
});
