/**
 * Element-wise ONNX ops: arithmetic and comparisons with numpy broadcasting (Kiln's broadcast_*
 * ops), logic, the variadic Max/Min/Sum/Mean, and unary math. ONNX's bool results are 0/1 in
 * the input's dtype (MXNet's convention); a later Cast gives them the type ONNX names.
 */
import { Symbol } from "../../symbol/symbol.js";
import type { NodeCtx } from "../node_ctx.js";
import { defineMappings, Mapper } from "./registry.js";
import { allScalar, out, cast, broadcastDims, broadcastTo } from "./util.js";
import { isFloatDType } from "../../base/dtype.js";

function binary(kilnOp: string): Mapper {
  return (n) => [out(n.op(kilnOp, { lhs: n.in(0), rhs: n.in(1) }), allScalar(n))];
}

function unary(kilnOp: string): Mapper {
  return (n) => [out(n.op(kilnOp, { data: n.in(0) }), allScalar(n))];
}

function variadic(kilnOp: string, finish?: (n: NodeCtx, s: Symbol) => Symbol): Mapper {
  return (n) => {
    if (n.numInputs === 0) n.fail("needs at least one input");
    let acc = n.in(0);
    for (let i = 1; i < n.numInputs; i++) acc = n.op(kilnOp, { lhs: acc, rhs: n.in(i) });
    if (n.numInputs === 1) acc = n.op("_copy", { data: acc });
    return [out(finish ? finish(n, acc) : acc, allScalar(n))];
  };
}

const pow: Mapper = (n) => {
  // ONNX lets the exponent have another type; Kiln's broadcast_power wants one type.
  const base = n.in(0);
  const e = cast(n, n.in(1), n.dtype(0));
  return [out(n.op("broadcast_power", { lhs: base, rhs: e }), allScalar(n))];
};

const mod: Mapper = (n) => {
  const a = n.in(0);
  const b = n.in(1);
  if (n.int("fmod", 0) === 0) return [out(n.op("broadcast_mod", { lhs: a, rhs: b }), allScalar(n))];
  if (!isFloatDType(n.dtype(0))) {
    // C's % on integers: a - b * trunc(a / b), with the division in float64 so it truncates exactly.
    const fa = n.op("Cast", { data: a, dtype: "float64" });
    const fb = n.op("Cast", { data: b, dtype: "float64" });
    const q = n.op("fix", { data: n.op("broadcast_div", { lhs: fa, rhs: fb }) });
    const r = n.op("broadcast_sub", { lhs: fa, rhs: n.op("broadcast_mul", { lhs: fb, rhs: q }) });
    return [out(n.op("Cast", { data: r, dtype: n.dtype(0) }), allScalar(n))];
  }
  // fmod: the sign of the dividend. |a| mod |b| (both positive, so sign conventions agree), signed like a.
  const r = n.op("broadcast_mod", { lhs: n.op("abs", { data: a }), rhs: n.op("abs", { data: b }) });
  return [out(n.op("broadcast_mul", { lhs: r, rhs: n.op("sign", { data: a }) }), allScalar(n))];
};

const identity: Mapper = (n) => {
  if (n.isConst(0)) return [n.konst(0, "input")];
  return [out(n.in(0), n.isScalar(0))];
};

const isInf: Mapper = (n) => {
  const x = n.in(0);
  const pos = n.int("detect_positive", 1) !== 0;
  const neg = n.int("detect_negative", 1) !== 0;
  const parts: Symbol[] = [];
  if (pos) parts.push(n.op("_equal_scalar", { data: x, scalar: Infinity }));
  if (neg) parts.push(n.op("_equal_scalar", { data: x, scalar: -Infinity }));
  let r: Symbol = parts.length ? parts[0] : n.op("zeros_like", { data: x });
  if (parts.length === 2) r = n.op("elemwise_add", { lhs: parts[0], rhs: parts[1] });
  return [out(r, allScalar(n))];
};

const isNaN: Mapper = (n) => {
  const x = n.in(0);
  return [out(n.op("elemwise_sub", { lhs: n.op("ones_like", { data: x }), rhs: n.op("_equal", { lhs: x, rhs: x }) }), allScalar(n))];
};

const where: Mapper = (n) => {
  const shapes = [0, 1, 2].map((i) => n.fullShape(i));
  const dims = broadcastDims(n, broadcastDims(n, shapes[0], shapes[1]), shapes[2]);
  const [c, x, y] = [0, 1, 2].map((i) => broadcastTo(n, n.in(i), shapes[i], dims.length ? dims : [1]));
  return [out(n.op("where", { condition: c, x, y }), dims.length === 0)];
};

const sum: Mapper = variadic("broadcast_add");

const mappings: Record<string, Mapper> = {
  Add: binary("broadcast_add"),
  Sub: binary("broadcast_sub"),
  Mul: binary("broadcast_mul"),
  Div: binary("broadcast_div"),
  Pow: pow,
  Mod: mod,
  Equal: binary("broadcast_equal"),
  Less: binary("broadcast_lesser"),
  LessOrEqual: binary("broadcast_lesser_equal"),
  Greater: binary("broadcast_greater"),
  GreaterOrEqual: binary("broadcast_greater_equal"),
  And: binary("broadcast_logical_and"),
  Or: binary("broadcast_logical_or"),
  Xor: binary("broadcast_logical_xor"),
  Not: unary("logical_not"),
  Max: variadic("broadcast_maximum"),
  Min: variadic("broadcast_minimum"),
  Sum: sum,
  Mean: variadic("broadcast_add", (n, s) => n.op("_div_scalar", { data: s, scalar: n.numInputs })),
  Abs: unary("abs"),
  Neg: unary("negative"),
  Exp: unary("exp"),
  Log: unary("log"),
  Sqrt: unary("sqrt"),
  Reciprocal: unary("reciprocal"),
  Floor: unary("floor"),
  Ceil: unary("ceil"),
  Round: unary("rint"),
  Sign: unary("sign"),
  Sin: unary("sin"),
  Cos: unary("cos"),
  Tan: unary("tan"),
  Asin: unary("arcsin"),
  Acos: unary("arccos"),
  Atan: unary("arctan"),
  Sinh: unary("sinh"),
  Cosh: unary("cosh"),
  Asinh: unary("arcsinh"),
  Acosh: unary("arccosh"),
  Atanh: unary("arctanh"),
  Erf: unary("erf"),
  IsInf: isInf,
  IsNaN: isNaN,
  Identity: identity,
  Where: where,
};

defineMappings(mappings);
