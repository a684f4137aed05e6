/**
 * Resize (and the older Upsample) as separable per-axis gathers: for each resized axis the
 * source positions and weights of every output position are computed at import (every ONNX
 * coordinate_transformation_mode, nearest_mode, linear and cubic with cubic_coeff_a,
 * exclude_outside, tf_crop_and_resize's extrapolation_value), and the axis becomes a sum of
 * Kiln `take`s scaled by constant weights. antialias is not supported.
 */
import { Symbol } from "../../symbol/symbol.js";
import type { NodeCtx } from "../node_ctx.js";
import { constTensor, ONNX_TYPE } from "../tensor.js";
import { defineMappings, Mapper } from "./registry.js";
import { normAxis } from "./util.js";
import { DType } from "../../base/dtype.js";

const ONNX_OF: Record<DType, number> = { float32: 1, float64: 11, float16: 10, int32: 6, int64: 7, uint8: 2, int8: 3 };

interface AxisPlan {
  /** Source index of each tap, per output position. */
  idx: number[][];
  /** Weight of each tap, per output position. */
  w: number[][];
  /** Output positions that take extrapolation_value (tf_crop_and_resize outside the input). */
  outside: boolean[];
}

interface ResizeOpts {
  mode: string;
  coord: string;
  nearest: string;
  cubicA: number;
  excludeOutside: boolean;
}

function sourceCoord(n: NodeCtx, o: ResizeOpts, x: number, inSize: number, outSize: number, scale: number, roi: [number, number]): number {
  switch (o.coord) {
    case "half_pixel":
      return (x + 0.5) / scale - 0.5;
    case "half_pixel_symmetric": {
      const adjustment = outSize / (scale * inSize);
      const offset = (inSize / 2) * (1 - adjustment);
      return offset + (x + 0.5) / scale - 0.5;
    }
    // These two use the unrounded output length scale·in, as ONNX's reference does.
    case "pytorch_half_pixel":
      return scale * inSize > 1 ? (x + 0.5) / scale - 0.5 : 0;
    case "align_corners":
      return scale * inSize === 1 ? 0 : (x * (inSize - 1)) / (scale * inSize - 1);
    case "asymmetric":
      return x / scale;
    case "tf_crop_and_resize":
      return outSize > 1 ? roi[0] * (inSize - 1) + (x * (roi[1] - roi[0]) * (inSize - 1)) / (outSize - 1) : 0.5 * (roi[0] + roi[1]) * (inSize - 1);
  }
  return n.fail(`unknown coordinate_transformation_mode ${o.coord}`);
}

function nearestIndex(n: NodeCtx, mode: string, x: number): number {
  switch (mode) {
    case "round_prefer_floor":
      return x - Math.floor(x) === 0.5 ? Math.floor(x) : Math.round(x);
    case "round_prefer_ceil":
      return Math.round(x);
    case "floor":
      return Math.floor(x);
    case "ceil":
      return Math.ceil(x);
  }
  return n.fail(`unknown nearest_mode ${mode}`);
}

function cubicCoeffs(r: number, A: number): number[] {
  const w = (t: number): number => {
    const a = Math.abs(t);
    if (a <= 1) return ((A + 2) * a - (A + 3)) * a * a + 1;
    if (a < 2) return ((A * a - 5 * A) * a + 8 * A) * a - 4 * A;
    return 0;
  };
  return [w(r + 1), w(r), w(1 - r), w(2 - r)];
}

function planAxis(n: NodeCtx, o: ResizeOpts, inSize: number, outSize: number, scale: number, roi: [number, number]): AxisPlan {
  const plan: AxisPlan = { idx: [], w: [], outside: [] };
  for (let m = 0; m < outSize; m++) {
    const x = sourceCoord(n, o, m, inSize, outSize, scale, roi);
    plan.outside.push(o.coord === "tf_crop_and_resize" && (x < 0 || x > inSize - 1));
    if (o.mode === "nearest") {
      plan.idx.push([Math.min(Math.max(nearestIndex(n, o.nearest, x), 0), inSize - 1)]);
      plan.w.push([1]);
      continue;
    }
    // ONNX's reference: base = floor(x), ratio = x - base, with an exact integer x taken as base - 1, ratio 1.
    let base = Math.floor(x);
    let ratio = x - base;
    if (ratio === 0) {
      base -= 1;
      ratio = 1;
    }
    const taps = o.mode === "linear" ? [base, base + 1] : [base - 1, base, base + 1, base + 2];
    let w = o.mode === "linear" ? [1 - ratio, ratio] : cubicCoeffs(ratio, o.cubicA);
    if (o.excludeOutside) {
      w = w.map((v, k) => (taps[k] < 0 || taps[k] >= inSize ? 0 : v));
      const s = w.reduce((a, b) => a + b, 0);
      w = w.map((v) => v / s);
    }
    plan.idx.push(taps.map((t) => Math.min(Math.max(t, 0), inSize - 1)));
    plan.w.push(w);
  }
  return plan;
}

function isIdentity(p: AxisPlan, inSize: number): boolean {
  if (p.idx.length !== inSize || p.outside.some((b) => b)) return false;
  return p.idx.every((taps, m) => {
    let self = 0;
    taps.forEach((t, k) => {
      if (t === m) self += p.w[m][k];
      else if (p.w[m][k] !== 0) self = NaN;
    });
    return Math.abs(self - 1) < 1e-12;
  });
}

function applyAxis(n: NodeCtx, x: Symbol, rank: number, axis: number, p: AxisPlan, extrapolation: number, dtype: DType): Symbol {
  const M = p.idx.length;
  const taps = p.idx[0].length;
  const bshape = Array.from({ length: rank }, (_, d) => (d === axis ? M : 1));
  let acc: Symbol | undefined;
  for (let k = 0; k < taps; k++) {
    const idx = n.constSym(constTensor([M], ONNX_TYPE.INT64, p.idx.map((t) => t[k])), `axis${axis}_index${k}`, true);
    let term = n.op("take", { a: x, indices: idx, axis, mode: "clip" });
    if (taps > 1) {
      const w = n.constSym(constTensor(bshape, ONNX_OF[dtype], p.w.map((t) => t[k])), `axis${axis}_weight${k}`, true);
      term = n.op("broadcast_mul", { lhs: term, rhs: w });
    }
    acc = acc ? n.op("elemwise_add", { lhs: acc, rhs: term }) : term;
  }
  if (p.outside.some((b) => b)) {
    const inside = n.constSym(constTensor(bshape, ONNX_OF[dtype], p.outside.map((b) => (b ? 0 : 1))), `axis${axis}_inside`, true);
    const fill = n.constSym(constTensor(bshape, ONNX_OF[dtype], p.outside.map((b) => (b ? extrapolation : 0))), `axis${axis}_fill`, true);
    acc = n.op("broadcast_add", { lhs: n.op("broadcast_mul", { lhs: acc!, rhs: inside }), rhs: fill });
  }
  return acc!;
}

function resizeWith(n: NodeCtx, o: ResizeOpts, scalesIn: number[] | undefined, sizesIn: number[] | undefined, roiIn: number[] | undefined, axesIn: number[] | undefined): Symbol {
  if (n.int("antialias", 0) !== 0) n.unsupported("antialias");
  if (!["nearest", "linear", "cubic"].includes(o.mode)) n.fail(`unknown mode ${o.mode}`);
  const xs = n.fullShape(0);
  const r = xs.length;
  const axes = (axesIn ?? Array.from({ length: r }, (_, i) => i)).map((a) => normAxis(n, a, r));
  const scales = new Array<number>(r).fill(1);
  const outDims = [...xs];
  if (sizesIn && sizesIn.length) {
    if (sizesIn.length !== axes.length) n.fail(`sizes has ${sizesIn.length} entries for ${axes.length} axes`);
    const policy = n.str("keep_aspect_ratio_policy", "stretch");
    if (policy === "stretch") {
      axes.forEach((a, k) => {
        outDims[a] = sizesIn[k];
        scales[a] = sizesIn[k] / xs[a];
      });
    } else {
      const ratios = axes.map((a, k) => sizesIn[k] / xs[a]);
      const s = policy === "not_larger" ? Math.min(...ratios) : Math.max(...ratios);
      axes.forEach((a) => {
        scales[a] = s;
        outDims[a] = Math.round(s * xs[a]);
      });
    }
  } else if (scalesIn && scalesIn.length) {
    if (scalesIn.length !== axes.length) n.fail(`scales has ${scalesIn.length} entries for ${axes.length} axes`);
    axes.forEach((a, k) => {
      scales[a] = scalesIn[k];
      outDims[a] = Math.floor(xs[a] * scalesIn[k]);
    });
  } else n.fail("needs scales or sizes");
  if (outDims.some((d) => d <= 0)) n.unsupported("a zero-size result");
  const dtype = n.dtype(0);
  let y = n.in(0);
  for (const [k, a] of axes.entries()) {
    const roi: [number, number] = roiIn && roiIn.length === 2 * axes.length ? [roiIn[k], roiIn[k + axes.length]] : [0, 1];
    const p = planAxis(n, o, xs[a], outDims[a], scales[a], roi);
    if (!isIdentity(p, xs[a])) y = applyAxis(n, y, r, a, p, n.float("extrapolation_value", 0), dtype);
  }
  return y === n.in(0) ? n.op("_copy", { data: y }) : y;
}

const optInts = (n: NodeCtx, i: number, what: string): number[] | undefined => (n.has(i) ? Array.from(n.konst(i, what).values) : undefined);

const resize: Mapper = (n) => {
  const opts: ResizeOpts = {
    mode: n.str("mode", "nearest"),
    coord: n.opset < 11 ? "asymmetric" : n.str("coordinate_transformation_mode", "half_pixel"),
    nearest: n.opset < 11 ? "floor" : n.str("nearest_mode", "round_prefer_floor"),
    cubicA: n.float("cubic_coeff_a", -0.75),
    excludeOutside: n.int("exclude_outside", 0) !== 0,
  };
  if (n.opset < 11) return [resizeWith(n, opts, optInts(n, 1, "scales"), undefined, undefined, undefined)];
  return [resizeWith(n, opts, optInts(n, 2, "scales"), optInts(n, 3, "sizes"), optInts(n, 1, "roi"), n.ints("axes"))];
};

const upsample: Mapper = (n) => {
  const opts: ResizeOpts = { mode: n.str("mode", "nearest"), coord: "asymmetric", nearest: "floor", cubicA: -0.75, excludeOutside: false };
  const scales = n.opset < 9 ? n.floats("scales") : optInts(n, 1, "scales");
  return [resizeWith(n, opts, scales, undefined, undefined, undefined)];
};

defineMappings({ Resize: resize, Upsample: upsample });
