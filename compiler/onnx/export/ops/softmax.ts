/**
 * softmax / log_softmax (one axis, opset 13's Softmax; a temperature divides first) and
 * SoftmaxOutput at inference: its softmax, the label dropped. SoftmaxOutput normalizes the
 * last axis of a 2-D input, axis 1 with multi_output, the last axis with preserve_shape, and
 * otherwise everything but the batch axis (Flatten, Softmax, Reshape back).
 */
import { attr } from "../writer.js";
import { defineEmitters, EmitCtx } from "../emitter.js";

function onAxis(ctx: EmitCtx, opType: string): void {
  if (ctx.params.use_length) ctx.unsupported("use_length");
  let x = ctx.input(0);
  const t = ctx.params.temperature as number | null;
  if (t !== null && t !== undefined && t !== 1) {
    const scaled = ctx.temp("scaled");
    ctx.add("Div", [x, ctx.constant("temperature", [], [t])], [scaled]);
    x = scaled;
  }
  ctx.add(opType, [x], [ctx.output()], { axis: attr.int(ctx.params.axis as number) });
}

defineEmitters({
  softmax: (ctx) => onAxis(ctx, "Softmax"),
  log_softmax: (ctx) => onAxis(ctx, "LogSoftmax"),
  SoftmaxOutput: (ctx) => {
    const s = ctx.inShape(0);
    if (s.length <= 2 || ctx.params.preserve_shape) return ctx.add("Softmax", [ctx.input(0)], [ctx.output()], { axis: attr.int(-1) });
    if (ctx.params.multi_output) return ctx.add("Softmax", [ctx.input(0)], [ctx.output()], { axis: attr.int(1) });
    const flat = ctx.temp("flatten");
    const soft = ctx.temp("softmax");
    ctx.add("Flatten", [ctx.input(0)], [flat], { axis: attr.int(1) });
    ctx.add("Softmax", [flat], [soft], { axis: attr.int(1) });
    ctx.add("Reshape", [soft, ctx.constant("shape", [s.length], s, "int64")], [ctx.output()]);
  },
});
