/**
 * Pooling (max, avg, sum, lp over 1-, 2- or 3-D channel-first windows) and its gradient.
 *
 * Both lower as windowed reductions (pooling_compute.ts). Pattern: opaque, so fusion keeps
 * them whole for now; TVM marks pool2d out-elemwise-fusable, which these stages allow (the
 * forward is a reduce stage whose epilogue could take elementwise consumers).
 */
import { defineOp, singleOutput, ShapeCtx } from "../registry.js";
import { P, ParamValues } from "../params.js";
import { Tensor } from "../tensor.js";
import { ParamError, ShapeError } from "../../base/errors.js";
import { shapeSize, shapeToBracket } from "../../base/shape.js";
import { Window, makeWindow, windowTable, optionalEnum, checkChannelFirst, LAYOUTS, tupleText } from "./common.js";
import { PoolSpec, poolForward, poolBackward } from "./pooling_compute.js";

const poolParams = {
  kernel: P.tuple([], "Pooling window: (w,), (h, w) or (d, h, w); ignored with global_pool."),
  pool_type: P.enum(["avg", "lp", "max", "sum"] as const, "max", "Pooling function."),
  global_pool: P.bool(false, "Pool over the whole spatial extent (kernel, stride and pad are ignored)."),
  cudnn_off: P.bool(false, "Turn off cuDNN (ignored by Kiln)."),
  pooling_convention: P.enum(["full", "same", "valid"] as const, "valid", "Output size rule: valid floors, full ceils, same (1-D max) is ceil(in/stride)."),
  stride: P.tuple([], "Window stride; defaults to 1 per dim."),
  pad: P.tuple([], "Padding on both sides; defaults to 0 per dim."),
  p_value: P.int.optional("p of Lp pooling (1, 2 or 3); required for pool_type lp."),
  count_include_pad: P.bool.optional("Avg pooling: count padded elements in the divisor (default True)."),
  layout: optionalEnum(LAYOUTS, "Data layout; Kiln supports the channel-first default only."),
};

type PoolParams = ParamValues<typeof poolParams>;

function checkParams(p: PoolParams): void {
  if (p.pool_type === "lp" && (p.p_value === null || p.p_value < 1 || p.p_value > 3))
    throw new ParamError(`pool_type lp needs p_value 1, 2 or 3, got ${p.p_value === null ? "None" : p.p_value}`);
  if (!p.global_pool && (p.kernel.length < 1 || p.kernel.length > 3))
    throw new ParamError(`kernel ${tupleText(p.kernel)} must have 1, 2 or 3 dims unless global_pool is set`);
}

/** The effective window for data of `ndim` dims with spatial sizes `sp`. */
function windowOf(p: PoolParams, sp: readonly number[]): Window {
  if (p.global_pool) return makeWindow(sp, [], [], []);
  return makeWindow(p.kernel, p.stride, [], p.pad);
}

function outSize(p: PoolParams, inSize: number, w: Window | undefined, d: number): number {
  if (p.global_pool || w === undefined) return 1;
  if (inSize === 0) return 0;
  const span = inSize + 2 * w.pad[d];
  if (w.kernel[d] > span) throw new ShapeError(`kernel size (${w.kernel[d]}) exceeds input (${inSize} padded to ${span}) in spatial dim ${d}`);
  if (p.pooling_convention === "valid") return 1 + Math.floor((span - w.kernel[d]) / w.stride[d]);
  if (p.pooling_convention === "full") return 1 + Math.ceil((span - w.kernel[d]) / w.stride[d]);
  return Math.ceil(span / w.stride[d]);
}

function inferPoolShape(ctx: ShapeCtx, p: PoolParams): void {
  checkParams(p);
  const d = ctx.in(0);
  if (d === undefined) return;
  if (d.length < 3 || d.length > 5) throw new ShapeError(`data ${shapeToBracket(d)} must be 3-D (N, C, W), 4-D (N, C, H, W) or 5-D (N, C, D, H, W)`);
  const nsp = d.length - 2;
  if (!p.global_pool && p.kernel.length !== nsp) throw new ShapeError(`kernel ${tupleText(p.kernel)} needs ${p.kernel.length + 2}-D data, got ${shapeToBracket(d)}`);
  if (p.pooling_convention === "same" && (nsp !== 1 || (p.pad.length > 0 && p.pad.some((v) => v !== 0))))
    throw new ShapeError(`pooling_convention 'same' supports 1-D data without pad only, got data ${shapeToBracket(d)} pad ${tupleText(p.pad)}`);
  checkChannelFirst(p.layout, nsp, "Pooling");
  const w = p.global_pool ? undefined : windowOf(p, d.slice(2));
  ctx.setOut(0, [d[0], d[1], ...d.slice(2).map((s, i) => outSize(p, s, w, i))]);
  const o = ctx.out(0)!;
  ctx.setIn(0, [o[0], o[1], ...d.slice(2)]);
}

interface Plan {
  planes: number;
  inSp: number;
  outSp: number;
  k: number;
  table: Int32Array;
  /** MXNet's avg divisor per output position: the window clipped to the padded extent (or to the data). */
  divisor: Float64Array;
  outShape: number[];
}

function plan(p: PoolParams, x: Tensor): Plan {
  const [n, c, ...sp] = x.shape;
  const w = windowOf(p, sp);
  const outSp = sp.map((s, i) => outSize(p, s, w, i));
  const O = shapeSize(outSp);
  const includePad = p.count_include_pad ?? true;
  const divisor = new Float64Array(O);
  const oIdx = new Array<number>(sp.length).fill(0);
  for (let o = 0; o < O; o++) {
    let size = 1;
    for (let d = 0; d < sp.length; d++) {
      const start = oIdx[d] * w.stride[d] - w.pad[d];
      const end = Math.min(start + w.kernel[d], sp[d] + w.pad[d]);
      size *= includePad ? end - start : Math.min(end, sp[d]) - Math.max(start, 0);
    }
    divisor[o] = size;
    for (let d = sp.length - 1; d >= 0; d--) {
      if (++oIdx[d] < outSp[d]) break;
      oIdx[d] = 0;
    }
  }
  return { planes: n * c, inSp: shapeSize(sp), outSp: O, k: shapeSize(w.kernel), table: windowTable(sp, outSp, w), divisor, outShape: [n, c, ...outSp] };
}

/** The pooling as the compute rules see it, for data of shape `data` pooled to `out`. */
function poolSpec(p: PoolParams, data: readonly number[], out: readonly number[]): PoolSpec {
  checkParams(p);
  const sp = data.slice(2);
  return {
    type: p.pool_type,
    pValue: p.p_value ?? 1,
    includePad: p.count_include_pad ?? true,
    geo: { w: windowOf(p, sp), large: sp, small: out.slice(2) },
  };
}

const powP = (v: number, pv: number): number => (pv === 1 ? v : pv === 2 ? v * v : v * v * v);
const rootP = (v: number, pv: number): number => (pv === 1 ? v : pv === 2 ? Math.sqrt(v) : Math.cbrt(v));

export const Pooling = defineOp({
  name: "Pooling",
  doc: "Max, average, sum or Lp pooling over channel-first data; 'valid' floors and 'full' ceils the output size.",
  params: poolParams,
  inputs: ["data"],
  ...singleOutput,
  pattern: "opaque",
  inferShape: inferPoolShape,
  gradient: (g) => [g.op1("_backward_Pooling", [g.ograd(), g.input(0), g.output(0)], g.params)],
  compute: (ctx, p) => [poolForward(ctx, poolSpec(p, ctx.inputs[0].shape, ctx.outputs[0].shape))],
  forward: (p, [x]) => {
    checkParams(p);
    const P_ = plan(p, x);
    const out = new Tensor(P_.outShape);
    const pv = p.p_value ?? 1;
    for (let pl = 0; pl < P_.planes; pl++) {
      const xb = pl * P_.inSp;
      for (let o = 0; o < P_.outSp; o++) {
        let acc = p.pool_type === "max" ? -Number.MAX_VALUE : 0;
        for (let k = 0; k < P_.k; k++) {
          const at = P_.table[o * P_.k + k];
          if (at < 0) continue;
          const v = x.data[xb + at];
          if (p.pool_type === "max") {
            if (v > acc) acc = v;
          } else acc += p.pool_type === "lp" ? powP(v, pv) : v;
        }
        if (p.pool_type === "avg") acc /= P_.divisor[o];
        else if (p.pool_type === "lp") acc = rootP(acc, pv);
        out.data[pl * P_.outSp + o] = acc;
      }
    }
    return [out];
  },
});

export const backwardPooling = defineOp({
  name: "_backward_Pooling",
  doc: "Gradient of Pooling: max routes to the first maximum of each window, avg spreads by the divisor, sum copies, lp uses (x/out)^(p-1).",
  params: poolParams,
  inputs: ["ograd", "data", "output"],
  ...singleOutput,
  pattern: "opaque",
  inferShape: (ctx) => ctx.setOut(0, ctx.in(1)),
  compute: (ctx, p) => [poolBackward(ctx, poolSpec(p, ctx.inputs[1].shape, ctx.inputs[0].shape))],
  /**
   * Global max pooling's window is the whole plane, where the compute's first-maximum test
   * (O(plane) terms per element) is too big: route ograd through argmax + one_hot instead.
   * argmax picks the first maximum as the reference does; a plane with nothing above
   * −MAX_VALUE (the forward output is then −MAX_VALUE) gets no gradient, as in the reference.
   */
  decompose: (d, p) => {
    if (!(p.global_pool && p.pool_type === "max")) return undefined;
    const shape = d.inputShape(1);
    const [n, c, ...sp] = shape;
    const plane = sp.reduce((a, b) => a * b, 1);
    const flat = d.op1("Reshape", [d.input(1)], { shape: [n, c, plane] });
    const first = d.op1("one_hot", [d.op1("argmax", [flat], { axis: 2 })], { depth: plane, dtype: d.inputType(1) });
    const live = d.op1("_greater_scalar", [d.input(2)], { scalar: -Number.MAX_VALUE });
    const g = d.op1("Reshape", [d.op1("elemwise_mul", [d.input(0), live])], { shape: [n, c, 1] });
    return [d.op1("Reshape", [d.op1("broadcast_mul", [g, first])], { shape })];
  },
  forward: (p, [og, x, y]) => {
    const P_ = plan(p, x);
    const dx = new Tensor(x.shape);
    const pv = p.p_value ?? 1;
    for (let pl = 0; pl < P_.planes; pl++) {
      const xb = pl * P_.inSp;
      for (let o = 0; o < P_.outSp; o++) {
        const oi = pl * P_.outSp + o;
        const gv = og.data[oi];
        if (p.pool_type === "max") {
          let best = -1;
          let bestV = -Number.MAX_VALUE;
          for (let k = 0; k < P_.k; k++) {
            const at = P_.table[o * P_.k + k];
            if (at >= 0 && x.data[xb + at] > bestV) {
              bestV = x.data[xb + at];
              best = at;
            }
          }
          if (best >= 0) dx.data[xb + best] += gv;
          continue;
        }
        for (let k = 0; k < P_.k; k++) {
          const at = P_.table[o * P_.k + k];
          if (at < 0) continue;
          if (p.pool_type === "avg") dx.data[xb + at] += gv / P_.divisor[o];
          else if (p.pool_type === "sum") dx.data[xb + at] += gv;
          else {
            const v = x.data[xb + at];
            const out = y.data[oi];
            dx.data[xb + at] += gv * (pv === 1 ? 1 : pv === 2 ? v / out : (v * v) / (out * out));
          }
        }
      }
    }
    return [dx];
  },
});
