/**
 * Value reductions (MXNet's broadcast_reduce_op_value): sum, mean, prod, nansum, nanprod, max, min,
 * with params axis / keepdims / exclude, and their `_backward_*` rows that broadcast ograd back.
 * Each row is declared once with both forms: the float64 fold of the reference and the reduce
 * stage that code generation lowers.
 */
import { defineOp, singleOutput, GradCtx } from "../registry.js";
import { sameShape } from "../rules.js";
import { reduceParams, ReduceParams, reducedMask, reducedShape, reduceShapeRule, reduceTensor, expandTo, reducedCount } from "./axes.js";
import { reduceBody, resultIndexOf } from "./indexing.js";
import { E, Expr, v } from "../../te/expr.js";
import type { ReduceOp } from "../../te/stage.js";

const maskOf = (p: ReduceParams) => (ndim: number) => reducedMask(ndim, p.axis, p.exclude);

/** d out / d x per element, from ograd, the input value, the (broadcast) output and the reduced count. */
interface Local {
  f: (og: number, x: number, y: number, count: number) => number;
  e: (og: Expr, x: Expr, y: Expr, count: number) => Expr;
}

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
    compute: (ctx, p) => {
      const x = ctx.inputs[1];
      const mask = reducedMask(x.shape.length, p.axis, p.exclude);
      const i = ctx.index();
      // ograd and the output have the forward result's shape: read them where x's result is.
      const og = ctx.inputs[0].at(resultIndexOf(i, mask, p.keepdims, ctx.inputs[0].shape));
      const y = useOut ? ctx.inputs[2].at(resultIndexOf(i, mask, p.keepdims, ctx.inputs[2].shape)) : og;
      return [{ kind: "map", value: local.e(og, x.at(i), y, reducedCount(x.shape, mask)) }];
    },
    forward: (p, [og, x, y]) => {
      const mask = reducedMask(x.ndim, p.axis, p.exclude);
      const g = expandTo(og, x.shape, mask);
      const yb = y ? expandTo(y, x.shape, mask) : g;
      const count = reducedCount(x.shape, mask);
      return [x.map((v, i) => local.f(g[i], v, yb[i], count))];
    },
  });
}

interface ReduceSpec {
  doc: string;
  /** The reference fold. */
  init: number;
  step: (acc: number, v: number) => number;
  finish?: (acc: number, count: number) => number;
  /** The same as a reduce stage: op over value(x), then post (of var "acc"). */
  stage: { op: ReduceOp; value?: (x: Expr) => Expr; post?: (acc: Expr, count: number) => Expr };
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
    compute: (ctx, p) => {
      const x = ctx.inputs[0].shape;
      const mask = reducedMask(x.length, p.axis, p.exclude);
      const post = spec.stage.post?.(v("acc"), reducedCount(x, mask));
      return [reduceBody(ctx, mask, p.keepdims, spec.stage.op, spec.stage.value, post)];
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
const isnan = (x: Expr): Expr => E.fn("isnan", x);
/** ograd·out/x (prod's local derivative). */
const prodLocal = (og: Expr, x: Expr, y: Expr): Expr => E.div(E.mul(og, y), x);
/** The gradient of max/min goes to every element equal to the result. */
const argLocal: Local = { f: (og, x, y) => (x === y ? og : 0), e: (og, x, y) => E.select(E.eq(x, y), og, 0) };

export const sum = reduceOp("sum", ["sum_axis"], {
  doc: "Sum over the given axes.",
  init: 0,
  step: add,
  stage: { op: "sum" },
  grad: { useOut: false, local: { f: (og) => og, e: (og) => og } },
});
export const mean = reduceOp("mean", [], {
  doc: "Mean over the given axes.",
  init: 0,
  step: add,
  finish: (s, n) => s / n,
  stage: { op: "sum", post: (acc, n) => E.mul(acc, 1 / n) },
  grad: { useOut: false, local: { f: (og, _x, _y, n) => og / n, e: (og, _x, _y, n) => E.div(og, n) } },
});
export const prod = reduceOp("prod", [], {
  doc: "Product over the given axes; gradient ograd·out/x (as MXNet, undefined where x is 0).",
  init: 1,
  step: mul,
  stage: { op: "prod" },
  grad: { useOut: true, local: { f: (og, x, y) => (og * y) / x, e: prodLocal } },
});
export const nansum = reduceOp("nansum", [], {
  doc: "Sum over the given axes, NaN counted as 0.",
  init: 0,
  step: (a, v) => (Number.isNaN(v) ? a : a + v),
  stage: { op: "sum", value: (x) => E.select(isnan(x), 0, x) },
  grad: { useOut: false, local: { f: (og, x) => (Number.isNaN(x) ? 0 : og), e: (og, x) => E.select(isnan(x), 0, og) } },
});
export const nanprod = reduceOp("nanprod", [], {
  doc: "Product over the given axes, NaN counted as 1.",
  init: 1,
  step: (a, v) => (Number.isNaN(v) ? a : a * v),
  stage: { op: "prod", value: (x) => E.select(isnan(x), 1, x) },
  grad: {
    useOut: true,
    local: { f: (og, x, y) => (Number.isNaN(x) ? 0 : (og * y) / x), e: (og, x, y) => E.select(isnan(x), 0, prodLocal(og, x, y)) },
  },
});
export const max = reduceOp("max", ["max_axis"], {
  doc: "Maximum over the given axes; the gradient goes to every element equal to the maximum.",
  init: -Infinity,
  step: (a, v) => (v > a || Number.isNaN(v) ? v : a),
  stage: { op: "max" },
  grad: { useOut: true, local: argLocal },
});
export const min = reduceOp("min", ["min_axis"], {
  doc: "Minimum over the given axes; the gradient goes to every element equal to the minimum.",
  init: Infinity,
  step: (a, v) => (v < a || Number.isNaN(v) ? v : a),
  stage: { op: "min" },
  grad: { useOut: true, local: argLocal },
});
