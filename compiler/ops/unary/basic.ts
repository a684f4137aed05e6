/** Elementwise unary arithmetic, rounding and activation-like ops (MXNet's elemwise_unary_op_basic/pow). */
import { unaryOp, fn1 } from "./define.js";
import { signFn } from "./special_math.js";
import { E, Expr } from "../../te/expr.js";

const absE = (x: Expr): Expr => E.fn("abs", x);

export const negative = unaryOp("negative", [], "-x", { f: (x) => -x, e: E.neg }, (g) => g.op1("negative", [g.ograd()]));
export const abs = unaryOp("abs", [], "|x|; gradient sign(x) (0 at 0)", fn1("abs", Math.abs), { useIn: signFn });
export const signOp = unaryOp("sign", [], "sign(x) ∈ {−1, 0, 1}; zero gradient", signFn, "zero");
export const reciprocal = unaryOp("reciprocal", [], "1/x", fn1("reciprocal", (x) => 1 / x), {
  useIn: { f: (x) => -1 / (x * x), e: (x) => E.div(-1, E.mul(x, x)) },
});
export const square = unaryOp("square", [], "x²", fn1("square", (x) => x * x), { useIn: { f: (x) => 2 * x, e: (x) => E.mul(2, x) } });
export const sqrt = unaryOp("sqrt", [], "√x", fn1("sqrt", Math.sqrt), { useOut: { f: (y) => 0.5 / y, e: (y) => E.div(0.5, y) } });
export const rsqrt = unaryOp("rsqrt", [], "1/√x", fn1("rsqrt", (x) => 1 / Math.sqrt(x)), {
  useIn: { f: (x) => -0.5 / (x * Math.sqrt(x)), e: (x) => E.div(-0.5, E.mul(x, E.fn("sqrt", x))) },
});
export const cbrt = unaryOp("cbrt", [], "∛x", fn1("cbrt", Math.cbrt), {
  useOut: { f: (y) => 1 / (3 * y * y), e: (y) => E.div(1, E.mul(E.mul(3, y), y)) },
});
export const rcbrt = unaryOp("rcbrt", [], "1/∛x", { f: (x) => 1 / Math.cbrt(x), e: (x) => E.div(1, E.fn("cbrt", x)) }, {
  useIn: { f: (x) => -1 / (3 * x * Math.cbrt(x)), e: (x) => E.div(-1, E.mul(E.mul(3, x), E.fn("cbrt", x))) },
});

/** C's round(): halves go away from zero (JavaScript's Math.round sends −0.5 to −0). */
const roundHalfAway = (x: number): number => (Number.isFinite(x) ? Math.sign(x) * Math.round(Math.abs(x)) : x);
/** C's rint() under the default mode: halves go to the even neighbour. */
function rintHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export const round = unaryOp("round", [], "Nearest integer, halves away from zero; zero gradient", fn1("round", roundHalfAway), "zero");
export const rint = unaryOp("rint", [], "Nearest integer, halves to even; zero gradient", fn1("rint", rintHalfEven), "zero");
export const floor = unaryOp("floor", [], "⌊x⌋; zero gradient", fn1("floor", Math.floor), "zero");
export const ceil = unaryOp("ceil", [], "⌈x⌉; zero gradient", fn1("ceil", Math.ceil), "zero");
export const trunc = unaryOp("trunc", [], "Rounds toward zero; zero gradient", fn1("trunc", Math.trunc), "zero");
export const fix = unaryOp("fix", [], "Rounds toward zero (MXNet's fix); zero gradient", fn1("trunc", Math.trunc), "zero");
export const logicalNot = unaryOp("logical_not", [], "1 where x is 0, else 0; zero gradient", fn1("not", (x) => (x === 0 ? 1 : 0)), "zero");

// max(x, 0) with NaN passed through: ScalarFn max propagates NaN.
export const relu = unaryOp("relu", [], "max(x, 0); gradient 1 where the output is > 0", { f: (x) => (x > 0 ? x : x === 0 || x < 0 ? 0 : x), e: (x) => E.max(x, 0) }, {
  useOut: { f: (y) => (y > 0 ? 1 : 0), e: (y) => E.gt(y, 0) },
});
export const sigmoid = unaryOp("sigmoid", [], "1/(1+e^−x)", fn1("sigmoid", (x) => 1 / (1 + Math.exp(-x))), {
  useOut: { f: (y) => y * (1 - y), e: (y) => E.mul(y, E.sub(1, y)) },
});
export const softsign = unaryOp("softsign", [], "x/(1+|x|)", { f: (x) => x / (1 + Math.abs(x)), e: (x) => E.div(x, E.add(1, absE(x))) }, {
  useIn: {
    f: (x) => 1 / ((1 + Math.abs(x)) * (1 + Math.abs(x))),
    e: (x) => E.div(1, E.mul(E.add(1, absE(x)), E.add(1, absE(x)))),
  },
});
