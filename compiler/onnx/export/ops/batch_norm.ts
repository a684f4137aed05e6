/**
 * BatchNorm (inference: the moving mean and variance) → BatchNormalization. fix_gamma=True
 * means a scale of 1 whatever gamma holds: the scale becomes a constant of ones and gamma is
 * not written. Only the channel axis 1 is ONNX's.
 */
import { attr } from "../writer.js";
import { defineEmitters } from "../emitter.js";

defineEmitters({
  BatchNorm: (ctx) => {
    const axis = ctx.params.axis as number;
    const rank = ctx.inShape(0).length;
    if (axis !== 1 && axis !== 1 - rank) ctx.unsupported(`axis ${axis} (ONNX normalizes axis 1)`);
    if (rank < 2) ctx.unsupported(`input of rank ${rank}`);
    const c = ctx.inShape(0)[1];
    const scale = ctx.params.fix_gamma ? ctx.constant("gamma_fixed", [c], new Float32Array(c).fill(1)) : ctx.input(1);
    ctx.add("BatchNormalization", [ctx.input(0), scale, ctx.input(2), ctx.input(3), ctx.input(4)], [ctx.output()], {
      epsilon: attr.float(ctx.params.eps as number),
      momentum: attr.float(ctx.params.momentum as number),
    });
  },
});
