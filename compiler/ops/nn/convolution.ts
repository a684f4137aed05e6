/** Convolution (1-, 2- and 3-D, channel-first, grouped, dilated) and its internal gradient op. */
import { defineOp, singleOutput, ShapeCtx } from "../registry.js";
import { P, ParamValues } from "../params.js";
import { Tensor } from "../tensor.js";
import { ParamError, ShapeError } from "../../base/errors.js";
import { shapeSize, shapeToBracket } from "../../base/shape.js";
import { Window, makeWindow, windowTable, optionalEnum, checkChannelFirst, LAYOUTS, tupleText, weightedLayerGradOutputs } from "./common.js";
import { correlate, transposedCorrelate, windowWeightGrad, channelSum, withBias } from "./conv_compute.js";
import type { WindowGeometry } from "./window_expr.js";
import type { ComputeCtx } from "../../te/stage.js";

const convParams = {
  kernel: P.tuple.required("Convolution kernel size: (w,), (h, w) or (d, h, w)."),
  stride: P.tuple([], "Convolution stride; defaults to 1 per dim."),
  dilate: P.tuple([], "Convolution dilation; defaults to 1 per dim."),
  pad: P.tuple([], "Zero padding on both sides; defaults to 0 per dim."),
  num_filter: P.int.required("Number of output channels."),
  num_group: P.int(1, "Number of groups the input and output channels are split into."),
  workspace: P.int(1024, "Maximum temporary workspace in MB (ignored by Kiln)."),
  no_bias: P.bool(false, "Whether to disable the bias."),
  cudnn_tune: optionalEnum(["fastest", "limited_workspace", "off"] as const, "cuDNN algorithm choice (ignored by Kiln)."),
  cudnn_off: P.bool(false, "Turn off cuDNN (ignored by Kiln)."),
  layout: optionalEnum(LAYOUTS, "Data layout; Kiln supports the channel-first default only."),
};

type ConvParams = ParamValues<typeof convParams>;

function windowOf(p: ConvParams): Window {
  const w = makeWindow(p.kernel, p.stride, p.dilate, p.pad);
  if (w.kernel.length < 1 || w.kernel.length > 3) throw new ParamError(`kernel ${tupleText(p.kernel)} must have 1, 2 or 3 dims`);
  if (p.num_filter < 1) throw new ParamError(`num_filter must be positive, got ${p.num_filter}`);
  if (p.num_group < 1) throw new ParamError(`num_group must be positive, got ${p.num_group}`);
  if (p.num_filter % p.num_group !== 0) throw new ParamError(`num_filter ${p.num_filter} is not divisible by num_group ${p.num_group}`);
  return w;
}

const dilatedKernel = (w: Window, d: number): number => w.dilate[d] * (w.kernel[d] - 1) + 1;

/** floor((in + 2·pad − dilated kernel) / stride) + 1, or 0 while the input size is unknown. */
function outSize(inSize: number, w: Window, d: number): number {
  if (inSize === 0) return 0;
  const span = inSize + 2 * w.pad[d];
  if (span < dilatedKernel(w, d))
    throw new ShapeError(`kernel size ${w.kernel[d]} (dilated ${dilatedKernel(w, d)}) exceeds the input size ${inSize} padded to ${span} in spatial dim ${d}`);
  return Math.floor((span - dilatedKernel(w, d)) / w.stride[d]) + 1;
}

function inferConvShape(ctx: ShapeCtx, p: ConvParams): void {
  const w = windowOf(p);
  const nsp = w.kernel.length;
  const d = ctx.in(0);
  if (d === undefined) return;
  if (d.length !== nsp + 2)
    throw new ShapeError(`data ${shapeToBracket(d)} must have ${nsp + 2} dims (batch, channel and ${nsp} spatial) for kernel ${tupleText(p.kernel)}`);
  checkChannelFirst(p.layout, nsp, "Convolution");
  const data = [...d];
  const wt = ctx.in(1);
  if (data[1] === 0 && wt !== undefined && wt.length === nsp + 2 && wt[1] > 0) data[1] = wt[1] * p.num_group;
  if (data[1] % p.num_group !== 0) throw new ShapeError(`input channels ${data[1]} of data ${shapeToBracket(d)} are not divisible by num_group ${p.num_group}`);
  ctx.setIn(1, [p.num_filter, data[1] / p.num_group, ...w.kernel]);
  if (!p.no_bias) ctx.setIn(2, [p.num_filter]);
  ctx.setOut(0, [data[0], p.num_filter, ...data.slice(2).map((s, i) => outSize(s, w, i))]);
  // Back-fill the data like MXNet: the batch always, a spatial size where the stride is 1.
  const o = ctx.out(0)!;
  data[0] = o[0];
  for (let i = 0; i < nsp; i++)
    if (data[i + 2] === 0 && o[i + 2] > 0 && w.stride[i] === 1) data[i + 2] = o[i + 2] + dilatedKernel(w, i) - 1 - 2 * w.pad[i];
  ctx.setIn(0, data);
}

interface Geometry {
  n: number;
  c: number;
  f: number;
  cg: number;
  fg: number;
  inSp: number;
  outSp: number;
  k: number;
  table: Int32Array;
  outShape: number[];
}

function geometry(p: ConvParams, x: Tensor): Geometry {
  const w = windowOf(p);
  const [n, c, ...sp] = x.shape;
  const outSpShape = sp.map((s, i) => outSize(s, w, i));
  return {
    n,
    c,
    f: p.num_filter,
    cg: c / p.num_group,
    fg: p.num_filter / p.num_group,
    inSp: shapeSize(sp),
    outSp: shapeSize(outSpShape),
    k: shapeSize(w.kernel),
    table: windowTable(sp, outSpShape, w),
    outShape: [n, p.num_filter, ...outSpShape],
  };
}

/** The window between data (large side) and output (small side) at the inferred shapes. */
function windowGeometry(p: ConvParams, data: readonly number[], out: readonly number[]): WindowGeometry {
  return { w: windowOf(p), large: data.slice(2), small: out.slice(2) };
}

/** Each filter reads the C/num_group channels of its group. */
const filterGroups = (p: ConvParams, channels: number) => ({ perGroup: p.num_filter / p.num_group, reads: channels / p.num_group });
/** Each data channel receives from the num_filter/num_group filters of its group. */
const channelGroups = (p: ConvParams, channels: number) => ({ perGroup: channels / p.num_group, reads: p.num_filter / p.num_group });

export const Convolution = defineOp({
  name: "Convolution",
  doc: "N-D convolution over channel-first data (N, C, spatial…) with weight (num_filter, C/num_group, kernel…).",
  params: convParams,
  inputs: ["data", "weight", "bias"],
  activeInputs: (p) => (p.no_bias ? ["data", "weight"] : ["data", "weight", "bias"]),
  ...singleOutput,
  pattern: "outEWiseFusable",
  inferShape: inferConvShape,
  gradient: (g) => {
    const grads = g.op("_backward_Convolution", [g.ograd(), g.input(0), g.input(1)], g.params);
    return g.params.no_bias ? [grads[0], grads[1]] : [grads[0], grads[1], grads[2]];
  },
  compute: (ctx: ComputeCtx, p) => {
    const [x, w, bias] = ctx.inputs;
    const geo = windowGeometry(p, x.shape, ctx.outputs[0].shape);
    return [withBias(correlate(ctx, x, w, geo, filterGroups(p, x.shape[1])), bias, ctx.index()[1])];
  },
  forward: (p, [x, wt, b]) => {
    const G = geometry(p, x);
    const out = new Tensor(G.outShape);
    for (let ni = 0; ni < G.n; ni++)
      for (let f = 0; f < G.f; f++) {
        const c0 = Math.floor(f / G.fg) * G.cg;
        for (let o = 0; o < G.outSp; o++) {
          let acc = b ? b.data[f] : 0;
          for (let c = 0; c < G.cg; c++) {
            const xBase = (ni * G.c + c0 + c) * G.inSp;
            const wBase = (f * G.cg + c) * G.k;
            for (let k = 0; k < G.k; k++) {
              const at = G.table[o * G.k + k];
              if (at >= 0) acc += x.data[xBase + at] * wt.data[wBase + k];
            }
          }
          out.data[(ni * G.f + f) * G.outSp + o] = acc;
        }
      }
    return [out];
  },
});

export const backwardConvolution = defineOp({
  name: "_backward_Convolution",
  doc: "Gradients of Convolution with respect to data, weight and (unless no_bias) bias.",
  params: convParams,
  inputs: ["ograd", "data", "weight"],
  outputNames: weightedLayerGradOutputs,
  numVisibleOutputs: (p) => (p.no_bias ? 2 : 3),
  pattern: "opaque",
  inferShape: (ctx, p) => {
    ctx.setOut(0, ctx.in(1));
    ctx.setOut(1, ctx.in(2));
    if (!p.no_bias) ctx.setOut(2, [p.num_filter]);
  },
  compute: (ctx: ComputeCtx, p) => {
    const [og, x, w] = ctx.inputs;
    const geo = windowGeometry(p, x.shape, og.shape);
    const dx = transposedCorrelate(ctx, og, w, geo, channelGroups(p, x.shape[1]));
    const dw = windowWeightGrad(ctx, og, x, geo, filterGroups(p, x.shape[1]), true, 1);
    return p.no_bias ? [dx, dw] : [dx, dw, channelSum(ctx, og, 2)];
  },
  forward: (p, [og, x, wt]) => {
    const G = geometry(p, x);
    const dx = new Tensor(x.shape);
    const dw = new Tensor(wt.shape);
    const db = new Tensor([G.f]);
    for (let ni = 0; ni < G.n; ni++)
      for (let f = 0; f < G.f; f++) {
        const c0 = Math.floor(f / G.fg) * G.cg;
        for (let o = 0; o < G.outSp; o++) {
          const gv = og.data[(ni * G.f + f) * G.outSp + o];
          db.data[f] += gv;
          for (let c = 0; c < G.cg; c++) {
            const xBase = (ni * G.c + c0 + c) * G.inSp;
            const wBase = (f * G.cg + c) * G.k;
            for (let k = 0; k < G.k; k++) {
              const at = G.table[o * G.k + k];
              if (at < 0) continue;
              dx.data[xBase + at] += gv * wt.data[wBase + k];
              dw.data[wBase + k] += gv * x.data[xBase + at];
            }
          }
        }
      }
    return p.no_bias ? [dx, dw] : [dx, dw, db];
  },
});
