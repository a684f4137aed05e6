/** Elementwise unary arithmetic, rounding and activation-like ops (MXNet's elemwise_unary_op_basic/pow). */
import { unaryOp } from "./define.js";

const sign = (x: number): number => (x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : NaN);

export const negative = unaryOp("negative", [], "-x", (x) => -x, (g) => g.op1("negative", [g.ograd()]));
export const abs = unaryOp("abs", [], "|x|; gradient sign(x) (0 at 0)", Math.abs, { useIn: sign });
export const signOp = unaryOp("sign", [], "sign(x) ∈ {−1, 0, 1}; zero gradient", sign, "zero");
export const reciprocal = unaryOp("reciprocal", [], "1/x", (x) => 1 / x, { useIn: (x) => -1 / (x * x) });
export const square = unaryOp("square", [], "x²", (x) => x * x, { useIn: (x) => 2 * x });
export const sqrt = unaryOp("sqrt", [], "√x", Math.sqrt, { useOut: (y) => 0.5 / y });
export const rsqrt = unaryOp("rsqrt", [], "1/√x", (x) => 1 / Math.sqrt(x), { useIn: (x) => -0.5 / (x * Math.sqrt(x)) });
export const cbrt = unaryOp("cbrt", [], "∛x", Math.cbrt, { useOut: (y) => 1 / (3 * y * y) });
export const rcbrt = unaryOp("rcbrt", [], "1/∛x", (x) => 1 / Math.cbrt(x), { useIn: (x) => -1 / (3 * x * Math.cbrt(x)) });

/** C's round(): halves go away from zero (JavaScript's Math.round sends −0.5 to −0). */
const roundHalfAway = (x: number): number => (Number.isFinite(x) ? Math.sign(x) * Math.round(Math.abs(x)) : x);
/** C's rint() under the default mode: halves go to the even neighbour. */
function rintHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export const round = unaryOp("round", [], "Nearest integer, halves away from zero; zero gradient", roundHalfAway, "zero");
export const rint = unaryOp("rint", [], "Nearest integer, halves to even; zero gradient", rintHalfEven, "zero");
export const floor = unaryOp("floor", [], "⌊x⌋; zero gradient", Math.floor, "zero");
export const ceil = unaryOp("ceil", [], "⌈x⌉; zero gradient", Math.ceil, "zero");
export const trunc = unaryOp("trunc", [], "Rounds toward zero; zero gradient", Math.trunc, "zero");
export const fix = unaryOp("fix", [], "Rounds toward zero (MXNet's fix); zero gradient", Math.trunc, "zero");
export const logicalNot = unaryOp("logical_not", [], "1 where x is 0, else 0; zero gradient", (x) => (x === 0 ? 1 : 0), "zero");

export const relu = unaryOp("relu", [], "max(x, 0); gradient 1 where the output is > 0", (x) => (x > 0 ? x : x === 0 || x < 0 ? 0 : x), {
  useOut: (y) => (y > 0 ? 1 : 0),
});
export const sigmoid = unaryOp("sigmoid", [], "1/(1+e^−x)", (x) => 1 / (1 + Math.exp(-x)), { useOut: (y) => y * (1 - y) });
export const softsign = unaryOp("softsign", [], "x/(1+|x|)", (x) => x / (1 + Math.abs(x)), {
  useIn: (x) => 1 / ((1 + Math.abs(x)) * (1 + Math.abs(x))),
});
