/**
 * Builder of MXNet's binary-scalar rows (`x op scalar` elementwise, param `scalar`) and of their
 * `_backward_<name>` rows (inputs ograd and the op's input or output, same params).
 */
import { defineOp, singleOutput, GradCtx, ShapeCtx } from "../registry.js";
import { P, ParamValues } from "../params.js";
import { sameShape } from "../rules.js";
import type { NodeEntry } from "../../ir/node.js";

export const scalarParams = {
  scalar: P.float(1, "Scalar input value"),
  is_int: P.bool(true, "Whether the scalar was an integer (MXNet 1.8+ files); Kiln computes in floating point either way"),
};
export type ScalarParams = ParamValues<typeof scalarParams>;

export type ScalarGrad =
  | "zero"
  | "identity"
  | { useIn: (x: number, s: number) => number }
  | { useOut: (y: number, s: number) => number }
  | ((g: GradCtx<ScalarParams>) => NodeEntry);

const elemwiseShape = (ctx: ShapeCtx): void => sameShape(ctx);

function defineBackwardScalar(name: string, second: "data" | "output", d: (v: number, s: number) => number): void {
  defineOp({
    name: `_backward_${name}`,
    doc: `Gradient of ${name}: ograd · ∂/∂x.`,
    params: scalarParams,
    inputs: ["ograd", second],
    ...singleOutput,
    pattern: "elemwise",
    inferShape: elemwiseShape,
    forward: (p, [og, v]) => [og.map((g, i) => g * d(v.data[i], p.scalar))],
  });
}

/** Declares `name`: out = f(x, scalar) elementwise. */
export function scalarOp<const N extends string, const A extends string>(
  name: N,
  aliases: A[],
  doc: string,
  f: (x: number, s: number) => number,
  grad: ScalarGrad,
) {
  let gradient: (g: GradCtx<ScalarParams>) => (NodeEntry | null)[];
  if (grad === "zero") gradient = () => [null];
  else if (grad === "identity") gradient = (g) => [g.ograd()];
  else if (typeof grad === "function") gradient = (g) => [grad(g)];
  else if ("useIn" in grad) {
    defineBackwardScalar(name, "data", grad.useIn);
    gradient = (g) => [g.op1(`_backward_${name}`, [g.ograd(), g.input(0)], { scalar: g.params.scalar })];
  } else {
    defineBackwardScalar(name, "output", grad.useOut);
    gradient = (g) => [g.op1(`_backward_${name}`, [g.ograd(), g.output(0)], { scalar: g.params.scalar })];
  }
  return defineOp({
    name,
    aliases,
    doc,
    params: scalarParams,
    inputs: ["data"],
    ...singleOutput,
    pattern: "elemwise",
    inferShape: elemwiseShape,
    gradient,
    forward: (p, [x]) => [x.map((v) => f(v, p.scalar))],
  });
}
