/** Convolution → Conv (MXNet's weight layout (O, I/group, k…) is ONNX's; pads symmetric). */
import { attr } from "../writer.js";
import { defineEmitters, tuple } from "../emitter.js";

defineEmitters({
  Convolution: (ctx) => {
    const layout = ctx.params.layout as string | null;
    if (layout && !/^NC[DHW]*$/.test(layout)) ctx.unsupported(`layout ${layout} (ONNX Conv is channels-first)`);
    const kernel = ctx.params.kernel as number[];
    const n = kernel.length;
    const pad = tuple(ctx, "pad", n, 0);
    const inputs = [ctx.input(0), ctx.input(1)];
    if (!ctx.params.no_bias) inputs.push(ctx.input(2));
    ctx.add("Conv", inputs, [ctx.output()], {
      kernel_shape: attr.ints(kernel),
      strides: attr.ints(tuple(ctx, "stride", n, 1)),
      dilations: attr.ints(tuple(ctx, "dilate", n, 1)),
      pads: attr.ints([...pad, ...pad]),
      group: attr.int((ctx.params.num_group as number | null) ?? 1),
    });
  },
});
