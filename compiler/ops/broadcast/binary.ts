/** Broadcasting binary ops (MXNet's broadcast_* family): NumPy broadcasting of lhs and rhs. */
import { defineOp, singleOutput, GradCtx } from "../registry.js";
import { Tensor, broadcastBinary } from "../tensor.js";
import { broadcastShape, reduceTo } from "./rules.js";
import { mxMod, mxModExpr } from "../unary/special_math.js";
import type { NodeEntry } from "../../ir/node.js";
import { E, Expr } from "../../te/expr.js";
import { broadcastIndex } from "./indexing.js";

type Grad = (g: GradCtx<unknown>) => (NodeEntry | null)[];

/** A binary function in its two forms: `f` for the float64 reference, `e` for the stage. */
interface BinaryFn {
  readonly f: (a: number, b: number) => number;
  readonly e: (a: Expr, b: Expr) => Expr;
}

function broadcastOp<const N extends string, const A extends string>(name: N, aliases: A[], doc: string, { f, e }: BinaryFn, gradient: Grad) {
  return defineOp({
    name,
    aliases,
    doc,
    params: {},
    inputs: ["lhs", "rhs"],
    ...singleOutput,
    pattern: "broadcast",
    inferShape: broadcastShape,
    gradient,
    // Each input read at the output index, its broadcast dims at 0.
    compute: (ctx) => {
      const i = ctx.index();
      const [a, b] = ctx.inputs;
      return [{ kind: "map", value: e(a.at(broadcastIndex(i, a.shape)), b.at(broadcastIndex(i, b.shape))) }];
    },
    forward: (_p, [a, b]: Tensor[]) => [broadcastBinary(a, b, f)],
  });
}

/** Gradients (of the broadcast shape) for lhs and rhs, each summed back to its input's shape. */
function reduced(g: GradCtx<unknown>, dl: NodeEntry, dr: NodeEntry): NodeEntry[] {
  return [reduceTo(g, dl, g.input(0)), reduceTo(g, dr, g.input(1))];
}

export const broadcastAdd = broadcastOp("broadcast_add", ["broadcast_plus"], "lhs + rhs with broadcasting", { f: (a, b) => a + b, e: E.add }, (g) =>
  reduced(g, g.ograd(), g.ograd()),
);
export const broadcastSub = broadcastOp("broadcast_sub", ["broadcast_minus"], "lhs − rhs with broadcasting", { f: (a, b) => a - b, e: E.sub }, (g) =>
  reduced(g, g.ograd(), g.op1("negative", [g.ograd()])),
);
export const broadcastMul = broadcastOp("broadcast_mul", [], "lhs · rhs with broadcasting", { f: (a, b) => a * b, e: E.mul }, (g) =>
  reduced(g, g.op1("broadcast_mul", [g.ograd(), g.input(1)]), g.op1("broadcast_mul", [g.ograd(), g.input(0)])),
);
export const broadcastDiv = broadcastOp("broadcast_div", [], "lhs / rhs with broadcasting", { f: (a, b) => a / b, e: E.div }, (g) => {
  const dl = g.op1("broadcast_div", [g.ograd(), g.input(1)]);
  // d(lhs/rhs)/drhs = −lhs/rhs² = −(1/rhs)·out
  return reduced(g, dl, g.op1("negative", [g.op1("elemwise_mul", [dl, g.output(0)])]));
});
export const broadcastMod = broadcastOp("broadcast_mod", [], "lhs mod rhs (sign of the divisor) with broadcasting", { f: mxMod, e: mxModExpr }, (g) => {
  const q = g.op1("floor", [g.op1("broadcast_div", [g.input(0), g.input(1)])]);
  return reduced(g, g.ograd(), g.op1("negative", [g.op1("elemwise_mul", [g.ograd(), q])]));
});
export const broadcastPower = broadcastOp("broadcast_power", [], "lhs ** rhs with broadcasting", { f: (a, b) => a ** b, e: E.pow }, (g) => {
  const [x, y] = [g.input(0), g.input(1)];
  const xPowYm1 = g.op1("broadcast_power", [x, g.op1("_minus_scalar", [y], { scalar: 1 })]);
  const dl = g.op1("broadcast_mul", [g.ograd(), g.op1("broadcast_mul", [y, xPowYm1])]);
  const dr = g.op1("elemwise_mul", [g.ograd(), g.op1("broadcast_mul", [g.output(0), g.op1("log", [x])])]);
  return reduced(g, dl, dr);
});

/** max/min: the gradient goes to the selected input, lhs on ties (as MXNet: ge/lt, le/gt). */
function selectGrad(lhsMask: "broadcast_greater_equal" | "broadcast_lesser_equal"): Grad {
  return (g) => {
    const dl = g.op1("elemwise_mul", [g.ograd(), g.op1(lhsMask, [g.input(0), g.input(1)])]);
    return reduced(g, dl, g.op1("elemwise_sub", [g.ograd(), dl]));
  };
}

export const broadcastMaximum = broadcastOp("broadcast_maximum", [], "max(lhs, rhs) with broadcasting", { f: Math.max, e: E.max }, selectGrad("broadcast_greater_equal"));
export const broadcastMinimum = broadcastOp("broadcast_minimum", [], "min(lhs, rhs) with broadcasting", { f: Math.min, e: E.min }, selectGrad("broadcast_lesser_equal"));
export const broadcastHypot = broadcastOp("broadcast_hypot", [], "√(lhs² + rhs²) with broadcasting", { f: Math.hypot, e: (a, b) => E.fn("hypot", a, b) }, (g) => {
  const q = g.op1("elemwise_div", [g.ograd(), g.output(0)]);
  return reduced(g, g.op1("broadcast_mul", [q, g.input(0)]), g.op1("broadcast_mul", [q, g.input(1)]));
});

const zeroGrad: Grad = () => [null, null];
const b = (v: boolean): number => (v ? 1 : 0);

export const broadcastEqual = broadcastOp("broadcast_equal", [], "1 where lhs == rhs (broadcasting), else 0", { f: (x, y) => b(x === y), e: E.eq }, zeroGrad);
export const broadcastNotEqual = broadcastOp("broadcast_not_equal", [], "1 where lhs != rhs (broadcasting)", { f: (x, y) => b(x !== y), e: E.ne }, zeroGrad);
export const broadcastGreater = broadcastOp("broadcast_greater", [], "1 where lhs > rhs (broadcasting)", { f: (x, y) => b(x > y), e: E.gt }, zeroGrad);
export const broadcastGreaterEqual = broadcastOp("broadcast_greater_equal", [], "1 where lhs >= rhs (broadcasting)", { f: (x, y) => b(x >= y), e: E.ge }, zeroGrad);
export const broadcastLesser = broadcastOp("broadcast_lesser", [], "1 where lhs < rhs (broadcasting)", { f: (x, y) => b(x < y), e: E.lt }, zeroGrad);
export const broadcastLesserEqual = broadcastOp("broadcast_lesser_equal", [], "1 where lhs <= rhs (broadcasting)", { f: (x, y) => b(x <= y), e: E.le }, zeroGrad);
export const broadcastLogicalAnd = broadcastOp("broadcast_logical_and", [], "lhs && rhs (broadcasting)", { f: (x, y) => b(x !== 0 && y !== 0), e: (x, y) => E.fn("and", x, y) }, zeroGrad);
export const broadcastLogicalOr = broadcastOp("broadcast_logical_or", [], "lhs || rhs (broadcasting)", { f: (x, y) => b(x !== 0 || y !== 0), e: (x, y) => E.fn("or", x, y) }, zeroGrad);
export const broadcastLogicalXor = broadcastOp("broadcast_logical_xor", [], "xor(lhs, rhs) (broadcasting)", { f: (x, y) => b((x !== 0) !== (y !== 0)), e: (x, y) => E.ne(E.ne(x, 0), E.ne(y, 0)) }, zeroGrad);
