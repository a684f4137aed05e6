/**
 * Builders of elementwise unary rows: a forward row `name` and, when its derivative is a
 * pointwise function of the input or the output, an internal `_backward_<name>` row computing
 * ograd · f'(·) in one node (MXNet's ElemwiseGradUseIn / ElemwiseGradUseOut pattern).
 */
import { defineOp, singleOutput, GradCtx, ShapeCtx } from "../registry.js";
import { Tensor } from "../tensor.js";
import { sameShape } from "../rules.js";
import type { NodeEntry } from "../../ir/node.js";

/** How a unary op's gradient is formed. */
export type UnaryGrad =
  /** Zero gradient (rounding, sign, logical ops): MXNet's MakeZeroGradNodes. */
  | "zero"
  /** ograd · d(x) with x the op's input, in a `_backward_<name>` node. */
  | { useIn: (x: number) => number }
  /** ograd · d(y) with y the op's output, in a `_backward_<name>` node. */
  | { useOut: (y: number) => number }
  /** Graph nodes composed from other ops. */
  | ((g: GradCtx<unknown>) => NodeEntry);

const elemwiseShape = (ctx: ShapeCtx): void => sameShape(ctx);

/** The internal backward row of a unary op: inputs (ograd, data or output). */
function defineBackwardUnary(name: string, second: "data" | "output", d: (v: number) => number): void {
  defineOp({
    name: `_backward_${name}`,
    doc: `Gradient of ${name}: ograd · ${name}'(${second === "data" ? "x" : "y"}).`,
    params: {},
    inputs: ["ograd", second],
    ...singleOutput,
    pattern: "elemwise",
    inferShape: elemwiseShape,
    forward: (_p, [og, v]) => [og.map((g, i) => g * d(v.data[i]))],
  });
}

/** Declares an elementwise unary op `name` computing f(x), with its gradient rule. */
export function unaryOp<const N extends string, const A extends string>(name: N, aliases: A[], doc: string, f: (x: number) => number, grad: UnaryGrad) {
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
    forward: (_p, [x]: Tensor[]) => [x.map(f)],
  });
}
