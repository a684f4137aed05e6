/** Addition: elemwise_add / broadcast_add → Add (numpy broadcasting in both), add_n → Sum. */
import { defineEmitters } from "../emitter.js";

defineEmitters({
  elemwise_add: (ctx) => ctx.add("Add", [ctx.input(0), ctx.input(1)], [ctx.output()]),
  broadcast_add: (ctx) => ctx.add("Add", [ctx.input(0), ctx.input(1)], [ctx.output()]),
  add_n: (ctx) => ctx.add("Sum", ctx.node.inputs.map((_, i) => ctx.input(i)), [ctx.output()]),
});
