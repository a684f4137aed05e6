/** The adjoint of broadcasting, used by every broadcasting op's gradient. */
import { defineOp, singleOutput } from "../registry.js";
import { sumToShape } from "../tensor.js";
import { sameShape } from "../rules.js";

export const backwardBroadcastReduce = defineOp({
  name: "_backward_broadcast_reduce",
  doc: "Sums ograd (of a broadcast shape) over the broadcast dims down to the shape of `like`.",
  params: {},
  inputs: ["ograd", "like"],
  ...singleOutput,
  pattern: "reduce",
  inferShape: (ctx) => sameShape(ctx, [1], [0]),
  inferType: (ctx) => ctx.sameType([1], [0]),
  forward: (_p, [og, like]) => [sumToShape(og, like.shape)],
});
