/** Activation (relu, sigmoid, tanh, softrelu, softsign, and the newer log_sigmoid, mish). */
import { defineOp, singleOutput } from "../registry.js";
import { P } from "../params.js";
import { Tensor } from "../tensor.js";
import { sameShape } from "../rules.js";
import { E, Expr, num } from "../../te/expr.js";
import type { ComputeCtx, StageBody } from "../../te/stage.js";

const ACT_TYPES = ["relu", "sigmoid", "tanh", "softrelu", "softsign", "log_sigmoid", "mish"] as const;
type ActType = (typeof ACT_TYPES)[number];

const actParams = { act_type: P.enum(ACT_TYPES, undefined, "Activation function to be applied.") };

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
/** MXNet's softrelu: log(1 + eˣ), returning x itself above 20 to avoid overflow. */
const softrelu = (x: number): number => (x > 20 ? x : Math.log1p(Math.exp(x)));

const FORWARD: Record<ActType, (x: number) => number> = {
  relu: (x) => (x > 0 ? x : 0),
  sigmoid,
  tanh: Math.tanh,
  softrelu,
  softsign: (x) => x / (1 + Math.abs(x)),
  log_sigmoid: (x) => -softrelu(-x),
  mish: (x) => x * Math.tanh(softrelu(x)),
};

/** Derivatives in terms of the input (the reference recomputes rather than reading the output). */
const DERIVATIVE: Record<ActType, (x: number) => number> = {
  relu: (x) => (x > 0 ? 1 : 0),
  sigmoid: (x) => sigmoid(x) * (1 - sigmoid(x)),
  tanh: (x) => 1 - Math.tanh(x) ** 2,
  softrelu: (x) => (x > 20 ? 1 : sigmoid(x)),
  softsign: (x) => 1 / (1 + Math.abs(x)) ** 2,
  log_sigmoid: (x) => sigmoid(-x),
  mish: (x) => {
    const t = Math.tanh(softrelu(x));
    return t + x * sigmoid(x) * (1 - t * t);
  },
};

/** The same functions as tensor expressions, written as the reference computes them. */
const FORWARD_EXPR: Record<ActType, (x: Expr) => Expr> = {
  relu: (x) => E.select(E.gt(x, 0), x, num(0)),
  sigmoid: (x) => E.fn("sigmoid", x),
  tanh: (x) => E.fn("tanh", x),
  softrelu: (x) => E.fn("softrelu", x),
  softsign: (x) => E.div(x, E.add(1, E.fn("abs", x))),
  log_sigmoid: (x) => E.neg(E.fn("softrelu", E.neg(x))),
  mish: (x) => E.mul(x, E.fn("tanh", E.fn("softrelu", x))),
};

const DERIVATIVE_EXPR: Record<ActType, (x: Expr) => Expr> = {
  relu: (x) => E.select(E.gt(x, 0), num(1), num(0)),
  sigmoid: (x) => E.mul(E.fn("sigmoid", x), E.sub(1, E.fn("sigmoid", x))),
  tanh: (x) => E.sub(1, E.fn("square", E.fn("tanh", x))),
  softrelu: (x) => E.select(E.gt(x, 20), num(1), E.fn("sigmoid", x)),
  softsign: (x) => E.div(1, E.fn("square", E.add(1, E.fn("abs", x)))),
  log_sigmoid: (x) => E.fn("sigmoid", E.neg(x)),
  mish: (x) => {
    const t = E.fn("tanh", E.fn("softrelu", x));
    return E.add(t, E.mul(E.mul(x, E.fn("sigmoid", x)), E.sub(1, E.mul(t, t))));
  },
};

/**
 * Types whose derivative is a function of the output y, as MXNet computes them: backward then
 * reads y (which forward keeps anyway) instead of x, so x need not be kept for backward and a
 * convolution or FC feeding the activation can take it as an epilogue in training too.
 */
const FROM_OUTPUT: Partial<Record<ActType, { value: (y: number) => number; expr: (y: Expr) => Expr }>> = {
  relu: { value: (y) => (y > 0 ? 1 : 0), expr: (y) => E.select(E.gt(y, 0), num(1), num(0)) },
  sigmoid: { value: (y) => y * (1 - y), expr: (y) => E.mul(y, E.sub(1, y)) },
  tanh: { value: (y) => 1 - y * y, expr: (y) => E.sub(1, E.mul(y, y)) },
  // y = log(1 + eˣ): dy/dx = σ(x) = 1 − e^(−y)
  softrelu: { value: (y) => -Math.expm1(-y), expr: (y) => E.neg(E.fn("expm1", E.neg(y))) },
  // y = −log(1 + e^(−x)): dy/dx = σ(−x) = 1 − e^y
  log_sigmoid: { value: (y) => -Math.expm1(y), expr: (y) => E.neg(E.fn("expm1", y)) },
};

export const Activation = defineOp({
  name: "Activation",
  doc: "Elementwise activation: relu, sigmoid, tanh, softrelu (log(1+eˣ)), softsign (x/(1+|x|)), log_sigmoid, mish.",
  params: actParams,
  inputs: ["data"],
  ...singleOutput,
  pattern: "elemwise",
  inferShape: (ctx) => sameShape(ctx),
  gradient: (g) => [g.op1("_backward_Activation", [g.ograd(), FROM_OUTPUT[g.params.act_type as ActType] ? g.output(0) : g.input(0)], g.params)],
  compute: (ctx: ComputeCtx, p): StageBody[] => [{ kind: "map", value: FORWARD_EXPR[p.act_type](ctx.inputs[0].at(ctx.index())) }],
  forward: (p, [x]) => [x.map(FORWARD[p.act_type])],
});

export const backwardActivation = defineOp({
  name: "_backward_Activation",
  doc: "Gradient of Activation: ograd · act'(x), from the output y for relu, sigmoid, tanh, softrelu and log_sigmoid (as MXNet), else from the input x.",
  params: actParams,
  // "data" is the activation's output y for the FROM_OUTPUT types and its input x otherwise.
  inputs: ["ograd", "data"],
  ...singleOutput,
  pattern: "elemwise",
  inferShape: (ctx) => sameShape(ctx),
  compute: (ctx: ComputeCtx, p): StageBody[] => {
    const i = ctx.index();
    const d = FROM_OUTPUT[p.act_type]?.expr ?? DERIVATIVE_EXPR[p.act_type];
    return [{ kind: "map", value: E.mul(ctx.inputs[0].at(i), d(ctx.inputs[1].at(i))) }];
  },
  forward: (p, [og, x]) => {
    const d = FROM_OUTPUT[p.act_type]?.value ?? DERIVATIVE[p.act_type];
    return [new Tensor(x.shape, x.data.map((v, i) => og.data[i] * d(v)))];
  },
});
