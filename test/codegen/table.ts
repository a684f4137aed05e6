/**
 * The codegen test table: stages covering every scalar function, select, casts, index patterns,
 * every reduction, scatter, accumulation and every input dtype, and the contractions of
 * gemm_table.ts (family "gemm": they must take the GEMM schedule). The C++ test compiles them
 * into one module and compares with the interpreter; the CUDA test compiles the same table with nvcc.
 */
import type { DType } from "../../compiler/base/dtype.js";
import { E, Expr, ScalarFn, Var, call, cast, int, ix, load, num, v } from "../../compiler/te/expr.js";
import { ReduceOp, Stage, StageBody, TensorType, indexVars, stageOf } from "../../compiler/te/stage.js";
import type { Kernel } from "../../compiler/ir/kernel.js";
import { GEMM_CASES } from "./gemm_table.js";

/** How to fill an input: uniform in [lo, hi) (integers for integer dtypes, or `ints`), plus special values at some positions. */
export interface Fill {
  lo: number;
  hi: number;
  ints?: boolean;
  special?: number[];
}

export interface Case {
  kernel: Kernel;
  fills: Fill[];
  /** The output's starting values when accumulating (random in [-1, 1)). */
  family: "map" | "reduce" | "scatter" | "gemm";
}

export const T = (dtype: DType, ...shape: number[]): TensorType => ({ shape, dtype });
const F = (lo: number, hi: number, extra: Partial<Fill> = {}): Fill => ({ lo, hi, ...extra });

const cases: Case[] = [];

function add(name: string, inputs: TensorType[], out: TensorType, body: StageBody, fills: Fill[], accumulate = false, vars?: string[]): void {
  const stage: Stage = { ...stageOf(inputs, out, body), ...(vars ? { vars } : {}) };
  cases.push({ kernel: { name: `cg_${name}`, stage, accumulate, ops: [name] }, fills, family: body.kind });
}

function map(name: string, inputs: TensorType[], out: TensorType, f: (i: Var[]) => Expr, fills: Fill[], accumulate = false): void {
  add(name, inputs, out, { kind: "map", value: f(indexVars(out.shape.length)) }, fills, accumulate);
}

// ---- every scalar function, elementwise over float32 ----
const N = 96;
const x0 = (i: Var[]) => load(0, i);
const x1 = (i: Var[]) => load(1, i);
const unary: [ScalarFn, Fill][] = [
  ["neg", F(-3, 3)], ["abs", F(-3, 3)], ["sign", F(-2, 2, { ints: true, special: [NaN, -0.5] })],
  ["exp", F(-5, 5)], ["expm1", F(-1, 1)], ["log", F(0.05, 5)], ["log1p", F(-0.5, 5)], ["log2", F(0.05, 5)],
  ["log10", F(0.05, 5)], ["sqrt", F(0, 5)], ["rsqrt", F(0.1, 5)], ["cbrt", F(-5, 5)], ["square", F(-3, 3)],
  ["reciprocal", F(0.2, 3)], ["sin", F(-3, 3)], ["cos", F(-3, 3)], ["tan", F(-1.2, 1.2)], ["asin", F(-0.95, 0.95)],
  ["acos", F(-0.95, 0.95)], ["atan", F(-4, 4)], ["sinh", F(-3, 3)], ["cosh", F(-3, 3)], ["tanh", F(-3, 3)],
  ["asinh", F(-4, 4)], ["acosh", F(1.1, 5)], ["atanh", F(-0.9, 0.9)], ["sigmoid", F(-10, 10)],
  ["softrelu", F(-30, 30)], ["erf", F(-3, 3)], ["erfinv", F(-0.95, 0.95)],
  // Halves exercise the rounding rules: round is half away from zero, rint half to even.
  ["floor", F(-6, 6, { special: [-2.5, 2.5] })], ["ceil", F(-6, 6, { special: [-2.5, 2.5] })],
  ["round", F(-6, 6, { special: [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5] })], ["rint", F(-6, 6, { special: [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5] })],
  ["trunc", F(-6, 6)], ["isnan", F(-1, 1, { special: [NaN, Infinity] })], ["not", F(-1, 2, { ints: true, special: [0.5] })],
];
for (const [fn, fill] of unary) map(`fn_${fn}`, [T("float32", N)], T("float32", N), (i) => call(fn, x0(i)), [fill]);

const binary: [ScalarFn, Fill, Fill][] = [
  ["add", F(-3, 3), F(-3, 3)], ["sub", F(-3, 3), F(-3, 3)], ["mul", F(-3, 3), F(-3, 3)], ["div", F(-3, 3), F(0.5, 3)],
  ["mod", F(-6, 6), F(-3, 3, { special: [-1.5, 1.5, 2] })], ["fmod", F(-6, 6), F(-3, 3, { special: [-1.5, 1.5, 2] })], ["pow", F(0.1, 3), F(-2, 2)],
  ["max", F(-2, 2, { special: [NaN, 1] }), F(-2, 2, { special: [0, NaN] })],
  ["min", F(-2, 2, { special: [NaN, 1] }), F(-2, 2, { special: [0, NaN] })],
  ["idiv", F(-6, 6), F(0.5, 3)], ["imod", F(-6, 6), F(0.5, 3)],
  ["lt", F(0, 3, { ints: true }), F(0, 3, { ints: true })], ["le", F(0, 3, { ints: true }), F(0, 3, { ints: true })],
  ["gt", F(0, 3, { ints: true }), F(0, 3, { ints: true })], ["ge", F(0, 3, { ints: true }), F(0, 3, { ints: true })],
  ["eq", F(0, 3, { ints: true }), F(0, 3, { ints: true })], ["ne", F(0, 3, { ints: true }), F(0, 3, { ints: true })],
  ["and", F(-1, 2, { ints: true }), F(-1, 2, { ints: true })], ["or", F(-1, 2, { ints: true }), F(-1, 2, { ints: true })],
  ["atan2", F(-3, 3), F(-3, 3)], ["hypot", F(-3, 3), F(-3, 3)],
];
for (const [fn, f0, f1] of binary) map(`fn_${fn}`, [T("float32", N), T("float32", N)], T("float32", N), (i) => call(fn, x0(i), x1(i)), [f0, f1]);
// The mod divisor's sign rule with a negative divisor; integer idiv/imod on non-negative indices.
map("fn_mod_negdiv", [T("float32", N)], T("float32", N), (i) => call("mod", x0(i), num(-2.5)), [F(-6, 6)]);
map("int_fmod", [T("int32", N), T("int32", N)], T("int32", N), (i) => call("fmod", x0(i), x1(i)), [F(-100, 100), F(1, 13)]);
map("int_idiv_imod", [T("int32", N), T("int32", N)], T("int32", N), (i) => E.add(E.mul(call("idiv", x0(i), x1(i)), 100), call("imod", x0(i), x1(i))), [F(0, 1000), F(1, 13)]);

// ---- select: a guarded load never performed out of range (pad by 2 on each side) ----
map("select_pad", [T("float32", 6, 5)], T("float32", 10, 5), ([a, b]) => {
  const inside = call("and", E.ge(a, int(2)), E.lt(a, int(8)));
  return E.select(inside, load(0, [ix.sub(a, 2), b]), num(-1));
}, [F(-2, 2)]);
map("select_value", [T("float32", N), T("float32", N)], T("float32", N), (i) => E.select(E.gt(x0(i), 0), E.mul(x0(i), x1(i)), E.neg(x1(i))), [F(-2, 2), F(-2, 2)]);

// ---- casts to every dtype (the output is the cast's dtype) ----
for (const d of ["int32", "int64", "uint8", "int8", "float16", "float64", "float32"] as DType[])
  map(`cast_${d}`, [T("float32", N)], T(d, N), (i) => cast(d, x0(i)), [F(-300, 300, { special: [0.5, -0.5, 255.5, 256, -129] })]);
map("cast_inner", [T("float32", N)], T("float32", N), (i) => E.mul(cast("int32", E.mul(x0(i), 3)), 0.5), [F(-4, 4)]);
map("cast_f64_to_f32", [T("float64", N)], T("float32", N), (i) => cast("float32", E.mul(x0(i), 1.5)), [F(-4, 4)]);

// ---- index patterns: transpose, broadcast, reshape, strided slice, scalar input, unit dims ----
map("transpose", [T("float32", 3, 4, 5)], T("float32", 5, 3, 4), ([a, b, c]) => load(0, [b, c, a]), [F(-1, 1)]);
map("broadcast", [T("float32", 4, 1, 6), T("float32", 1, 5, 1)], T("float32", 4, 5, 6), ([a, b, c]) => E.add(load(0, [a, int(0), c]), load(1, [int(0), b, int(0)])), [F(-1, 1), F(-1, 1)]);
map("reshape", [T("float32", 2, 3, 4, 5)], T("float32", 6, 20), ([a, b]) => load(0, ix.unflatten(ix.flatten([a, b], [6, 20]), [2, 3, 4, 5])), [F(-1, 1)]);
map("reshape_transpose", [T("float32", 6, 20)], T("float32", 5, 4, 6), ([a, b, c]) => load(0, ix.unflatten(ix.flatten([c, b, a], [6, 4, 5]), [6, 20])), [F(-1, 1)]);
map("slice_step", [T("float32", 9, 7)], T("float32", 4, 3), ([a, b]) => load(0, [ix.add(ix.mul(a, 2), 1), ix.add(b, 4)]), [F(-1, 1)]);
map("reverse", [T("float32", 8)], T("float32", 8), ([a]) => load(0, [ix.sub(7, a)]), [F(-1, 1)]);
map("scalar_in", [T("float32", 3, 1, 4), T("float32")], T("float32", 3, 1, 4), (i) => E.mul(x0(i), load(1, [])), [F(-1, 1), F(1, 2)]);
map("iota", [], T("float32", 5, 7), ([a, b]) => E.add(cast("float32", ix.add(ix.mul(a, 7), b)), 0.25), []);

// ---- input and output dtypes ----
map("f64_math", [T("float64", N), T("float64", N)], T("float64", N), (i) => E.add(call("exp", x0(i)), E.mul(x1(i), 1.0000001)), [F(-3, 3), F(-3, 3)]);
map("i32_arith", [T("int32", N), T("int32", N)], T("int32", N), (i) => E.sub(E.mul(x0(i), 3), call("max", x0(i), x1(i))), [F(-1000, 1000), F(-1000, 1000)]);
map("i32_div_float", [T("int32", N), T("int32", N)], T("float32", N), (i) => E.div(x0(i), x1(i)), [F(-50, 50), F(1, 9)]);
map("u8_in", [T("uint8", N)], T("float32", N), (i) => E.mul(x0(i), 0.5), [F(0, 256)]);
map("i8_in", [T("int8", N)], T("int32", N), (i) => call("abs", x0(i)), [F(-128, 128)]);
map("i64_in", [T("int64", N)], T("float64", N), (i) => E.add(x0(i), 0.5), [F(-1e6, 1e6)]);
map("f16_io", [T("float16", N), T("float32", N)], T("float16", N), (i) => E.add(E.mul(x0(i), 2), x1(i)), [F(-4, 4), F(-1, 1)]);
map("f16_cast_mid", [T("float32", N)], T("float32", N), (i) => E.mul(cast("float16", x0(i)), 3), [F(-4, 4)]);
map("uint8_out", [T("float32", N)], T("uint8", N), (i) => E.mul(x0(i), 2), [F(0, 127)]);

// ---- accumulate (grad_req add) ----
map("acc_map", [T("float32", 8, 9)], T("float32", 8, 9), (i) => E.mul(x0(i), 2), [F(-1, 1)], true);
map("acc_map_f16", [T("float32", 8, 9)], T("float16", 8, 9), (i) => E.mul(x0(i), 2), [F(-1, 1)], true);

// ---- reductions ----
function reduce(name: string, inputs: TensorType[], out: TensorType, op: ReduceOp, extents: number[], value: (i: Var[], r: Var[]) => Expr, fills: Fill[], post?: (i: Var[]) => Expr, accumulate = false): void {
  const i = indexVars(out.shape.length);
  const axes = extents.map((extent, k) => ({ name: `r${k}`, extent }));
  const r = axes.map((a) => v(a.name));
  add(name, inputs, out, { kind: "reduce", op, axes, value: value(i, r), post: post?.(i) }, fills, accumulate);
}
const ops: ReduceOp[] = ["sum", "prod", "max", "min", "argmax", "argmin"];
// Ties (small integers) and NaN exercise max/min's NaN skipping and arg*'s first-index rule.
const tieFill = (op: ReduceOp): Fill => (op === "prod" ? F(0.8, 1.25) : op === "sum" ? F(-2, 2) : F(-3, 4, { ints: true, special: [NaN] }));
for (const op of ops) {
  reduce(`red_${op}_mid`, [T("float32", 4, 50, 3)], T("float32", 4, 3), op, [50], ([a, c], [r]) => load(0, [a, r, c]), [tieFill(op)]);
  reduce(`red_${op}_last`, [T("float32", 6, 300)], T("float32", 6), op, [300], ([a], [r]) => load(0, [a, r]), [tieFill(op)]);
  reduce(`red_${op}_all`, [T("float32", 20, 30)], T("float32"), op, [20, 30], (_, [r, s]) => load(0, [r, s]), [tieFill(op)]);
}
// Long reductions (C++ cuts them into chunks; CUDA uses a block per output) and many outputs (parallel rows).
for (const op of ["sum", "max", "argmax", "argmin"] as ReduceOp[]) {
  reduce(`red_${op}_long`, [T("float32", 2, 40000)], T("float32", 2), op, [40000], ([a], [r]) => load(0, [a, r]), [op === "sum" ? F(0, 1) : tieFill(op)]);
  reduce(`red_${op}_cols`, [T("float32", 64, 9000)], T("float32", 9000), op, [64], ([c], [r]) => load(0, [r, c]), [tieFill(op)]);
}
reduce("red_argmax_axes02", [T("float32", 5, 4, 6)], T("float32", 4), "argmax", [5, 6], ([b], [r, s]) => load(0, [r, b, s]), [F(-3, 4, { ints: true })]);
reduce("red_argmin_nan0", [T("float32", 3, 40)], T("float32", 3), "argmin", [40], ([a], [r]) => load(0, [a, r]), [F(-3, 4, { ints: true, special: [NaN] })]);
reduce("red_mean_post", [T("float32", 7, 33)], T("float32", 7), "sum", [33], ([a], [r]) => load(0, [a, r]), [F(-1, 1)], () => E.div(v("acc"), 33));
reduce("red_logsumexp", [T("float32", 5, 64), T("float32", 5)], T("float32", 5), "sum", [64], ([a], [r]) => call("exp", E.sub(load(0, [a, r]), load(1, [a]))), [F(-3, 3), F(2, 3)], ([a]) => E.add(call("log", v("acc")), load(1, [a])));
reduce("red_argmax_post", [T("float32", 4, 10)], T("float32", 4), "argmax", [10], ([a], [r]) => load(0, [a, r]), [F(-1, 1)], () => E.mul(v("acc"), 10));
reduce("red_i32_sum", [T("int32", 10, 40)], T("int32", 10), "sum", [40], ([a], [r]) => load(0, [a, r]), [F(-1000, 1000)]);
reduce("red_f64_sum", [T("float64", 10, 400)], T("float64", 10), "sum", [400], ([a], [r]) => E.mul(load(0, [a, r]), load(0, [a, r])), [F(-1, 1)]);
reduce("red_f16_max", [T("float16", 6, 70)], T("float16", 6), "max", [70], ([a], [r]) => load(0, [a, r]), [F(-8, 8)]);
reduce("red_dot", [T("float32", 6, 40), T("float32", 40, 5)], T("float32", 6, 5), "sum", [40], ([a, b], [r]) => E.mul(load(0, [a, r]), load(1, [r, b])), [F(-1, 1), F(-1, 1)]);
reduce("red_acc", [T("float32", 6, 20)], T("float32", 6), "sum", [20], ([a], [r]) => load(0, [a, r]), [F(-1, 1)], undefined, true);

// Empty reductions: sum is 0, argmax -1 (as the interpreter).
reduce("red_sum_empty", [T("float32", 3, 0)], T("float32", 3), "sum", [0], ([a], [r]) => load(0, [a, r]), [F(-1, 1)]);
reduce("red_argmax_empty", [T("float32", 3, 0)], T("float32", 3), "argmax", [0], ([a], [r]) => load(0, [a, r]), [F(-1, 1)]);
// Stage variables named like the generated code's own (k, acc, x, idx) are renamed; post's acc stays the result.
add("reserved_names", [T("float32", 4, 6)], T("float32", 4), {
  kind: "reduce",
  op: "max",
  axes: [{ name: "idx", extent: 6 }],
  value: E.mul(load(0, [v("k"), v("idx")]), 2),
  post: E.add(v("acc"), cast("float32", v("k"))),
}, [F(-1, 1)], false, ["k"]);

// ---- scatter (embedding backward: repeated indices) ----
function scatter(name: string, inputs: TensorType[], out: TensorType, extents: number[], index: (r: Var[]) => Expr[], value: (r: Var[]) => Expr, fills: Fill[], accumulate = false): void {
  const axes = extents.map((extent, k) => ({ name: `r${k}`, extent }));
  const r = axes.map((a) => v(a.name));
  add(name, inputs, out, { kind: "scatter", axes, index: index(r), value: value(r) }, fills, accumulate);
}
const emb = (n: number, d: number, vocab: number, dt: DType, name: string, accumulate = false): void =>
  scatter(name, [T("float32", n), T("float32", n, d)], T(dt, vocab, d), [n, d], ([a, b]) => [cast("int32", load(0, [a])), b], ([a, b]) => load(1, [a, b]), [F(0, vocab, { ints: true }), dt.startsWith("float") ? F(-1, 1) : F(-5, 5, { ints: true })], accumulate);
emb(50, 4, 7, "float32", "scatter_emb");
emb(4096, 16, 33, "float32", "scatter_emb_big");
emb(30, 3, 5, "float16", "scatter_f16");
emb(30, 3, 5, "int32", "scatter_i32");
emb(30, 3, 5, "float64", "scatter_f64");
emb(30, 3, 5, "uint8", "scatter_u8");
emb(40000, 1, 3, "int8", "scatter_i8_big");
emb(20, 2, 5, "float32", "scatter_acc", true);

// ---- random numbers: Philox must agree with the interpreter bit for bit (counters past 2^32 too) ----
map("philox", [T("float32", 64)], T("float32", 64), ([i]) => E.add(call("philox_uniform", int(5000000000), int(12345), ix.add(ix.mul(i, 4294967), int(4294967000))), E.mul(load(0, [i]), 0)), [F(-1, 1)]);
map("philox_f64", [T("float64", 8, 8)], T("float64", 8, 8), ([i, j]) => call("philox_uniform", int(42), int(7), ix.flatten([i, j], [8, 8])), [F(-1, 1)]);

// ---- contractions (GEMM schedule): inputs in [-1, 1), integers in [-10, 10) ----
for (const g of GEMM_CASES)
  cases.push({
    kernel: { ...g.kernel, name: `cg_${g.kernel.name}` },
    fills: g.kernel.stage.inputs.map((t) => (t.dtype.startsWith("float") ? F(-1, 1) : F(-10, 10))),
    family: g.gemm ? "gemm" : "reduce",
  });

export const TABLE: readonly Case[] = cases;

/** One kernel's text in a module: from its `// kernel NAME [` comment to the next kernel's. */
export function kernelSource(module: string, name: string): string {
  const from = module.indexOf(`// kernel ${name} [`);
  if (from < 0) throw new Error(`kernel ${name} is not in the module`);
  const to = module.indexOf("\n// kernel ", from + 1);
  return module.slice(from, to < 0 ? undefined : to);
}
