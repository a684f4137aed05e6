/**
 * Helpers the neural-network rows share: optional enum params, window geometry for
 * convolution and pooling (NC + spatial layouts), per-channel iteration, erf, and reduction
 * axes for compute rules.
 */
import { ParamSpec } from "../params.js";
import { ParamError, ShapeError } from "../../base/errors.js";
import { Shape, shapeSize, shapeToBracket } from "../../base/shape.js";
import { Expr, v } from "../../te/expr.js";
import type { Axis, ComputeCtx } from "../../te/stage.js";

/** An enum param whose default is None (MXNet's `dmlc::optional<int>` enums: layout, cudnn_tune). */
export function optionalEnum<const E extends string>(values: readonly E[], doc = ""): ParamSpec<E | null, E | null> & { required: false } {
  const check = (s: string): E => {
    if (!(values as readonly string[]).includes(s)) throw new ParamError(`"${s}" is not one of None, ${values.join(", ")}`);
    return s as E;
  };
  return {
    kind: `{None, ${values.join(", ")}}`,
    default: null,
    required: false,
    doc,
    parse: (s) => {
      const t = s.trim().replace(/^'(.*)'$/, "$1");
      return t === "None" || t === "" ? null : check(t);
    },
    print: (v) => (v === null ? "None" : v),
    fromUser: (v) => (v === null || v === undefined ? null : check(v)),
  };
}

/** Kernel geometry with MXNet's defaults filled in: stride 1, dilate 1, pad 0 per spatial dim. */
export interface Window {
  kernel: number[];
  stride: number[];
  dilate: number[];
  pad: number[];
}

/** Fills the defaults of an empty stride/dilate/pad and checks that every tuple has the kernel's length. */
export function makeWindow(kernel: readonly number[], stride: readonly number[], dilate: readonly number[], pad: readonly number[]): Window {
  const n = kernel.length;
  const fill = (t: readonly number[], def: number, what: string, min: number): number[] => {
    if (t.length === 0) return new Array<number>(n).fill(def);
    if (t.length !== n) throw new ParamError(`${what} ${tupleText(t)} must have as many dims as kernel ${tupleText(kernel)}`);
    if (t.some((v) => v < min)) throw new ParamError(`${what} ${tupleText(t)} must be >= ${min} in every dim`);
    return [...t];
  };
  if (kernel.some((k) => k < 1)) throw new ParamError(`kernel ${tupleText(kernel)} must be positive in every dim`);
  return { kernel: [...kernel], stride: fill(stride, 1, "stride", 1), dilate: fill(dilate, 1, "dilate", 1), pad: fill(pad, 0, "pad", 0) };
}

export function tupleText(t: readonly number[]): string {
  return t.length === 1 ? `(${t[0]},)` : `(${t.join(", ")})`;
}

/** The layout names MXNet accepts for 1-, 2- and 3-D spatial ops. */
export const LAYOUTS = ["NCW", "NCHW", "NCDHW", "NWC", "NHWC", "NDHWC"] as const;
export type Layout = (typeof LAYOUTS)[number];

/** Kiln's reference implementations are channel-first only; channel-last layouts fail clearly. */
export function checkChannelFirst(layout: Layout | null, spatialDims: number, what: string): void {
  if (layout === null) return;
  const want = ["NCW", "NCHW", "NCDHW"][spatialDims - 1];
  if (layout !== want)
    throw new ShapeError(`${what}: layout ${layout} is not supported (Kiln implements channel-first layouts; ${spatialDims}-D data needs ${want ?? "NCW/NCHW/NCDHW"})`);
}

/**
 * For every output position of a sliding window over the spatial dims `inSp`, the input
 * positions it reads in window order (row-major over the kernel), -1 where the window lies
 * in the padding. `table[o * K + k]` for output position o and kernel offset k.
 */
export function windowTable(inSp: readonly number[], outSp: readonly number[], w: Window): Int32Array {
  const K = shapeSize(w.kernel);
  const O = shapeSize(outSp);
  const table = new Int32Array(O * K);
  const nd = inSp.length;
  const oIdx = new Array<number>(nd).fill(0);
  for (let o = 0; o < O; o++) {
    const kIdx = new Array<number>(nd).fill(0);
    for (let k = 0; k < K; k++) {
      let flat = 0;
      let inside = true;
      for (let d = 0; d < nd; d++) {
        const pos = oIdx[d] * w.stride[d] - w.pad[d] + kIdx[d] * w.dilate[d];
        if (pos < 0 || pos >= inSp[d]) inside = false;
        flat = flat * inSp[d] + pos;
      }
      table[o * K + k] = inside ? flat : -1;
      for (let d = nd - 1; d >= 0; d--) {
        if (++kIdx[d] < w.kernel[d]) break;
        kIdx[d] = 0;
      }
    }
    for (let d = nd - 1; d >= 0; d--) {
      if (++oIdx[d] < outSp[d]) break;
      oIdx[d] = 0;
    }
  }
  return table;
}

/** Splits a shape around one axis: (outer, size of the axis, inner). */
export function splitAtAxis(shape: Shape, axis: number): [number, number, number] {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i];
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i];
  return [outer, shape[axis], inner];
}

/** Normalizes an axis, throwing a ShapeError that names the op and the shape. */
export function axisOf(axis: number, shape: Shape, what: string): number {
  const a = axis < 0 ? axis + shape.length : axis;
  if (a < 0 || a >= shape.length) throw new ShapeError(`${what}: axis ${axis} is out of range for data of shape ${shapeToBracket(shape)}`);
  return a;
}

/** erf to float64 precision: Taylor series near 0, Lentz's continued fraction for erfc beyond. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax > 6) return Math.sign(x);
  if (ax <= 2.5) {
    let term = x;
    let sum = x;
    const x2 = x * x;
    for (let n = 1; n < 200; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …))))
  const tiny = 1e-300;
  let f = ax;
  let C = ax;
  let D = 0;
  for (let n = 1; n < 300; n++) {
    const a = n / 2;
    D = ax + a * D;
    D = 1 / (Math.abs(D) < tiny ? tiny : D);
    C = ax + a / C;
    if (Math.abs(C) < tiny) C = tiny;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

/** Output names of the backward op of a layer with a weight and an optional bias. */
export function weightedLayerGradOutputs(p: { no_bias: boolean }): string[] {
  return p.no_bias ? ["data_grad", "weight_grad"] : ["data_grad", "weight_grad", "bias_grad"];
}

/** Fresh reduction axes of a compute rule and their variables. */
export function reduceAxes(ctx: ComputeCtx, ...extents: number[]): { axes: Axis[]; vars: Expr[] } {
  const axes = ctx.axes(...extents);
  return { axes, vars: axes.map((a) => v(a.name)) };
}
