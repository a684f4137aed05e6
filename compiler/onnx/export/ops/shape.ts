/**
 * Flatten → Flatten(axis=1) (both keep the first axis and collapse the rest); Reshape →
 * Reshape to the inferred output shape (shapes are static, so MXNet's special values 0, -1,
 * -2, -3, -4 and reverse are already resolved).
 */
import { attr } from "../writer.js";
import { defineEmitters } from "../emitter.js";

defineEmitters({
  Flatten: (ctx) => ctx.add("Flatten", [ctx.input(0)], [ctx.output()], { axis: attr.int(1) }),
  Reshape: (ctx) => {
    const shape = ctx.outShape();
    ctx.add("Reshape", [ctx.input(0), ctx.constant("shape", [shape.length], shape, "int64")], [ctx.output()]);
  },
});
