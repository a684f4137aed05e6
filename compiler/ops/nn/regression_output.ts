/**
 * LinearRegressionOutput, LogisticRegressionOutput and MAERegressionOutput: loss ops whose
 * gradient ignores the head gradient and is f(out, label)·grad_scale / num_output, where
 * num_output = label.size / label.shape[0] (MXNet's normalization by outputs per sample).
 */
import { defineOp, singleOutput } from "../registry.js";
import { P } from "../params.js";
import { Tensor } from "../tensor.js";
import { ShapeError } from "../../base/errors.js";
import { shapeSize, shapeToBracket, shapesEqual } from "../../base/shape.js";
import { E, Expr, ix } from "../../te/expr.js";
import type { ComputeCtx, StageBody } from "../../te/stage.js";

const regressionParams = { grad_scale: P.float(1, "Scales the gradient.") };

/** The scalar functions of one regression loss, as float64 code and as tensor expressions. */
interface LossFns {
  forward: (x: number) => number;
  forwardExpr: (x: Expr) => Expr;
  grad: (out: number, label: number) => number;
  gradExpr: (out: Expr, label: Expr) => Expr;
}

/** The gradient stage: f(out, label)·grad_scale/num_output, the label read at the same flat offset. */
function gradCompute(fns: LossFns) {
  return (ctx: ComputeCtx, p: { grad_scale: number }): StageBody[] => {
    const [out, label] = ctx.inputs;
    if (shapeSize(label.shape) !== shapeSize(out.shape))
      throw new ShapeError(`label ${shapeToBracket(label.shape)} does not match output ${shapeToBracket(out.shape)}`);
    const i = ctx.index();
    // The label may have another shape of the same size ((n,) for (n, 1) data).
    const at = shapesEqual(label.shape, out.shape) ? i : ix.unflatten(ix.flatten(i, out.shape), label.shape);
    const scale = p.grad_scale / (shapeSize(label.shape) / label.shape[0]);
    return [{ kind: "map", value: E.mul(fns.gradExpr(out.at(i), label.at(at)), scale) }];
  };
}

function regressionOp<const N extends string, const B extends string>(name: N, backward: B, doc: string, fns: LossFns) {
  const { forward: forwardFn, grad: gradFn } = fns;
  const row = defineOp({
    name,
    doc,
    params: regressionParams,
    inputs: ["data", "label"],
    ...singleOutput,
    isLoss: true,
    pattern: "elemwise",
    inferShape: (ctx) => {
      const d = ctx.in(0);
      if (d === undefined) return;
      const l = ctx.in(1);
      if (l === undefined) ctx.setIn(1, d.length === 2 && d[1] === 1 ? [d[0]] : d);
      else if (!d.includes(0) && !l.includes(0) && (l[0] !== d[0] || shapeSize(l) !== shapeSize(d)))
        throw new ShapeError(`label ${shapeToBracket(l)} does not match data ${shapeToBracket(d)} (same batch and size needed)`);
      ctx.setOut(0, d);
    },
    gradient: (g) => [g.op1(backward, [g.output(0), g.input(1)], g.params), null],
    compute: (ctx) => [{ kind: "map", value: fns.forwardExpr(ctx.inputs[0].at(ctx.index())) }],
    forward: (_p, [x]) => [x.map(forwardFn)],
  });
  const back = defineOp({
    name: backward,
    doc: `Gradient of ${name}.`,
    params: regressionParams,
    inputs: ["output", "label"],
    ...singleOutput,
    pattern: "elemwise",
    inferShape: (ctx) => ctx.setOut(0, ctx.in(0)),
    inferType: (ctx) => ctx.setOut(0, ctx.in(0)),
    compute: gradCompute(fns),
    forward: (p, [out, label]) => {
      if (label.size !== out.size) throw new ShapeError(`label ${shapeToBracket(label.shape)} does not match output ${shapeToBracket(out.shape)}`);
      const numOutput = label.size / label.shape[0];
      const scale = p.grad_scale / numOutput;
      return [new Tensor(out.shape, out.data.map((o, i) => gradFn(o, label.data[i]) * scale))];
    },
  });
  return [row, back] as const;
}

export const [LinearRegressionOutput, backwardLinearRegressionOutput] = regressionOp(
  "LinearRegressionOutput",
  "_backward_LinearRegressionOutput",
  "Identity forward; gradient (out − label)·grad_scale/num_output (squared loss).",
  { forward: (x) => x, forwardExpr: (x) => x, grad: (o, l) => o - l, gradExpr: (o, l) => E.sub(o, l) },
);

export const [LogisticRegressionOutput, backwardLogisticRegressionOutput] = regressionOp(
  "LogisticRegressionOutput",
  "_backward_LogisticRegressionOutput",
  "Sigmoid forward; gradient (out − label)·grad_scale/num_output (logistic loss).",
  { forward: (x) => 1 / (1 + Math.exp(-x)), forwardExpr: (x) => E.fn("sigmoid", x), grad: (o, l) => o - l, gradExpr: (o, l) => E.sub(o, l) },
);

export const [MAERegressionOutput, backwardMAERegressionOutput] = regressionOp(
  "MAERegressionOutput",
  "_backward_MAERegressionOutput",
  "Identity forward; gradient sign(out − label)·grad_scale/num_output (absolute loss).",
  { forward: (x) => x, forwardExpr: (x) => x, grad: (o, l) => Math.sign(o - l), gradExpr: (o, l) => E.fn("sign", E.sub(o, l)) },
);
