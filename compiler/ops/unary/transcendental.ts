/** Exponentials, logarithms, trigonometric and hyperbolic functions, erf (MXNet's logexp/trig ops). */
import { unaryOp } from "./define.js";
import { erf as erfValue, erfinv as erfinvValue, erfDerivative } from "./special_math.js";

export const exp = unaryOp("exp", [], "eˣ", Math.exp, (g) => g.op1("elemwise_mul", [g.ograd(), g.output(0)]));
export const expm1 = unaryOp("expm1", [], "eˣ − 1, accurate near 0", Math.expm1, { useIn: Math.exp });
export const log = unaryOp("log", [], "ln x", Math.log, (g) => g.op1("elemwise_div", [g.ograd(), g.input(0)]));
export const log10 = unaryOp("log10", [], "log₁₀ x", Math.log10, { useIn: (x) => 1 / (x * Math.LN10) });
export const log2 = unaryOp("log2", [], "log₂ x", Math.log2, { useIn: (x) => 1 / (x * Math.LN2) });
export const log1p = unaryOp("log1p", [], "ln(1 + x), accurate near 0", Math.log1p, { useIn: (x) => 1 / (1 + x) });

export const sin = unaryOp("sin", [], "sin x", Math.sin, { useIn: Math.cos });
export const cos = unaryOp("cos", [], "cos x", Math.cos, { useIn: (x) => -Math.sin(x) });
export const tan = unaryOp("tan", [], "tan x", Math.tan, { useOut: (y) => 1 + y * y });
export const arcsin = unaryOp("arcsin", [], "asin x", Math.asin, { useIn: (x) => 1 / Math.sqrt(1 - x * x) });
export const arccos = unaryOp("arccos", [], "acos x", Math.acos, { useIn: (x) => -1 / Math.sqrt(1 - x * x) });
export const arctan = unaryOp("arctan", [], "atan x", Math.atan, { useIn: (x) => 1 / (1 + x * x) });
export const degrees = unaryOp("degrees", [], "Radians to degrees", (x) => (x * 180) / Math.PI, { useIn: () => 180 / Math.PI });
export const radians = unaryOp("radians", [], "Degrees to radians", (x) => (x * Math.PI) / 180, { useIn: () => Math.PI / 180 });

export const sinh = unaryOp("sinh", [], "sinh x", Math.sinh, { useIn: Math.cosh });
export const cosh = unaryOp("cosh", [], "cosh x", Math.cosh, { useIn: Math.sinh });
export const tanh = unaryOp("tanh", [], "tanh x", Math.tanh, { useOut: (y) => 1 - y * y });
export const arcsinh = unaryOp("arcsinh", [], "asinh x", Math.asinh, { useIn: (x) => 1 / Math.sqrt(x * x + 1) });
export const arccosh = unaryOp("arccosh", [], "acosh x", Math.acosh, { useIn: (x) => 1 / Math.sqrt(x * x - 1) });
export const arctanh = unaryOp("arctanh", [], "atanh x", Math.atanh, { useIn: (x) => 1 / (1 - x * x) });

export const erf = unaryOp("erf", [], "The error function 2/√π ∫₀ˣ e^(−t²) dt", erfValue, { useIn: erfDerivative });
export const erfinv = unaryOp("erfinv", [], "Inverse of erf on (−1, 1)", erfinvValue, {
  useIn: (x) => 1 / erfDerivative(erfinvValue(x)),
});
