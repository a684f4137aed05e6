/**
 * The C scalar types generated code computes in, and how Exprs are typed.
 *
 * The interpreter computes everything in float64; generated code computes float32 and float16
 * data in `float` and float64 data in `double`, index arithmetic in `int` (or `long long` when a
 * size passes 2^31), and keeps integer data integral until a float operation needs a float.
 * A float constant has no type of its own ("lit"): it takes the type of what it meets, so
 * `x * 0.5` renders as `x * 0.5f` on float data and `x * 0.5` on double data.
 */
import type { DType } from "../base/dtype.js";
import type { Expr, ScalarFn } from "../te/expr.js";

/** int: 32-bit integer (also bool results); i64: long long; lit: a float constant of its context's type. */
export type CType = "int" | "i64" | "lit" | "f32" | "f64";

/** A resolved float type: what literals and promoted integers become. */
export type FloatType = "f32" | "f64";

const RANK: Record<CType, number> = { int: 0, i64: 1, lit: 2, f32: 3, f64: 4 };

/** The usual arithmetic conversions, with a literal yielding to any real float type. */
export function join(a: CType, b: CType): CType {
  return RANK[a] >= RANK[b] ? a : b;
}

export function isFloat(t: CType): boolean {
  return t === "f32" || t === "f64" || t === "lit";
}

export function isIntType(t: CType): t is "int" | "i64" {
  return t === "int" || t === "i64";
}

/** C spelling of a resolved type. */
export function cName(t: CType): string {
  switch (t) {
    case "int":
      return "int";
    case "i64":
      return "long long";
    case "f32":
      return "float";
    case "f64":
      return "double";
    case "lit":
      throw new Error("internal: an unresolved float literal type has no C name");
  }
}

/** The type a value of `dtype` is computed in once loaded (float16 computes in float, bytes promote to int). */
export function computeType(dtype: DType): CType {
  switch (dtype) {
    case "float32":
    case "float16":
      return "f32";
    case "float64":
      return "f64";
    case "int64":
      return "i64";
    default:
      return "int";
  }
}

/** How each scalar function types its result from its arguments. */
export type FnCategory = "same" | "float" | "bool";

const FLOAT_FNS: readonly ScalarFn[] = [
  "div", "mod", "pow", "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "rsqrt", "cbrt", "reciprocal",
  "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "atan2", "hypot",
  "sigmoid", "softrelu", "erf", "erfinv",
];
const BOOL_FNS: readonly ScalarFn[] = ["lt", "le", "gt", "ge", "eq", "ne", "and", "or", "not", "isnan"];

/**
 * same: integer in, integer out (add, max, floor, idiv …); float: integers promote to a float
 * (div, exp …: the interpreter's `7 / 2` is 3.5); bool: 0 or 1 as int.
 */
export function fnCategory(fn: ScalarFn): FnCategory {
  if (BOOL_FNS.includes(fn)) return "bool";
  if (FLOAT_FNS.includes(fn)) return "float";
  return "same";
}

/** What typing needs to know about a kernel. */
export interface TypeEnv {
  /** Types of the variables in scope (index variables, counters, `acc`). */
  readonly vars: ReadonlyMap<string, CType>;
  /** dtypes of the input tensors, by slot. */
  readonly inputs: readonly DType[];
  /** The float type integers promote to when a float operation needs one. */
  readonly promote: FloatType;
}

/** Types Exprs bottom-up; memoized per node object, so a shared subtree is typed once. */
export class Typer {
  private readonly memo = new Map<Expr, CType>();

  constructor(readonly env: TypeEnv) {}

  typeOf(e: Expr): CType {
    let t = this.memo.get(e);
    if (t === undefined) {
      t = this.compute(e);
      this.memo.set(e, t);
    }
    return t;
  }

  /** The type a call computes its operands in (for comparisons: what is compared). */
  operandType(fn: ScalarFn, args: readonly Expr[]): CType {
    const j = args.map((a) => this.typeOf(a)).reduce(join, "int" as CType);
    return fnCategory(fn) === "float" && isIntType(j) ? this.env.promote : j;
  }

  private compute(e: Expr): CType {
    switch (e.kind) {
      case "var": {
        const t = this.env.vars.get(e.name);
        if (t === undefined) throw new Error(`variable "${e.name}" is not bound here (bound: ${[...this.env.vars.keys()].join(", ") || "none"})`);
        return t;
      }
      case "const":
        if (!e.int) return "lit";
        if (!Number.isInteger(e.value)) throw new Error(`integer constant ${e.value} is not an integer`);
        return Math.abs(e.value) < 2 ** 31 ? "int" : "i64";
      case "load": {
        const d = this.env.inputs[e.tensor];
        if (d === undefined) throw new Error(`load of tensor ${e.tensor}, but the stage has ${this.env.inputs.length} inputs`);
        return computeType(d);
      }
      case "cast":
        this.typeOf(e.x);
        return computeType(e.dtype);
      case "select":
        this.typeOf(e.cond);
        return join(this.typeOf(e.a), this.typeOf(e.b));
      case "call": {
        // Random numbers: integer counters in, a float32 out, whatever the surrounding type.
        if (e.fn === "philox_uniform") {
          e.args.forEach((a) => this.typeOf(a));
          return "f32";
        }
        const op = this.operandType(e.fn, e.args);
        return fnCategory(e.fn) === "bool" ? "int" : op;
      }
    }
  }
}
