/**
 * Deconvolution (transposed convolution): the adjoint of Convolution with respect to its
 * data. Weight (C_in, num_filter/num_group, kernel…); output size
 * stride·(in−1) + dilate·(kernel−1) + 1 − 2·pad + adj, or `target_shape`, which sets pad and adj.
 */
import { defineOp, singleOutput, ShapeCtx } from "../registry.js";
import { P, ParamValues } from "../params.js";
import { Tensor } from "../tensor.js";
import { ParamError, ShapeError } from "../../base/errors.js";
import { shapeSize, shapeToBracket } from "../../base/shape.js";
import { Window, makeWindow, windowTable, optionalEnum, checkChannelFirst, LAYOUTS, tupleText, weightedLayerGradOutputs } from "./common.js";
import { correlate, transposedCorrelate, windowWeightGrad, channelSum, withBias } from "./conv_compute.js";
import type { WindowGeometry } from "./window_expr.js";
import type { ComputeCtx } from "../../te/stage.js";

const deconvParams = {
  kernel: P.tuple.required("Deconvolution kernel size: (w,), (h, w) or (d, h, w)."),
  stride: P.tuple([], "Stride; defaults to 1 per dim."),
  dilate: P.tuple([], "Dilation; defaults to 1 per dim."),
  pad: P.tuple([], "Padding of the corresponding convolution; ignored when target_shape is set."),
  adj: P.tuple([], "Extra output size at the end of each dim; ignored when target_shape is set."),
  target_shape: P.tuple([], "Output spatial shape; sets pad and adj."),
  num_filter: P.int.required("Number of output channels."),
  num_group: P.int(1, "Number of groups."),
  workspace: P.int(512, "Maximum temporary workspace in MB (ignored by Kiln)."),
  no_bias: P.bool(true, "Whether to disable the bias."),
  cudnn_tune: optionalEnum(["fastest", "limited_workspace", "off"] as const, "cuDNN algorithm choice (ignored by Kiln)."),
  cudnn_off: P.bool(false, "Turn off cuDNN (ignored by Kiln)."),
  layout: optionalEnum(LAYOUTS, "Data layout; Kiln supports the channel-first default only."),
};
type DeconvParams = ParamValues<typeof deconvParams>;

/** The window of the corresponding convolution and the adj, with target_shape resolved for input sizes `inSp`. */
function geometryOf(p: DeconvParams, inSp: readonly number[]): { w: Window; adj: number[] } {
  const w = makeWindow(p.kernel, p.stride, p.dilate, p.pad);
  const n = w.kernel.length;
  if (n < 1 || n > 3) throw new ParamError(`kernel ${tupleText(p.kernel)} must have 1, 2 or 3 dims`);
  if (p.num_filter < 1 || p.num_group < 1 || p.num_filter % p.num_group !== 0)
    throw new ParamError(`num_filter ${p.num_filter} must be a positive multiple of num_group ${p.num_group}`);
  const check = (t: readonly number[], what: string): number[] => {
    if (t.length === 0) return new Array<number>(n).fill(0);
    if (t.length !== n) throw new ParamError(`${what} ${tupleText(t)} must have as many dims as kernel ${tupleText(p.kernel)}`);
    return [...t];
  };
  const adj = check(p.adj, "adj");
  adj.forEach((a, i) => {
    if (a < 0 || (a > 0 && a >= w.stride[i])) throw new ParamError(`adj ${tupleText(adj)} must be smaller than stride ${tupleText(w.stride)}`);
  });
  const target = check(p.target_shape, "target_shape");
  if (target.some((t) => t !== 0))
    for (let i = 0; i < n; i++) {
      if (inSp[i] === 0) continue;
      const full = w.stride[i] * (inSp[i] - 1) + w.dilate[i] * (w.kernel[i] - 1) + 1;
      if (full < target[i]) throw new ShapeError(`target_shape ${tupleText(p.target_shape)} is too big: dim ${i} can be at most ${full}`);
      adj[i] = (full - target[i]) % 2;
      w.pad[i] = Math.ceil((full - target[i]) / 2);
    }
  return { w, adj };
}

function outSize(inSize: number, w: Window, adj: number[], d: number): number {
  if (inSize === 0) return 0;
  const s = w.stride[d] * (inSize - 1) + w.dilate[d] * (w.kernel[d] - 1) + 1 - 2 * w.pad[d] + adj[d];
  if (s < 1) throw new ShapeError(`pad ${w.pad[d]} leaves no output in spatial dim ${d} (input size ${inSize})`);
  return s;
}

function inferDeconvShape(ctx: ShapeCtx, p: DeconvParams): void {
  const d = ctx.in(0);
  if (d === undefined) return;
  const nsp = p.kernel.length;
  if (d.length !== nsp + 2) throw new ShapeError(`data ${shapeToBracket(d)} must have ${nsp + 2} dims for kernel ${tupleText(p.kernel)}`);
  checkChannelFirst(p.layout, nsp, "Deconvolution");
  const data = [...d];
  const wt = ctx.in(1);
  if (data[1] === 0 && wt !== undefined && wt.length === nsp + 2) data[1] = wt[0];
  if (data[1] % p.num_group !== 0) throw new ShapeError(`input channels ${data[1]} of data ${shapeToBracket(d)} are not divisible by num_group ${p.num_group}`);
  const { w, adj } = geometryOf(p, data.slice(2));
  ctx.setIn(1, [data[1], p.num_filter / p.num_group, ...w.kernel]);
  if (!p.no_bias) ctx.setIn(2, [p.num_filter]);
  ctx.setOut(0, [data[0], p.num_filter, ...data.slice(2).map((s, i) => outSize(s, w, adj, i))]);
  data[0] = ctx.out(0)![0];
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
  /** For each input position (the convolution's output) and kernel offset, the output position it feeds. */
  table: Int32Array;
  outShape: number[];
}

function geometry(p: DeconvParams, x: Tensor): Geometry {
  const [n, c, ...sp] = x.shape;
  const { w, adj } = geometryOf(p, sp);
  const outSpShape = sp.map((s, i) => outSize(s, w, adj, i));
  return {
    n,
    c,
    f: p.num_filter,
    cg: c / p.num_group,
    fg: p.num_filter / p.num_group,
    inSp: shapeSize(sp),
    outSp: shapeSize(outSpShape),
    k: shapeSize(w.kernel),
    table: windowTable(outSpShape, sp, w),
    outShape: [n, p.num_filter, ...outSpShape],
  };
}

/** Visits every (input element, kernel offset, output element, weight element) product term. */
function forEachTerm(G: Geometry, f: (xi: number, yi: number, wi: number, filter: number) => void): void {
  for (let ni = 0; ni < G.n; ni++)
    for (let ci = 0; ci < G.c; ci++) {
      const g = Math.floor(ci / G.cg);
      for (let fo = 0; fo < G.fg; fo++) {
        const filter = g * G.fg + fo;
        const yBase = (ni * G.f + filter) * G.outSp;
        const wBase = (ci * G.fg + fo) * G.k;
        for (let i = 0; i < G.inSp; i++)
          for (let k = 0; k < G.k; k++) {
            const at = G.table[i * G.k + k];
            if (at >= 0) f((ni * G.c + ci) * G.inSp + i, yBase + at, wBase + k, filter);
          }
      }
    }
}

/** The window of the corresponding convolution: the output is its large side, the data its small side. */
function windowGeometry(p: DeconvParams, data: readonly number[], out: readonly number[]): WindowGeometry {
  return { w: geometryOf(p, data.slice(2)).w, large: out.slice(2), small: data.slice(2) };
}

/** Each output filter receives from the C/num_group data channels of its group. */
const filterGroups = (p: DeconvParams, channels: number) => ({ perGroup: p.num_filter / p.num_group, reads: channels / p.num_group });
/** Each data channel feeds the num_filter/num_group filters of its group. */
const channelGroups = (p: DeconvParams, channels: number) => ({ perGroup: channels / p.num_group, reads: p.num_filter / p.num_group });

export const Deconvolution = defineOp({
  name: "Deconvolution",
  doc: "Transposed convolution over channel-first data; weight (C_in, num_filter/num_group, kernel…); no bias by default.",
  params: deconvParams,
  inputs: ["data", "weight", "bias"],
  activeInputs: (p) => (p.no_bias ? ["data", "weight"] : ["data", "weight", "bias"]),
  ...singleOutput,
  pattern: "outEWiseFusable",
  inferShape: inferDeconvShape,
  gradient: (g) => {
    const grads = g.op("_backward_Deconvolution", [g.ograd(), g.input(0), g.input(1)], g.params);
    return g.params.no_bias ? [grads[0], grads[1]] : [grads[0], grads[1], grads[2]];
  },
  compute: (ctx: ComputeCtx, p) => {
    const [x, w, bias] = ctx.inputs;
    const geo = windowGeometry(p, x.shape, ctx.outputs[0].shape);
    return [withBias(transposedCorrelate(ctx, x, w, geo, filterGroups(p, x.shape[1])), bias, ctx.index()[1])];
  },
  forward: (p, [x, wt, b]) => {
    const G = geometry(p, x);
    const out = new Tensor(G.outShape);
    if (b) for (let i = 0; i < out.size; i++) out.data[i] = b.data[Math.floor(i / G.outSp) % G.f];
    forEachTerm(G, (xi, yi, wi) => (out.data[yi] += x.data[xi] * wt.data[wi]));
    return [out];
  },
});

export const backwardDeconvolution = defineOp({
  name: "_backward_Deconvolution",
  doc: "Gradients of Deconvolution with respect to data, weight and (unless no_bias) bias.",
  params: deconvParams,
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
    const dx = correlate(ctx, og, w, geo, channelGroups(p, x.shape[1]));
    const dw = windowWeightGrad(ctx, x, og, geo, channelGroups(p, x.shape[1]), false, 1);
    return p.no_bias ? [dx, dw] : [dx, dw, channelSum(ctx, og, 2)];
  },
  forward: (p, [og, x, wt]) => {
    const G = geometry(p, x);
    const dx = new Tensor(x.shape);
    const dw = new Tensor(wt.shape);
    const db = new Tensor([G.f]);
    for (let i = 0; i < og.size; i++) db.data[Math.floor(i / G.outSp) % G.f] += og.data[i];
    forEachTerm(G, (xi, yi, wi) => {
      dx.data[xi] += og.data[yi] * wt.data[wi];
      dw.data[wi] += og.data[yi] * x.data[xi];
    });
    return p.no_bias ? [dx, dw] : [dx, dw, db];
  },
});
