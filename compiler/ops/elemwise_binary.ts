/** Elementwise binary ops on two arrays of one shape (MXNet's elemwise_* family). */
import { defineOp, singleOutput, GradCtx } from "./registry.js";
import { Tensor } from "./tensor.js";
import { sameShape } from "./rules.js";
import type { NodeEntry } from "../ir/node.js";
import type { ShapeCtx } from "./registry.js";
import { E, Expr } from "../te/expr.js";
import type { ComputeCtx, StageBody } from "../te/stage.js";

type Grad = (g: GradCtx<Record<string, never>>) => (NodeEntry | null)[];

const common = {
  params: {},
  inputs: ["lhs", "rhs"] as const,
  ...singleOutput,
  pattern: "elemwise" as const,
  inferShape: (ctx: ShapeCtx) => sameShape(ctx),
};

/** The stage of an elementwise binary op: f of both inputs at the same index. */
export function binaryCompute(f: (a: Expr, b: Expr) => Expr) {
  return (ctx: ComputeCtx): StageBody[] => {
    const i = ctx.index();
    return [{ kind: "map", value: f(ctx.inputs[0].at(i), ctx.inputs[1].at(i)) }];
  };
}

function forwardOf(f: (a: number, b: number) => number) {
  return (_p: unknown, [a, b]: Tensor[]): Tensor[] => [a.map((x, i) => f(x, b.data[i]))];
}

export const elemwiseAdd = defineOp({
  name: "elemwise_add",
  aliases: ["_Plus", "_plus", "_add"],
  doc: "lhs + rhs",
  ...common,
  gradient: ((g) => [g.ograd(), g.ograd()]) as Grad,
  compute: binaryCompute(E.add),
  forward: forwardOf((a, b) => a + b),
});

export const elemwiseSub = defineOp({
  name: "elemwise_sub",
  aliases: ["_Minus", "_minus", "_sub"],
  doc: "lhs - rhs",
  ...common,
  gradient: ((g) => [g.ograd(), g.op1("negative", [g.ograd()])]) as Grad,
  compute: binaryCompute(E.sub),
  forward: forwardOf((a, b) => a - b),
});

export const elemwiseMul = defineOp({
  name: "elemwise_mul",
  aliases: ["_Mul", "_mul"],
  doc: "lhs * rhs",
  ...common,
  gradient: ((g) => [g.op1("elemwise_mul", [g.ograd(), g.input(1)]), g.op1("elemwise_mul", [g.ograd(), g.input(0)])]) as Grad,
  compute: binaryCompute(E.mul),
  forward: forwardOf((a, b) => a * b),
});

export const elemwiseDiv = defineOp({
  name: "elemwise_div",
  aliases: ["_Div", "_div"],
  doc: "lhs / rhs",
  ...common,
  gradient: ((g) => {
    const dl = g.op1("elemwise_div", [g.ograd(), g.input(1)]);
    // d/d rhs of lhs/rhs = -lhs/rhs² = -(1/rhs)·out
    const dr = g.op1("negative", [g.op1("elemwise_mul", [dl, g.output(0)])]);
    return [dl, dr];
  }) as Grad,
  compute: binaryCompute(E.div),
  forward: forwardOf((a, b) => a / b),
});

export const power = defineOp({
  name: "_power",
  aliases: ["_Power", "_pow"],
  doc: "lhs ** rhs",
  ...common,
  gradient: ((g) => {
    const [x, y] = [g.input(0), g.input(1)];
    const xPowYm1 = g.op1("_power", [x, g.op1("_minus_scalar", [y], { scalar: 1 })]);
    const dl = g.op1("elemwise_mul", [g.ograd(), g.op1("elemwise_mul", [y, xPowYm1])]);
    const dr = g.op1("elemwise_mul", [g.ograd(), g.op1("elemwise_mul", [g.output(0), g.op1("log", [x])])]);
    return [dl, dr];
  }) as Grad,
  compute: binaryCompute(E.pow),
  forward: forwardOf((a, b) => a ** b),
});

function selectGrad(pickLhs: (a: number, b: number) => boolean): Grad {
  // The gradient goes to whichever input was selected (lhs on ties, as MXNet).
  return (g) => {
    const mask = g.op1(pickLhs(1, 0) ? "_greater_equal" : "_lesser_equal", [g.input(0), g.input(1)]);
    const dl = g.op1("elemwise_mul", [g.ograd(), mask]);
    return [dl, g.op1("elemwise_sub", [g.ograd(), dl])];
  };
}

export const maximum = defineOp({
  name: "_maximum",
  aliases: ["_Maximum"],
  doc: "max(lhs, rhs)",
  ...common,
  gradient: selectGrad((a, b) => a >= b),
  compute: binaryCompute(E.max),
  forward: forwardOf((a, b) => Math.max(a, b)),
});

export const minimum = defineOp({
  name: "_minimum",
  aliases: ["_Minimum"],
  doc: "min(lhs, rhs)",
  ...common,
  gradient: selectGrad((a, b) => a <= b),
  compute: binaryCompute(E.min),
  forward: forwardOf((a, b) => Math.min(a, b)),
});

function compareOp<const N extends string, const A extends string>(
  name: N,
  aliases: A[],
  f: (a: number, b: number) => boolean,
  fn: "eq" | "ne" | "gt" | "ge" | "lt" | "le",
) {
  return defineOp({
    name,
    aliases,
    doc: `1 where the comparison holds, else 0`,
    ...common,
    gradient: ((): (NodeEntry | null)[] => [null, null]) as Grad,
    compute: binaryCompute((a, b) => E.fn(fn, a, b)),
    forward: forwardOf((a, b) => (f(a, b) ? 1 : 0)),
  });
}

export const equal = compareOp("_equal", ["_Equal"], (a, b) => a === b, "eq");
export const notEqual = compareOp("_not_equal", ["_Not_Equal"], (a, b) => a !== b, "ne");
export const greater = compareOp("_greater", ["_Greater"], (a, b) => a > b, "gt");
export const greaterEqual = compareOp("_greater_equal", ["_Greater_Equal"], (a, b) => a >= b, "ge");
export const lesser = compareOp("_lesser", ["_Lesser"], (a, b) => a < b, "lt");
export const lesserEqual = compareOp("_lesser_equal", ["_Lesser_Equal"], (a, b) => a <= b, "le");
