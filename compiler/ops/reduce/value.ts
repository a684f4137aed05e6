/**
 * Value reductions (MXNet's broadcast_reduce_op_value): sum, mean, prod, nansum, nanprod, max, min,
 * with params axis / keepdims / exclude, and their `_backward_*` rows that broadcast ograd back.
 */
import { defineOp, singleOutput, GradCtx } from "../registry.js";
import { sameShape } from "../rules.js";
import { reduceParams, ReduceParams, reducedMask, reducedShape, reduceShapeRule, reduceTensor, expandTo, reducedCount } from "./axes.js";

const maskOf = (p: ReduceParams) => (ndim: number) => reducedMask(ndim, p.axis, p.exclude);

/** d out / d x per element, from ograd, the input value, the (broadcast) output and the reduced count. */
type Local = (og: number, x: number, y: number, count: number) => number;

function defineBackwardReduce(name: string, useOut: boolean, local: Local): void {
  defineOp({
    name: `_backward_${name}`,
    doc: `Gradient of ${name}: ograd broadcast back over the reduced axes, times the local derivative.`,
    params: reduceParams,
    inputs: useOut ? ["ograd", "data", "output"] : ["ograd", "data"],
    ...singleOutput,
    pattern: "broadcast",
    inferShape: (ctx) => sameShape(ctx, [1], [0]),
    inferType: (ctx) => ctx.sameType([1], [0]),
    forward: (p, [og, x, y]) => {
      const mask = reducedMask(x.ndim, p.axis, p.exclude);
      const g = expandTo(og, x.shape, mask);
      const yb = y ? expandTo(y, x.shape, mask) : g;
      const count = reducedCount(x.shape, mask);
      return [x.map((v, i) => local(g[i], v, yb[i], count))];
    },
  });
}

interface ReduceSpec {
  doc: string;
  init: number;
  step: (acc: number, v: number) => number;
  finish?: (acc: number, count: number) => number;
  grad: { useOut: boolean; local: Local };
}

function reduceOp<const N extends string, const A extends string>(name: N, aliases: A[], spec: ReduceSpec) {
  defineBackwardReduce(name, spec.grad.useOut, spec.grad.local);
  return defineOp({
    name,
    aliases,
    doc: spec.doc,
    params: reduceParams,
    inputs: ["data"],
    ...singleOutput,
    pattern: "reduce",
    inferShape: (ctx, p) => reduceShapeRule(ctx, maskOf(p), p.keepdims),
    gradient: (g: GradCtx<ReduceParams>) => {
      const ins = [g.ograd(), g.input(0), ...(spec.grad.useOut ? [g.output(0)] : [])];
      return [g.op1(`_backward_${name}`, ins, { axis: g.params.axis, keepdims: g.params.keepdims, exclude: g.params.exclude })];
    },
    forward: (p, [x]) => {
      const mask = reducedMask(x.ndim, p.axis, p.exclude);
      let r = reduceTensor(x, mask, spec.init, spec.step);
      if (spec.finish) {
        const count = reducedCount(x.shape, mask);
        r = r.map((v) => spec.finish!(v, count));
      }
      return [r.reshape(reducedShape(x.shape, mask, p.keepdims))];
    },
  });
}

const add = (a: number, v: number): number => a + v;
const mul = (a: number, v: number): number => a * v;

export const sum = reduceOp("sum", ["sum_axis"], {
  doc: "Sum over the given axes.",
  init: 0,
  step: add,
  grad: { useOut: false, local: (og) => og },
});
export const mean = reduceOp("mean", [], {
  doc: "Mean over the given axes.",
  init: 0,
  step: add,
  finish: (s, n) => s / n,
  grad: { useOut: false, local: (og, _x, _y, n) => og / n },
});
export const prod = reduceOp("prod", [], {
  doc: "Product over the given axes; gradient ograd·out/x (as MXNet, undefined where x is 0).",
  init: 1,
  step: mul,
  grad: { useOut: true, local: (og, x, y) => (og * y) / x },
});
export const nansum = reduceOp("nansum", [], {
  doc: "Sum over the given axes, NaN counted as 0.",
  init: 0,
  step: (a, v) => (Number.isNaN(v) ? a : a + v),
  grad: { useOut: false, local: (og, x) => (Number.isNaN(x) ? 0 : og) },
});
export const nanprod = reduceOp("nanprod", [], {
  doc: "Product over the given axes, NaN counted as 1.",
  init: 1,
  step: (a, v) => (Number.isNaN(v) ? a : a * v),
  grad: { useOut: true, local: (og, x, y) => (Number.isNaN(x) ? 0 : (og * y) / x) },
});
export const max = reduceOp("max", ["max_axis"], {
  doc: "Maximum over the given axes; the gradient goes to every element equal to the maximum.",
  init: -Infinity,
  step: (a, v) => (v > a || Number.isNaN(v) ? v : a),
  grad: { useOut: true, local: (og, x, y) => (x === y ? og : 0) },
});
export const min = reduceOp("min", ["min_axis"], {
  doc: "Minimum over the given axes; the gradient goes to every element equal to the minimum.",
  init: Infinity,
  step: (a, v) => (v < a || Number.isNaN(v) ? v : a),
  grad: { useOut: true, local: (og, x, y) => (x === y ? og : 0) },
});
