/**
 * Pooling → MaxPool / AveragePool / GlobalAveragePool / GlobalMaxPool. MXNet's 'valid'
 * convention is ONNX's floor (ceil_mode 0) and 'full' its ceil_mode 1, except where ONNX
 * drops a last window that would start in the end padding, or where an average's last window
 * runs past the padding (MXNet and ONNX count that window differently): those are unsupported,
 * as are 'same', sum and lp pooling. An average counts the padding unless count_include_pad
 * is false (MXNet's default is true, ONNX's 0: always written).
 */
import { attr } from "../writer.js";
import { defineEmitters, tuple } from "../emitter.js";

defineEmitters({
  Pooling: (ctx) => {
    const type = ctx.params.pool_type as string;
    const layout = ctx.params.layout as string | null;
    if (layout && !/^NC[DHW]*$/.test(layout)) ctx.unsupported(`layout ${layout}`);
    if (type !== "max" && type !== "avg") ctx.unsupported(`pool_type ${type}`);
    if (ctx.params.global_pool) {
      ctx.add(type === "max" ? "GlobalMaxPool" : "GlobalAveragePool", [ctx.input(0)], [ctx.output()]);
      return;
    }
    const kernel = ctx.params.kernel as number[];
    const n = kernel.length;
    const stride = tuple(ctx, "stride", n, 1);
    const pad = tuple(ctx, "pad", n, 0);
    const conv = ctx.params.pooling_convention as string;
    if (conv !== "valid" && conv !== "full") ctx.unsupported(`pooling_convention ${conv}`);
    const xs = ctx.inShape(0).slice(2);
    const ys = ctx.outShape().slice(2);
    let ceil = false;
    for (let d = 0; d < n; d++) {
      const floorOut = Math.floor((xs[d] + 2 * pad[d] - kernel[d]) / stride[d]) + 1;
      if (ys[d] === floorOut) continue;
      ceil = true;
      if ((ys[d] - 1) * stride[d] >= xs[d] + pad[d]) ctx.unsupported(`'full' convention with a last window starting in the padding (dim ${d})`);
      if (type === "avg") ctx.unsupported(`'full' convention average whose last window runs past the padding (dim ${d})`);
    }
    const attrs = {
      kernel_shape: attr.ints(kernel),
      strides: attr.ints(stride),
      pads: attr.ints([...pad, ...pad]),
      ceil_mode: ceil ? attr.int(1) : undefined,
      count_include_pad: type === "avg" ? attr.int(ctx.params.count_include_pad === false ? 0 : 1) : undefined,
    };
    ctx.add(type === "max" ? "MaxPool" : "AveragePool", [ctx.input(0)], [ctx.output()], attrs);
  },
});
