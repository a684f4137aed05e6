/**
 * Builder of MXNet's binary-scalar rows (`x op scalar` elementwise, param `scalar`) and of their
 * `_backward_<name>` rows (inputs ograd and the op's input or output, same params). Each
 * function is declared once in both forms: `f` for the float64 reference, `e` for the
 * tensor-expression stage (the scalar is a compile-time constant there).
 */
import { defineOp, singleOutput, GradCtx, ShapeCtx } from "../registry.js";
import { P, ParamValues } from "../params.js";
import { sameShape } from "../rules.js";
import type { NodeEntry } from "../../ir/node.js";
import { E, Expr } from "../../te/expr.js";
import type { ComputeCtx, StageBody } from "../../te/stage.js";

export const scalarParams = {
  scalar: P.float(1, "Scalar input value"),
  is_int: P.bool(true, "Whether the scalar was an integer (MXNet 1.8+ files); Kiln computes in floating point either way"),
};
export type ScalarParams = ParamValues<typeof scalarParams>;

/** A function of an element and the scalar, in its two forms, which must agree. */
export interface ScalarFnPair {
  readonly f: (x: number, s: number) => number;
  readonly e: (x: Expr, s: number) => Expr;
}

export type ScalarGrad =
  | "zero"
  | "identity"
  | { useIn: ScalarFnPair }
  | { useOut: ScalarFnPair }
  | ((g: GradCtx<ScalarParams>) => NodeEntry);

const elemwiseShape = (ctx: ShapeCtx): void => sameShape(ctx);

function defineBackwardScalar(name: string, second: "data" | "output", d: ScalarFnPair): void {
  defineOp({
    name: `_backward_${name}`,
    doc: `Gradient of ${name}: ograd · ∂/∂x.`,
    params: scalarParams,
    inputs: ["ograd", second],
    ...singleOutput,
    pattern: "elemwise",
    inferShape: elemwiseShape,
    compute: (ctx: ComputeCtx, p): StageBody[] => {
      const i = ctx.index();
      return [{ kind: "map", value: E.mul(ctx.inputs[0].at(i), d.e(ctx.inputs[1].at(i), p.scalar)) }];
    },
    forward: (p, [og, v]) => [og.map((g, i) => g * d.f(v.data[i], p.scalar))],
  });
}

/** Declares `name`: out = fn(x, scalar) elementwise. */
export function scalarOp<const N extends string, const A extends string>(name: N, aliases: A[], doc: string, fn: ScalarFnPair, grad: ScalarGrad) {
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
    compute: (ctx, p) => [{ kind: "map", value: fn.e(ctx.inputs[0].at(ctx.index()), p.scalar) }],
    forward: (p, [x]) => [x.map((v) => fn.f(v, p.scalar))],
  });
}
