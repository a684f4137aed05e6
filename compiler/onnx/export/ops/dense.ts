/**
 * FullyConnected. MXNet's flatten=True takes the input as (N, everything else): ONNX
 * Flatten(axis=1), then Gemm with transB=1 (the weight is (num_hidden, K) in both). With
 * flatten=False the layer applies to the last axis: a 2-D input is the same Gemm, a higher
 * one MatMul with the transposed weight, then Add of the bias.
 */
import { attr } from "../writer.js";
import { defineEmitters } from "../emitter.js";

defineEmitters({
  FullyConnected: (ctx) => {
    const rank = ctx.inShape(0).length;
    const bias = ctx.params.no_bias ? [] : [ctx.input(2)];
    let x = ctx.input(0);
    if (rank === 2 || ctx.params.flatten !== false) {
      if (rank !== 2) {
        const flat = ctx.temp("flatten");
        ctx.add("Flatten", [x], [flat], { axis: attr.int(1) });
        x = flat;
      }
      ctx.add("Gemm", [x, ctx.input(1), ...bias], [ctx.output()], { transB: attr.int(1) });
      return;
    }
    const wt = ctx.temp("weight_T");
    ctx.add("Transpose", [ctx.input(1)], [wt], { perm: attr.ints([1, 0]) });
    if (!bias.length) {
      ctx.add("MatMul", [x, wt], [ctx.output()]);
      return;
    }
    const mm = ctx.temp("matmul");
    ctx.add("MatMul", [x, wt], [mm]);
    ctx.add("Add", [mm, bias[0]], [ctx.output()]);
  },
});
