/**
 * LeakyReLU and its relatives (leaky, prelu, rrelu, elu, selu, gelu).
 *
 * rrelu draws one slope per element from U(lower_bound, upper_bound) in training (stored in
 * the hidden `mask` output, which the gradient reads) and uses (lower+upper)/2 in inference.
 * Pattern: broadcast, because prelu's gamma broadcasts along the channel axis; the other
 * types are elementwise (rrelu in training also draws random numbers).
 */
import { defineOp, ShapeCtx } from "../registry.js";
import { P, ParamValues } from "../params.js";
import { Tensor } from "../tensor.js";
import { sameShape } from "../rules.js";
import { ShapeError } from "../../base/errors.js";
import { Shape, shapeToBracket, shapesEqual } from "../../base/shape.js";
import { erf } from "./common.js";

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
