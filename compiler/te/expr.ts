/**
 * Scalar expressions of Kiln's tensor-expression IR (TVM's TE, reduced to what our kernels
 * need). A stage computes each element of its output from an Expr over its index variables;
 * loads read other tensors at index expressions. Exprs are plain immutable data, so they print,
 * hash and compare structurally; the same tree is interpreted (te/interpret) and rendered to
 * C++ or CUDA (codegen).
 */
import { DType } from "../base/dtype.js";

/** A named integer loop variable (an output index or a reduction index). */
export interface Var {
  readonly kind: "var";
  readonly name: string;
}

export interface Const {
  readonly kind: "const";
  readonly value: number;
  /** "int" for index arithmetic, otherwise a float constant of the expression's type. */
  readonly int: boolean;
}

/** Element of tensor `tensor` (an input slot of the stage) at a multi-index. */
export interface Load {
  readonly kind: "load";
  readonly tensor: number;
  readonly index: readonly Expr[];
}

export interface Call {
  readonly kind: "call";
  readonly fn: ScalarFn;
  readonly args: readonly Expr[];
}

/** `cond ? a : b`, evaluated lazily (so a guarded out-of-bounds load is never performed). */
export interface Select {
  readonly kind: "select";
  readonly cond: Expr;
  readonly a: Expr;
  readonly b: Expr;
}

export interface Cast {
  readonly kind: "cast";
  readonly dtype: DType;
  readonly x: Expr;
}

export type Expr = Var | Const | Load | Call | Select | Cast;

/**
 * The scalar functions. Each has one meaning, fixed by te/scalar_fns.ts (interpreter) and the
 * target tables in codegen; integer division and modulo are floor-style on non-negative indices.
 */
export type ScalarFn =
  // arithmetic
  | "add" | "sub" | "mul" | "div" | "neg" | "mod" | "fmod" | "pow" | "max" | "min" | "abs" | "sign"
  | "idiv" | "imod"
  // comparisons and logic (1 or 0)
  | "lt" | "le" | "gt" | "ge" | "eq" | "ne" | "and" | "or" | "not"
  // math
  | "exp" | "expm1" | "log" | "log1p" | "log2" | "log10" | "sqrt" | "rsqrt" | "cbrt" | "square"
  | "reciprocal" | "sin" | "cos" | "tan" | "asin" | "acos" | "atan" | "sinh" | "cosh" | "tanh"
  | "asinh" | "acosh" | "atanh" | "atan2" | "hypot" | "sigmoid" | "softrelu" | "erf" | "erfinv"
  | "floor" | "ceil" | "round" | "rint" | "trunc" | "isnan"
  // random: philox_uniform(seed, stream, counter) in [0, 1), Philox-4x32-10 (see scalar_fns.ts)
  | "philox_uniform";

export function v(name: string): Var {
  return { kind: "var", name };
}

/** An integer constant (indices, extents). */
export function int(value: number): Const {
  return { kind: "const", value, int: true };
}

/** A floating-point constant. */
export function num(value: number): Const {
  return { kind: "const", value, int: false };
}

type Arg = Expr | number;
const wrap = (a: Arg): Expr => (typeof a === "number" ? num(a) : a);

export function call(fn: ScalarFn, ...args: Arg[]): Expr {
  return { kind: "call", fn, args: args.map(wrap) };
}

export function select(cond: Expr, a: Arg, b: Arg): Expr {
  return { kind: "select", cond, a: wrap(a), b: wrap(b) };
}

export function cast(dtype: DType, x: Expr): Expr {
  return { kind: "cast", dtype, x };
}

export function load(tensor: number, index: readonly Expr[]): Load {
  return { kind: "load", tensor, index };
}

/**
 * Builders for scalar math: `E.mul(x, 2)`, `E.select(E.gt(x, 0), x, 0)`. Numbers become float
 * constants; use `ix` for index arithmetic.
 */
export const E = {
  add: (a: Arg, b: Arg) => call("add", a, b),
  sub: (a: Arg, b: Arg) => call("sub", a, b),
  mul: (a: Arg, b: Arg) => call("mul", a, b),
  div: (a: Arg, b: Arg) => call("div", a, b),
  neg: (a: Arg) => call("neg", a),
  pow: (a: Arg, b: Arg) => call("pow", a, b),
  max: (a: Arg, b: Arg) => call("max", a, b),
  min: (a: Arg, b: Arg) => call("min", a, b),
  lt: (a: Arg, b: Arg) => call("lt", a, b),
  le: (a: Arg, b: Arg) => call("le", a, b),
  gt: (a: Arg, b: Arg) => call("gt", a, b),
  ge: (a: Arg, b: Arg) => call("ge", a, b),
  eq: (a: Arg, b: Arg) => call("eq", a, b),
  ne: (a: Arg, b: Arg) => call("ne", a, b),
  select,
  cast,
  fn: call,
};

/**
 * Integer index arithmetic with constant folding, so that indices over static shapes render
 * as short expressions (`i*12 + j`, not `((i*3)+0)*4 + j*1`).
 */
export const ix = {
  add(a: Expr | number, b: Expr | number): Expr {
    const A = typeof a === "number" ? int(a) : a;
    const B = typeof b === "number" ? int(b) : b;
    if (isInt(A, 0)) return B;
    if (isInt(B, 0)) return A;
    if (A.kind === "const" && B.kind === "const") return int(A.value + B.value);
    return call("add", A, B);
  },
  sub(a: Expr | number, b: Expr | number): Expr {
    const B = typeof b === "number" ? int(b) : b;
    if (isInt(B, 0)) return typeof a === "number" ? int(a) : a;
    const A = typeof a === "number" ? int(a) : a;
    if (A.kind === "const" && B.kind === "const") return int(A.value - B.value);
    return call("sub", A, B);
  },
  mul(a: Expr | number, b: Expr | number): Expr {
    const A = typeof a === "number" ? int(a) : a;
    const B = typeof b === "number" ? int(b) : b;
    if (isInt(A, 0) || isInt(B, 0)) return int(0);
    if (isInt(A, 1)) return B;
    if (isInt(B, 1)) return A;
    if (A.kind === "const" && B.kind === "const") return int(A.value * B.value);
    return call("mul", A, B);
  },
  /** Floor division of a non-negative index by a positive constant. */
  div(a: Expr, d: number): Expr {
    if (d === 1) return a;
    if (a.kind === "const") return int(Math.floor(a.value / d));
    return call("idiv", a, int(d));
  },
  mod(a: Expr, d: number): Expr {
    if (d === 1) return int(0);
    if (a.kind === "const") return int(a.value % d);
    return call("imod", a, int(d));
  },
  /** Row-major flat offset of `index` in `shape`. */
  flatten(index: readonly Expr[], shape: readonly number[]): Expr {
    let off: Expr = int(0);
    for (let d = 0; d < shape.length; d++) off = ix.add(ix.mul(off, shape[d]), index[d]);
    return off;
  },
  /** The multi-index of flat offset `flat` in `shape`. */
  unflatten(flat: Expr, shape: readonly number[]): Expr[] {
    const out: Expr[] = new Array(shape.length);
    let stride = shape.reduce((a, b) => a * b, 1);
    for (let d = 0; d < shape.length; d++) {
      stride /= shape[d];
      // The leading dim needs no modulo: flat is in range.
      out[d] = d === 0 ? ix.div(flat, stride) : ix.mod(ix.div(flat, stride), shape[d]);
    }
    return out;
  },
};

function isInt(e: Expr, value: number): boolean {
  return e.kind === "const" && e.value === value;
}

/** Replaces variables by expressions (inlining a producer at its consumer's index). */
export function substitute(e: Expr, bind: ReadonlyMap<string, Expr>): Expr {
  switch (e.kind) {
    case "var":
      return bind.get(e.name) ?? e;
    case "const":
      return e;
    case "load":
      return { kind: "load", tensor: e.tensor, index: e.index.map((x) => substitute(x, bind)) };
    case "call":
      return { kind: "call", fn: e.fn, args: e.args.map((x) => substitute(x, bind)) };
    case "select":
      return { kind: "select", cond: substitute(e.cond, bind), a: substitute(e.a, bind), b: substitute(e.b, bind) };
    case "cast":
      return { kind: "cast", dtype: e.dtype, x: substitute(e.x, bind) };
  }
}

/** Rewrites every load (e.g. to renumber tensors, or to inline a producer). */
export function mapLoads(e: Expr, f: (l: Load) => Expr): Expr {
  switch (e.kind) {
    case "var":
    case "const":
      return e;
    case "load":
      return f({ kind: "load", tensor: e.tensor, index: e.index.map((x) => mapLoads(x, f)) });
    case "call":
      return { kind: "call", fn: e.fn, args: e.args.map((x) => mapLoads(x, f)) };
    case "select":
      return { kind: "select", cond: mapLoads(e.cond, f), a: mapLoads(e.a, f), b: mapLoads(e.b, f) };
    case "cast":
      return { kind: "cast", dtype: e.dtype, x: mapLoads(e.x, f) };
  }
}
