/**
 * Pooling: MaxPool, AveragePool, LpPool map to Kiln's Pooling; ceil_mode is its 'full'
 * convention, trimmed where ONNX drops a last window that would start in the end padding.
 * AveragePool's count_include_pad defaults to 0 in ONNX (MXNet: true) and is passed
 * explicitly. Asymmetric padding pads the input first (with the lowest value for max);
 * an average over asymmetric padding without the pads is sum(x) / sum(ones) over the same
 * windows. Global pools are reductions over the spatial axes.
 */
import { Symbol } from "../../symbol/symbol.js";
import type { NodeCtx } from "../node_ctx.js";
import { defineMappings, Mapper } from "./registry.js";
import { padSymbol } from "./slicing.js";
import { windowOf } from "./conv.js";

const LOWEST: Record<string, number> = { uint8: 0, int8: -128, int32: -(2 ** 31), int64: -(2 ** 53) };

function pooling(kind: "max" | "avg" | "lp"): Mapper {
  return (n) => {
    const xs = n.fullShape(0);
    const kernel = n.ints("kernel_shape") ?? n.fail("has no kernel_shape");
    const nsp = kernel.length;
    if (xs.length !== nsp + 2) n.fail(`input of rank ${xs.length} for a ${nsp}-D kernel`);
    const w = windowOf(n, xs.slice(2), kernel);
    if (w.dilations.some((d) => d !== 1)) n.unsupported("dilations (Kiln's Pooling has none)");
    if (n.int("storage_order", 0) !== 0 && n.node.outputs.length > 1) n.unsupported("Indices output");
    const ceil = n.int("ceil_mode", 0) !== 0;
    const includePad = n.int("count_include_pad", 0) !== 0;
    const pad = w.before.map((b, d) => Math.min(b, w.after[d]));
    const asym = w.before.some((b, d) => b !== w.after[d]);
    const extraB = [0, 0, ...w.before.map((b, d) => b - pad[d])];
    const extraA = [0, 0, ...w.after.map((a, d) => a - pad[d])];
    const dtype = n.dtype(0);
    const padValue = kind === "max" ? (LOWEST[dtype] ?? -Infinity) : 0;
    const common = { kernel, stride: w.strides, pad, pooling_convention: ceil ? "full" : "valid" };
    let x = n.in(0);
    let y: Symbol;
    if (kind === "avg" && asym && !includePad) {
      const px = padSymbol(n, x, xs, extraB, extraA, "constant", 0);
      const ones = padSymbol(n, n.op("ones_like", { data: x }), xs, extraB, extraA, "constant", 0);
      const sum = (d: Symbol): Symbol => n.op("Pooling", { data: d, pool_type: "sum", ...common });
      y = n.op("broadcast_div", { lhs: sum(px), rhs: sum(ones) });
    } else {
      if (asym) x = padSymbol(n, x, xs, extraB, extraA, "constant", padValue);
      if (kind === "lp") {
        // (Σ |x|^p)^(1/p): MXNet's lp pooling takes no absolute value and only p of 1, 2 or 3.
        const p = n.int("p", 2);
        const xp = n.op("_power_scalar", { data: n.op("abs", { data: x }), scalar: p });
        y = n.op("_power_scalar", { data: n.op("Pooling", { data: xp, pool_type: "sum", ...common }), scalar: 1 / p });
      } else y = n.op("Pooling", { data: x, pool_type: kind, ...common, ...(kind === "avg" ? { count_include_pad: includePad } : {}) });
    }
    if (ceil) {
      // ONNX drops a last window that would start in the end padding; MXNet's 'full' keeps it.
      const ys = n.symFullShape(y);
      for (let d = 0; d < nsp; d++) {
        const o = ys[d + 2];
        if ((o - 1) * w.strides[d] >= xs[d + 2] + w.before[d]) y = n.op("slice_axis", { data: y, axis: d + 2, begin: 0, end: o - 1 });
      }
    }
    return [y, undefined];
  };
}

function globalPool(build: (n: NodeCtx, x: Symbol, axes: number[]) => Symbol): Mapper {
  return (n) => {
    const r = n.rank(0);
    const axes = Array.from({ length: r - 2 }, (_, i) => i + 2);
    return [build(n, n.in(0), axes)];
  };
}

defineMappings({
  MaxPool: pooling("max"),
  AveragePool: pooling("avg"),
  LpPool: pooling("lp"),
  GlobalAveragePool: globalPool((n, x, axis) => n.op("mean", { data: x, axis, keepdims: true })),
  GlobalMaxPool: globalPool((n, x, axis) => n.op("max", { data: x, axis, keepdims: true })),
  GlobalLpPool: globalPool((n, x, axis) => {
    const p = n.int("p", 2);
    const s = n.op("sum", { data: n.op("_power_scalar", { data: n.op("abs", { data: x }), scalar: p }), axis, keepdims: true });
    return n.op("_power_scalar", { data: s, scalar: 1 / p });
  }),
});
