/** Exponentials, logarithms, trigonometric and hyperbolic functions, erf (MXNet's logexp/trig ops). */
import { unaryOp, fn1 } from "./define.js";
import { erf as erfValue, erfinv as erfinvValue, erfDerivative } from "./special_math.js";
import { E, Expr, num } from "../../te/expr.js";

const f = E.fn;
/** 1/√(a) as an expression. */
const invSqrt = (a: Expr): Expr => E.div(1, f("sqrt", a));
/** erf'(x) = 2/√π · e^(−x²). */
const erfDerivativeE = (x: Expr): Expr => E.mul(2 / Math.sqrt(Math.PI), f("exp", E.neg(E.mul(x, x))));

export const exp = unaryOp("exp", [], "eˣ", fn1("exp", Math.exp), (g) => g.op1("elemwise_mul", [g.ograd(), g.output(0)]));
export const expm1 = unaryOp("expm1", [], "eˣ − 1, accurate near 0", fn1("expm1", Math.expm1), { useIn: fn1("exp", Math.exp) });
export const log = unaryOp("log", [], "ln x", fn1("log", Math.log), (g) => g.op1("elemwise_div", [g.ograd(), g.input(0)]));
export const log10 = unaryOp("log10", [], "log₁₀ x", fn1("log10", Math.log10), {
  useIn: { f: (x) => 1 / (x * Math.LN10), e: (x) => E.div(1, E.mul(x, Math.LN10)) },
});
export const log2 = unaryOp("log2", [], "log₂ x", fn1("log2", Math.log2), {
  useIn: { f: (x) => 1 / (x * Math.LN2), e: (x) => E.div(1, E.mul(x, Math.LN2)) },
});
export const log1p = unaryOp("log1p", [], "ln(1 + x), accurate near 0", fn1("log1p", Math.log1p), {
  useIn: { f: (x) => 1 / (1 + x), e: (x) => E.div(1, E.add(1, x)) },
});

export const sin = unaryOp("sin", [], "sin x", fn1("sin", Math.sin), { useIn: fn1("cos", Math.cos) });
export const cos = unaryOp("cos", [], "cos x", fn1("cos", Math.cos), { useIn: { f: (x) => -Math.sin(x), e: (x) => E.neg(f("sin", x)) } });
export const tan = unaryOp("tan", [], "tan x", fn1("tan", Math.tan), { useOut: { f: (y) => 1 + y * y, e: (y) => E.add(1, E.mul(y, y)) } });
export const arcsin = unaryOp("arcsin", [], "asin x", fn1("asin", Math.asin), {
  useIn: { f: (x) => 1 / Math.sqrt(1 - x * x), e: (x) => invSqrt(E.sub(1, E.mul(x, x))) },
});
export const arccos = unaryOp("arccos", [], "acos x", fn1("acos", Math.acos), {
  useIn: { f: (x) => -1 / Math.sqrt(1 - x * x), e: (x) => E.div(-1, f("sqrt", E.sub(1, E.mul(x, x)))) },
});
export const arctan = unaryOp("arctan", [], "atan x", fn1("atan", Math.atan), {
  useIn: { f: (x) => 1 / (1 + x * x), e: (x) => E.div(1, E.add(1, E.mul(x, x))) },
});
export const degrees = unaryOp("degrees", [], "Radians to degrees", { f: (x) => (x * 180) / Math.PI, e: (x) => E.div(E.mul(x, 180), Math.PI) }, {
  useIn: { f: () => 180 / Math.PI, e: () => num(180 / Math.PI) },
});
export const radians = unaryOp("radians", [], "Degrees to radians", { f: (x) => (x * Math.PI) / 180, e: (x) => E.div(E.mul(x, Math.PI), 180) }, {
  useIn: { f: () => Math.PI / 180, e: () => num(Math.PI / 180) },
});

export const sinh = unaryOp("sinh", [], "sinh x", fn1("sinh", Math.sinh), { useIn: fn1("cosh", Math.cosh) });
export const cosh = unaryOp("cosh", [], "cosh x", fn1("cosh", Math.cosh), { useIn: fn1("sinh", Math.sinh) });
export const tanh = unaryOp("tanh", [], "tanh x", fn1("tanh", Math.tanh), { useOut: { f: (y) => 1 - y * y, e: (y) => E.sub(1, E.mul(y, y)) } });
export const arcsinh = unaryOp("arcsinh", [], "asinh x", fn1("asinh", Math.asinh), {
  useIn: { f: (x) => 1 / Math.sqrt(x * x + 1), e: (x) => invSqrt(E.add(E.mul(x, x), 1)) },
});
export const arccosh = unaryOp("arccosh", [], "acosh x", fn1("acosh", Math.acosh), {
  useIn: { f: (x) => 1 / Math.sqrt(x * x - 1), e: (x) => invSqrt(E.sub(E.mul(x, x), 1)) },
});
export const arctanh = unaryOp("arctanh", [], "atanh x", fn1("atanh", Math.atanh), {
  useIn: { f: (x) => 1 / (1 - x * x), e: (x) => E.div(1, E.sub(1, E.mul(x, x))) },
});

// The reference uses its own erf/erfinv (special_math); ScalarFn erf/erfinv are the same functions.
export const erf = unaryOp("erf", [], "The error function 2/√π ∫₀ˣ e^(−t²) dt", fn1("erf", erfValue), {
  useIn: { f: erfDerivative, e: erfDerivativeE },
});
export const erfinv = unaryOp("erfinv", [], "Inverse of erf on (−1, 1)", fn1("erfinv", erfinvValue), {
  useIn: { f: (x) => 1 / erfDerivative(erfinvValue(x)), e: (x) => E.div(1, erfDerivativeE(f("erfinv", x))) },
});
