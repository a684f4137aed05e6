/**
 * LeakyReLU and its relatives (leaky, prelu, rrelu, elu, selu, gelu).
 *
 * rrelu draws one slope per element from U(lower_bound, upper_bound) in training (stored in
 * the hidden `mask` output, which the gradient reads) and uses (lower+upper)/2 in inference.
 * Pattern: broadcast, because prelu's gamma broadcasts along the channel axis; the other
 * types are elementwise (rrelu in training also draws random numbers).
 *
 * The compute rules describe every type as the reference computes it outside training; rrelu
 * in training (random slopes) is left to `decompose`, which runs first and draws the slopes
 * from `_random_uniform` (Philox, seeded by the executor).
 */
import { defineOp, ShapeCtx } from "../registry.js";
import { P, ParamValues } from "../params.js";
import { Tensor } from "../tensor.js";
import { sameShape } from "../rules.js";
import { ShapeError } from "../../base/errors.js";
import { Shape, shapeToBracket, shapesEqual } from "../../base/shape.js";
import { erf } from "./common.js";
import { randomStream } from "../random.js";
import { E, Expr, int, num } from "../../te/expr.js";
import type { ComputeCtx, StageBody, TensorHandle } from "../../te/stage.js";
import { reduceAxes } from "./common.js";

const leakyParams = {
  act_type: P.enum(["elu", "gelu", "leaky", "prelu", "rrelu", "selu"] as const, "leaky", "Activation function to be applied."),
  slope: P.float(0.25, "Slope of the negative part (leaky), or the scale of elu."),
  lower_bound: P.float(0.125, "Lower bound of the random slope (rrelu)."),
  upper_bound: P.float(0.334, "Upper bound of the random slope (rrelu)."),
};
type LeakyParams = ParamValues<typeof leakyParams>;

const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_LAMBDA = 1.0507009873554804934193349852946;
const SQRT_2 = Math.SQRT2;

/** gamma is (C,) along axis 1, (1,) for all channels, or the data's own shape. */
function gammaIndex(gamma: Shape, data: Shape): (flat: number) => number {
  if (gamma.length === 1 && gamma[0] === 1) return () => 0;
  if (shapesEqual(gamma, data)) return (i) => i;
  if (gamma.length === 1 && data.length >= 2 && gamma[0] === data[1]) {
    let inner = 1;
    for (let i = 2; i < data.length; i++) inner *= data[i];
    return (i) => Math.floor(i / inner) % data[1];
  }
  throw new ShapeError(`gamma ${shapeToBracket(gamma)} must be (channels,) = (${data[1] ?? "?"},), (1,) or the data shape ${shapeToBracket(data)}`);
}

function inferLeakyShape(ctx: ShapeCtx, p: LeakyParams): void {
  // data, output and (rrelu) mask share one shape.
  sameShape(ctx, [0], p.act_type === "rrelu" ? [0, 1] : [0]);
  if (p.act_type !== "prelu") return;
  const d = ctx.in(0);
  if (d === undefined) return;
  if (d.length < 2) throw new ShapeError(`prelu needs data with a channel axis (>= 2 dims), got ${shapeToBracket(d)}`);
  const g = ctx.in(1);
  if (g === undefined || (g.length === 1 && g[0] === 0)) ctx.setIn(1, [d[1]]);
  else if (!d.includes(0) && !g.includes(0)) gammaIndex(g, d); // validates the shape
}

const elu = (x: number, a: number): number => (x > 0 ? x : a * Math.expm1(x));
const gelu = (x: number): number => 0.5 * x * (1 + erf(x / SQRT_2));
const geluGrad = (x: number): number => 0.5 * (1 + erf(x / SQRT_2)) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI);

/** Where gamma is read for the data element at `i`, in the cases gammaIndex accepts. */
function gammaAt(gamma: TensorHandle, data: Shape, i: readonly Expr[]): Expr[] {
  if (gamma.shape.length === 1 && gamma.shape[0] === 1) return [int(0)];
  if (shapesEqual(gamma.shape, data)) return [...i];
  gammaIndex(gamma.shape, data); // throws the reference's error for any other shape
  return [i[1]];
}

const SQRT_2PI = Math.sqrt(2 * Math.PI);
const positive = (x: Expr): Expr => E.gt(x, 0);

/** The forward value of each act type at data value x (rrelu at its inference slope). */
function forwardExpr(p: LeakyParams, x: Expr, gammaValue: () => Expr): Expr {
  switch (p.act_type) {
    case "leaky":
      return E.select(positive(x), x, E.mul(p.slope, x));
    case "prelu":
      return E.select(positive(x), x, E.mul(gammaValue(), x));
    case "rrelu":
      return E.select(positive(x), x, E.mul((p.lower_bound + p.upper_bound) / 2, x));
    case "elu":
      return E.select(positive(x), x, E.mul(p.slope, E.fn("expm1", x)));
    case "selu":
      return E.mul(SELU_LAMBDA, E.select(positive(x), x, E.mul(SELU_ALPHA, E.fn("expm1", x))));
    case "gelu":
      return E.mul(E.mul(0.5, x), E.add(1, E.fn("erf", E.div(x, SQRT_2))));
  }
}

/** d out / d data times ograd, for every type but prelu's gamma. */
function dataGradExpr(p: LeakyParams, og: Expr, x: Expr, third: () => Expr): Expr {
  switch (p.act_type) {
    case "leaky":
      return E.mul(og, E.select(positive(x), num(1), num(p.slope)));
    case "prelu":
      return E.select(positive(x), og, E.mul(og, third()));
    case "rrelu":
      return E.mul(og, E.select(positive(x), num(1), third()));
    case "elu":
      return E.mul(og, E.select(positive(x), num(1), E.mul(p.slope, E.fn("exp", x))));
    case "selu":
      return E.mul(E.mul(og, SELU_LAMBDA), E.select(positive(x), num(1), E.mul(SELU_ALPHA, E.fn("exp", x))));
    case "gelu": {
      const cdf = E.mul(0.5, E.add(1, E.fn("erf", E.div(x, SQRT_2))));
      const pdf = E.div(E.mul(x, E.fn("exp", E.mul(E.mul(-0.5, x), x))), SQRT_2PI);
      return E.mul(og, E.add(cdf, pdf));
    }
  }
}

/** prelu's gamma gradient: Σ ograd·data over the negative elements that read each gamma entry (as gammaAt). */
function preluGammaGrad(ctx: ComputeCtx, og: TensorHandle, x: TensorHandle, gamma: TensorHandle): StageBody {
  const term = (i: readonly Expr[]): Expr => E.select(positive(x.at(i)), num(0), E.mul(og.at(i), x.at(i)));
  if (gamma.shape.length === 1 && gamma.shape[0] === 1) {
    const { axes, vars } = reduceAxes(ctx, ...x.shape);
    return { kind: "reduce", op: "sum", axes, value: term(vars) };
  }
  if (shapesEqual(gamma.shape, x.shape)) return { kind: "map", value: term(ctx.index(1)) };
  gammaIndex(gamma.shape, x.shape);
  // (C,) along axis 1: reduce every other axis.
  const [c] = ctx.index(1);
  const { axes, vars } = reduceAxes(ctx, ...x.shape.filter((_, d) => d !== 1));
  return { kind: "reduce", op: "sum", axes, value: term([vars[0], c, ...vars.slice(1)]) };
}

export const LeakyReLU = defineOp({
  name: "LeakyReLU",
  doc: "leaky: x>0 ? x : slope·x; prelu: learned per-channel slope gamma; rrelu: random slope in training; elu: slope·(eˣ−1) below 0; selu; gelu (erf form).",
  params: leakyParams,
  inputs: ["data", "gamma"],
  activeInputs: (p) => (p.act_type === "prelu" ? ["data", "gamma"] : ["data"]),
  outputNames: (p) => (p.act_type === "rrelu" ? ["output", "mask"] : ["output"]),
  numVisibleOutputs: () => 1,
  pattern: "broadcast",
  inferShape: inferLeakyShape,
  gradient: (g) => {
    const t = g.params.act_type;
    if (t === "prelu") {
      const [dx, dg] = g.op("_backward_LeakyReLU", [g.ograd(), g.input(0), g.input(1)], g.params);
      return [dx, dg];
    }
    const extra = t === "rrelu" ? [g.output(1)] : [];
    return [g.op1("_backward_LeakyReLU", [g.ograd(), g.input(0), ...extra], g.params)];
  },
  compute: (ctx: ComputeCtx, p): StageBody[] => {
    const i = ctx.index();
    const [x, gamma] = ctx.inputs;
    const out: StageBody = { kind: "map", value: forwardExpr(p, x.at(i), () => gamma.at(gammaAt(gamma, x.shape, i))) };
    return p.act_type === "rrelu" ? [out, { kind: "map", value: num((p.lower_bound + p.upper_bound) / 2) }] : [out];
  },
  // rrelu in training: slopes lower + (upper − lower)·u, u uniform from the node's own stream.
  decompose: (d, p) => {
    if (p.act_type !== "rrelu" || !d.isTrain) return undefined;
    const x = d.input(0);
    const u = d.op1("_random_uniform", [d.randomSeed()], { shape: d.inputShape(0), stream: randomStream(d.node.name), dtype: d.inputType(0) });
    const mask = d.op1("_plus_scalar", [d.op1("_mul_scalar", [u], { scalar: p.upper_bound - p.lower_bound })], { scalar: p.lower_bound });
    const out = d.op1("where", [d.op1("_greater_scalar", [x], { scalar: 0 }), x, d.op1("elemwise_mul", [mask, x])]);
    return [out, mask];
  },
  forward: (p, [x, gamma], ctx) => {
    switch (p.act_type) {
      case "leaky":
        return [x.map((v) => (v > 0 ? v : p.slope * v))];
      case "prelu": {
        const gi = gammaIndex(gamma.shape, x.shape);
        return [x.map((v, i) => (v > 0 ? v : gamma.data[gi(i)] * v))];
      }
      case "rrelu": {
        const mid = (p.lower_bound + p.upper_bound) / 2;
        const mask = ctx.isTrain ? x.map(() => p.lower_bound + (p.upper_bound - p.lower_bound) * ctx.random()) : Tensor.full(x.shape, mid);
        return [x.map((v, i) => (v > 0 ? v : mask.data[i] * v)), mask];
      }
      case "elu":
        return [x.map((v) => elu(v, p.slope))];
      case "selu":
        return [x.map((v) => SELU_LAMBDA * elu(v, SELU_ALPHA))];
      case "gelu":
        return [x.map(gelu)];
    }
  },
});

export const backwardLeakyReLU = defineOp({
  name: "_backward_LeakyReLU",
  doc: "Gradient of LeakyReLU with respect to data (and gamma for prelu; rrelu reads the slopes from the mask).",
  params: leakyParams,
  inputs: ["ograd", "data", "gamma", "mask"],
  activeInputs: (p) => (p.act_type === "prelu" ? ["ograd", "data", "gamma"] : p.act_type === "rrelu" ? ["ograd", "data", "mask"] : ["ograd", "data"]),
  outputNames: (p) => (p.act_type === "prelu" ? ["data_grad", "gamma_grad"] : ["data_grad"]),
  numVisibleOutputs: (p) => (p.act_type === "prelu" ? 2 : 1),
  pattern: "broadcast",
  inferShape: (ctx, p) => {
    sameShape(ctx, [0, 1], [0]);
    if (p.act_type === "prelu") ctx.setOut(1, ctx.in(2));
  },
  compute: (ctx: ComputeCtx, p): StageBody[] => {
    const i = ctx.index();
    const [og, x, third] = ctx.inputs;
    const thirdAt = (): Expr => third.at(p.act_type === "prelu" ? gammaAt(third, x.shape, i) : i);
    const dx: StageBody = { kind: "map", value: dataGradExpr(p, og.at(i), x.at(i), thirdAt) };
    return p.act_type === "prelu" ? [dx, preluGammaGrad(ctx, og, x, third)] : [dx];
  },
  forward: (p, [og, x, third]) => {
    const s = p.slope;
    switch (p.act_type) {
      case "leaky":
        return [x.map((v, i) => og.data[i] * (v > 0 ? 1 : s))];
      case "prelu": {
        const gi = gammaIndex(third.shape, x.shape);
        const dg = new Tensor(third.shape);
        const dx = x.map((v, i) => {
          if (v > 0) return og.data[i];
          dg.data[gi(i)] += og.data[i] * v;
          return og.data[i] * third.data[gi(i)];
        });
        return [dx, dg];
      }
      case "rrelu":
        return [x.map((v, i) => og.data[i] * (v > 0 ? 1 : third.data[i]))];
      case "elu":
        return [x.map((v, i) => og.data[i] * (v > 0 ? 1 : s * Math.exp(v)))];
      case "selu":
        return [x.map((v, i) => og.data[i] * SELU_LAMBDA * (v > 0 ? 1 : SELU_ALPHA * Math.exp(v)))];
      case "gelu":
        return [x.map((v, i) => og.data[i] * geluGrad(v))];
    }
  },
});
