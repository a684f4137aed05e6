/**
 * Conv and ConvTranspose: Kiln's Convolution and Deconvolution (same weight layouts as ONNX).
 * Kiln pads symmetrically, so asymmetric or auto_pad SAME padding pads the input first
 * (Conv) or crops the output after (ConvTranspose).
 */
import type { NodeCtx } from "../node_ctx.js";
import { defineMappings, Mapper } from "./registry.js";
import { padSymbol } from "./slicing.js";

export interface Window {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** Padding before and after each spatial dim. */
  before: number[];
  after: number[];
}

/** Kernel, strides, dilations and the begin/end pads of a windowed op, auto_pad resolved. */
export function windowOf(n: NodeCtx, spatial: readonly number[], kernel: number[]): Window {
  const nsp = kernel.length;
  const strides = n.ints("strides") ?? new Array<number>(nsp).fill(1);
  const dilations = n.ints("dilations") ?? new Array<number>(nsp).fill(1);
  const autoPad = n.str("auto_pad", "NOTSET");
  let before = new Array<number>(nsp).fill(0);
  let after = new Array<number>(nsp).fill(0);
  if (autoPad === "NOTSET") {
    const pads = n.ints("pads") ?? new Array<number>(2 * nsp).fill(0);
    if (pads.length !== 2 * nsp) n.fail(`pads has ${pads.length} entries for ${nsp} spatial dims`);
    before = pads.slice(0, nsp);
    after = pads.slice(nsp);
  } else if (autoPad === "SAME_UPPER" || autoPad === "SAME_LOWER") {
    for (let d = 0; d < nsp; d++) {
      if (!spatial[d]) n.fail("auto_pad SAME needs the input's spatial shape");
      const outSize = Math.ceil(spatial[d] / strides[d]);
      const total = Math.max((outSize - 1) * strides[d] + (kernel[d] - 1) * dilations[d] + 1 - spatial[d], 0);
      const small = Math.floor(total / 2);
      before[d] = autoPad === "SAME_UPPER" ? small : total - small;
      after[d] = total - before[d];
    }
  } else if (autoPad !== "VALID") n.fail(`unknown auto_pad ${autoPad}`);
  return { kernel, strides, dilations, before, after };
}

const conv: Mapper = (n) => {
  const xs = n.shape(0);
  const ws = n.fullShape(1);
  if (!xs) return n.fail("the input's rank must be known");
  const kernel = n.ints("kernel_shape") ?? ws.slice(2);
  const w = windowOf(n, xs.slice(2), kernel);
  let x = n.in(0);
  const pad = w.before.map((b, d) => Math.min(b, w.after[d]));
  if (w.before.some((b, d) => b !== w.after[d])) {
    const full = n.fullShape(0);
    x = padSymbol(n, x, full, [0, 0, ...w.before.map((b, d) => b - pad[d])], [0, 0, ...w.after.map((a, d) => a - pad[d])], "constant");
  }
  const group = n.int("group", 1);
  return [
    n.op("Convolution", {
      data: x,
      weight: n.in(1),
      bias: n.has(2) ? n.in(2) : undefined,
      kernel,
      stride: w.strides,
      dilate: w.dilations,
      pad,
      num_filter: ws[0],
      num_group: group,
      no_bias: !n.has(2),
    }),
  ];
};

const convTranspose: Mapper = (n) => {
  const xs = n.fullShape(0);
  const ws = n.fullShape(1);
  const nsp = xs.length - 2;
  const kernel = n.ints("kernel_shape") ?? ws.slice(2);
  const strides = n.ints("strides") ?? new Array<number>(nsp).fill(1);
  const dilations = n.ints("dilations") ?? new Array<number>(nsp).fill(1);
  const outPad = n.ints("output_padding") ?? new Array<number>(nsp).fill(0);
  const group = n.int("group", 1);
  const autoPad = n.str("auto_pad", "NOTSET");
  const outputShape = n.ints("output_shape");
  let before = new Array<number>(nsp).fill(0);
  let after = new Array<number>(nsp).fill(0);
  const full = (d: number): number => strides[d] * (xs[d + 2] - 1) + outPad[d] + (kernel[d] - 1) * dilations[d] + 1;
  if (outputShape || autoPad === "SAME_UPPER" || autoPad === "SAME_LOWER") {
    const target = outputShape ? outputShape.slice(-nsp) : xs.slice(2).map((s, d) => s * strides[d]);
    for (let d = 0; d < nsp; d++) {
      const total = full(d) - target[d];
      if (total < 0) n.unsupported(`output_shape larger than the full transposed convolution (output_padding ${-total})`);
      const half = Math.floor(total / 2);
      // ONNX: SAME_UPPER puts the extra at the end ("pads[start] = total/2"), otherwise at the start.
      before[d] = autoPad === "SAME_UPPER" ? half : total - half;
      after[d] = total - before[d];
    }
  } else if (autoPad === "NOTSET") {
    const pads = n.ints("pads") ?? new Array<number>(2 * nsp).fill(0);
    before = pads.slice(0, nsp);
    after = pads.slice(nsp);
  } else if (autoPad !== "VALID") n.fail(`unknown auto_pad ${autoPad}`);
  const pad = before.map((b, d) => Math.min(b, after[d]));
  let y = n.op("Deconvolution", {
    data: n.in(0),
    weight: n.in(1),
    bias: n.has(2) ? n.in(2) : undefined,
    kernel,
    stride: strides,
    dilate: dilations,
    pad,
    adj: outPad,
    num_filter: ws[1] * group,
    num_group: group,
    no_bias: !n.has(2),
  });
  if (before.some((b, d) => b !== after[d])) {
    const ys = n.symFullShape(y);
    y = padSymbol(n, y, ys, [0, 0, ...before.map((b, d) => pad[d] - b)], [0, 0, ...after.map((a, d) => pad[d] - a)], "constant");
  }
  return [y];
};

defineMappings({ Conv: conv, ConvTranspose: convTranspose });
