/** Unary ops with parameters: clip and hard_sigmoid. */
import { defineOp, singleOutput } from "../registry.js";
import { P } from "../params.js";
import { sameShape } from "../rules.js";
import { E, Expr } from "../../te/expr.js";

const clipParams = {
  a_min: P.float.required("Minimum value"),
  a_max: P.float.required("Maximum value"),
};

function clipValue(x: number, lo: number, hi: number): number {
  return x > hi ? hi : x < lo ? lo : x;
}

/** clipValue as an expression (NaN passes through, as there). */
function clipExpr(x: Expr, lo: number, hi: number): Expr {
  return E.select(E.gt(x, hi), hi, E.select(E.lt(x, lo), lo, x));
}

export const clip = defineOp({
  name: "clip",
  doc: "Clips values to [a_min, a_max]; the gradient passes where a_min ≤ x ≤ a_max.",
  params: clipParams,
  inputs: ["data"],
  ...singleOutput,
  pattern: "elemwise",
  inferShape: (ctx) => sameShape(ctx),
  gradient: (g) => [g.op1("_backward_clip", [g.ograd(), g.input(0)], { a_min: g.params.a_min, a_max: g.params.a_max })],
  compute: (ctx, p) => [{ kind: "map", value: clipExpr(ctx.inputs[0].at(ctx.index()), p.a_min, p.a_max) }],
  forward: (p, [x]) => [x.map((v) => clipValue(v, p.a_min, p.a_max))],
});

export const backwardClip = defineOp({
  name: "_backward_clip",
  doc: "Gradient of clip: ograd where a_min ≤ x ≤ a_max, else 0.",
  params: clipParams,
  inputs: ["ograd", "data"],
  ...singleOutput,
  pattern: "elemwise",
  inferShape: (ctx) => sameShape(ctx),
  compute: (ctx, p) => {
    const i = ctx.index();
    const x = ctx.inputs[1].at(i);
    return [{ kind: "map", value: E.select(E.fn("or", E.gt(x, p.a_max), E.lt(x, p.a_min)), 0, ctx.inputs[0].at(i)) }];
  },
  forward: (p, [og, x]) => [og.map((g, i) => (x.data[i] > p.a_max || x.data[i] < p.a_min ? 0 : g))],
});

const hardSigmoidParams = {
  alpha: P.float(0.2, "Slope of hard sigmoid"),
  beta: P.float(0.5, "Bias of hard sigmoid"),
};

export const hardSigmoid = defineOp({
  name: "hard_sigmoid",
  doc: "max(0, min(1, alpha·x + beta)); gradient alpha where 0 < alpha·x + beta < 1.",
  params: hardSigmoidParams,
  inputs: ["data"],
  ...singleOutput,
  pattern: "elemwise",
  inferShape: (ctx) => sameShape(ctx),
  gradient: (g) => [g.op1("_backward_hard_sigmoid", [g.ograd(), g.input(0)], { alpha: g.params.alpha, beta: g.params.beta })],
  compute: (ctx, p) => [{ kind: "map", value: clipExpr(E.add(E.mul(p.alpha, ctx.inputs[0].at(ctx.index())), p.beta), 0, 1) }],
  forward: (p, [x]) => [x.map((v) => clipValue(p.alpha * v + p.beta, 0, 1))],
});

export const backwardHardSigmoid = defineOp({
  name: "_backward_hard_sigmoid",
  doc: "Gradient of hard_sigmoid.",
  params: hardSigmoidParams,
  inputs: ["ograd", "data"],
  ...singleOutput,
  pattern: "elemwise",
  inferShape: (ctx) => sameShape(ctx),
  compute: (ctx, p) => {
    const i = ctx.index();
    const v = E.add(E.mul(p.alpha, ctx.inputs[1].at(i)), p.beta);
    return [{ kind: "map", value: E.select(E.fn("and", E.gt(v, 0), E.lt(v, 1)), E.mul(ctx.inputs[0].at(i), p.alpha), 0) }];
  },
  forward: (p, [og, x]) =>
    [
      og.map((g, i) => {
        const v = p.alpha * x.data[i] + p.beta;
        return v > 0 && v < 1 ? g * p.alpha : 0;
      }),
    ],
});
