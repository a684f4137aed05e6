/**
 * Builders of elementwise unary rows: a forward row `name` and, when its derivative is a
 * pointwise function of the input or the output, an internal `_backward_<name>` row computing
 * ograd · f'(·) in one node (MXNet's ElemwiseGradUseIn / ElemwiseGradUseOut pattern).
 * Every scalar function is declared once with both of its forms: `f` for the float64
 * reference and `e` for the tensor-expression stage code generation lowers.
 */
import { defineOp, singleOutput, GradCtx, ShapeCtx } from "../registry.js";
import { Tensor } from "../tensor.js";
import { sameShape } from "../rules.js";
import type { NodeEntry } from "../../ir/node.js";
import { E, Expr, ScalarFn } from "../../te/expr.js";
import type { ComputeCtx, StageBody } from "../../te/stage.js";

/** A pointwise function in its two forms, which must agree (the op tests check that). */
export interface UnaryFn {
  readonly f: (x: number) => number;
  readonly e: (x: Expr) => Expr;
}

/** How a unary op's gradient is formed. */
export type UnaryGrad =
  /** Zero gradient (rounding, sign, logical ops): MXNet's MakeZeroGradNodes. */
  | "zero"
  /** ograd · d(x) with x the op's input, in a `_backward_<name>` node. */
  | { useIn: UnaryFn }
  /** ograd · d(y) with y the op's output, in a `_backward_<name>` node. */
  | { useOut: UnaryFn }
  /** Graph nodes composed from other ops. */
  | ((g: GradCtx<unknown>) => NodeEntry);

const elemwiseShape = (ctx: ShapeCtx): void => sameShape(ctx);

/** The stage of a unary op: f of input 0 at the output index. */
export function unaryCompute(e: (x: Expr) => Expr) {
  return (ctx: ComputeCtx): StageBody[] => [{ kind: "map", value: e(ctx.inputs[0].at(ctx.index())) }];
}

/** The stage of a backward row (ograd, v): ograd · d(v). */
export function backwardUnaryCompute(d: (v: Expr) => Expr) {
  return (ctx: ComputeCtx): StageBody[] => {
    const i = ctx.index();
    return [{ kind: "map", value: E.mul(ctx.inputs[0].at(i), d(ctx.inputs[1].at(i))) }];
  };
}

/** The internal backward row of a unary op: inputs (ograd, data or output). */
function defineBackwardUnary(name: string, second: "data" | "output", d: UnaryFn): void {
  defineOp({
    name: `_backward_${name}`,
    doc: `Gradient of ${name}: ograd · ${name}'(${second === "data" ? "x" : "y"}).`,
    params: {},
    inputs: ["ograd", second],
    ...singleOutput,
    pattern: "elemwise",
    inferShape: elemwiseShape,
    compute: backwardUnaryCompute(d.e),
    forward: (_p, [og, v]) => [og.map((g, i) => g * d.f(v.data[i]))],
  });
}

/** Declares an elementwise unary op `name` computing fn(x), with its gradient rule. */
export function unaryOp<const N extends string, const A extends string>(name: N, aliases: A[], doc: string, fn: UnaryFn, grad: UnaryGrad) {
  let gradient: (g: GradCtx<unknown>) => (NodeEntry | null)[];
  if (grad === "zero") gradient = () => [null];
  else if (typeof grad === "function") gradient = (g) => [grad(g)];
  else if ("useIn" in grad) {
    defineBackwardUnary(name, "data", grad.useIn);
    gradient = (g) => [g.op1(`_backward_${name}`, [g.ograd(), g.input(0)])];
  } else {
    defineBackwardUnary(name, "output", grad.useOut);
    gradient = (g) => [g.op1(`_backward_${name}`, [g.ograd(), g.output(0)])];
  }
  return defineOp({
    name,
    aliases,
    doc,
    params: {},
    inputs: ["data"],
    ...singleOutput,
    pattern: "elemwise",
    inferShape: elemwiseShape,
    gradient,
    compute: unaryCompute(fn.e),
    forward: (_p, [x]: Tensor[]) => [x.map(fn.f)],
  });
}

/** A ScalarFn of one argument whose meaning (te/scalar_fns) is exactly the given JS function. */
export function fn1(name: ScalarFn, f: (x: number) => number): UnaryFn {
  return { f, e: (x) => E.fn(name, x) };
}
