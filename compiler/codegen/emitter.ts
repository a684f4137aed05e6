/**
 * Renders Expr trees as C expressions for a target: typed (see ctype.ts), with the fewest
 * parentheses C's precedence allows (a right operand of equal precedence keeps its parentheses,
 * so float evaluation order is the tree's), and with common subexpressions bound once to
 * `const` temporaries. Loads under a select branch are never hoisted: C's `?:` is lazy like the
 * IR's select, so a guarded out-of-range load stays unperformed.
 */
import type { Expr, Load } from "../te/expr.js";
import { CType, FloatType, Typer, cName, computeType, fnCategory, isFloat, isIntType } from "./ctype.js";
import { LIBM, TargetSpec } from "./targets.js";

/** C precedence levels, higher binds tighter. */
export const PREC = { primary: 17, unary: 15, mul: 13, add: 12, rel: 10, eq: 9, and: 5, or: 4, cond: 3, none: 0 } as const;

/** A rendered expression: its code, the precedence of its top operator, its resolved C type. */
export interface Code {
  readonly code: string;
  readonly prec: number;
  readonly type: Exclude<CType, "lit">;
}

export function wrap(c: Code, prec: number): string {
  return c.prec < prec ? `(${c.code})` : c.code;
}

/** Structural ids: equal trees get equal ids, so repeated subexpressions are found. */
export class Interner {
  private readonly ids = new Map<string, number>();
  private readonly memo = new WeakMap<Expr, number>();

  id(e: Expr): number {
    const m = this.memo.get(e);
    if (m !== undefined) return m;
    let key: string;
    switch (e.kind) {
      case "var":
        key = `v${e.name}`;
        break;
      case "const":
        key = `c${e.int ? "i" : "f"}${Object.is(e.value, -0) ? "-0" : e.value}`;
        break;
      case "load":
        key = `l${e.tensor}[${e.index.map((x) => this.id(x)).join(",")}]`;
        break;
      case "call":
        key = `f${e.fn}(${e.args.map((x) => this.id(x)).join(",")})`;
        break;
      case "select":
        key = `s${this.id(e.cond)}?${this.id(e.a)}:${this.id(e.b)}`;
        break;
      case "cast":
        key = `t${e.dtype}(${this.id(e.x)})`;
        break;
    }
    let id = this.ids.get(key);
    if (id === undefined) this.ids.set(key, (id = this.ids.size));
    this.memo.set(e, id);
    return id;
  }
}

/** What every block of one kernel shares. */
export interface KernelScope {
  readonly spec: TargetSpec;
  readonly fastMath: boolean;
  readonly typer: Typer;
  readonly interner: Interner;
  /** C names of the input arrays, by slot. */
  readonly inputNames: readonly string[];
  readonly inputDTypes: readonly import("../base/dtype.js").DType[];
  readonly indexType: "int" | "i64";
  /** Next temporary's number (temporaries are unique across the kernel's blocks). */
  nextTemp: number;
}

const INFIX: Readonly<Record<string, readonly [string, number]>> = {
  add: ["+", PREC.add], sub: ["-", PREC.add], mul: ["*", PREC.mul], div: ["/", PREC.mul],
  lt: ["<", PREC.rel], le: ["<=", PREC.rel], gt: [">", PREC.rel], ge: [">=", PREC.rel],
  eq: ["==", PREC.eq], ne: ["!=", PREC.eq], and: ["&&", PREC.and], or: ["||", PREC.or],
};

/** Helpers of the module header (templates/helpers.hbs), overloaded or templated on the operand type. */
const HELPER: Readonly<Record<string, string>> = {
  max: "kiln_max", min: "kiln_min", mod: "kiln_mod", sign: "kiln_sign", square: "kiln_square", softrelu: "kiln_softrelu",
};

/**
 * Emits the statements of one block (a loop body, an epilogue): `render` returns an expression
 * and appends the temporaries it needs to `lines`.
 */
export class Emitter {
  readonly lines: string[] = [];
  /** Variables the rendered code reads (the caller declares the index digits among them). */
  readonly usedVars = new Set<string>();
  private readonly temps = new Map<number, Code>();
  private readonly uses = new Map<number, number>();
  private lazy = 0;

  constructor(private readonly k: KernelScope) {}

  /** Counts uses of the subtrees of `roots`, so that those used twice get a temporary. Call before render. */
  plan(...roots: Expr[]): this {
    const seen = new Set<number>();
    const visit = (e: Expr): void => {
      const id = this.k.interner.id(e);
      this.uses.set(id, (this.uses.get(id) ?? 0) + 1);
      if (seen.has(id)) return;
      seen.add(id);
      switch (e.kind) {
        case "load":
          e.index.forEach(visit);
          break;
        case "call":
          e.args.forEach(visit);
          break;
        case "select":
          visit(e.cond);
          visit(e.a);
          visit(e.b);
          break;
        case "cast":
          visit(e.x);
          break;
      }
    };
    roots.forEach(visit);
    return this;
  }

  /** `const T name = code;` */
  declare(type: Exclude<CType, "lit">, name: string, code: string): void {
    this.lines.push(`const ${cName(type)} ${name} = ${code};`);
  }

  /** Renders e; float literals not fixed by their operands take type `ctx`. */
  render(e: Expr, ctx: FloatType): Code {
    const id = this.k.interner.id(e);
    const hit = this.temps.get(id);
    if (hit) return hit;
    const worth = e.kind !== "var" && e.kind !== "const" && this.k.typer.typeOf(e) !== "lit";
    if (!worth || this.lazy > 0 || (this.uses.get(id) ?? 0) < 2) return this.raw(e, ctx);
    const c = this.raw(e, ctx);
    const name = `t${this.k.nextTemp++}`;
    this.declare(c.type, name, c.code);
    const t: Code = { code: name, prec: PREC.primary, type: c.type };
    this.temps.set(id, t);
    return t;
  }

  /** A float literal of type t. */
  literal(value: number, t: FloatType): Code {
    const spec = this.k.spec;
    if (Number.isNaN(value)) return { code: spec.nan[t], prec: PREC.primary, type: t };
    // A double beyond float's range is float's infinity (as the conversion would make it).
    if (!Number.isFinite(t === "f32" ? Math.fround(value) : value)) {
      const inf = spec.infinity[t];
      return value > 0 ? { code: inf, prec: PREC.primary, type: t } : { code: `-${inf}`, prec: PREC.unary, type: t };
    }
    let s = Object.is(value, -0) ? "-0.0" : String(value);
    if (!/[.e]/.test(s)) s += ".0";
    if (t === "f32") s += "f";
    return { code: s, prec: value < 0 || Object.is(value, -0) ? PREC.unary : PREC.primary, type: t };
  }

  /** An integer literal. */
  intLiteral(value: number): Code {
    const big = Math.abs(value) >= 2 ** 31;
    return { code: `${value}${big ? "LL" : ""}`, prec: value < 0 ? PREC.unary : PREC.primary, type: big ? "i64" : "int" };
  }

  /** e rendered and converted to type t (explicitly: template helpers need exact argument types). */
  convert(e: Expr, t: Exclude<CType, "lit">): Code {
    if (e.kind === "const" && isFloat(t)) return this.literal(e.value, t as FloatType);
    if (e.kind === "const" && e.int && t === "i64") return { code: `${e.value}LL`, prec: e.value < 0 ? PREC.unary : PREC.primary, type: t };
    const c = this.render(e, isFloat(t) ? (t as FloatType) : "f32");
    if (c.type === t) return c;
    return { code: `(${cName(t)})${wrap(c, PREC.unary)}`, prec: PREC.unary, type: t };
  }

  private resolve(t: CType, ctx: FloatType): Exclude<CType, "lit"> {
    return t === "lit" ? ctx : t;
  }

  private raw(e: Expr, ctx: FloatType): Code {
    switch (e.kind) {
      case "var": {
        this.usedVars.add(e.name);
        return { code: e.name, prec: PREC.primary, type: this.resolve(this.k.typer.typeOf(e), ctx) };
      }
      case "const":
        return e.int ? this.intLiteral(e.value) : this.literal(e.value, ctx);
      case "load":
        return this.load(e);
      case "cast":
        return this.cast(e.dtype, e.x, ctx);
      case "select": {
        const t = this.resolve(this.k.typer.typeOf(e), ctx);
        const inner = isFloat(t) ? (t as FloatType) : ctx;
        const cond = this.render(e.cond, ctx);
        this.lazy++;
        const a = this.render(e.a, inner);
        const b = this.render(e.b, inner);
        this.lazy--;
        return { code: `${wrap(cond, PREC.cond + 1)} ? ${wrap(a, PREC.cond + 1)} : ${wrap(b, PREC.cond)}`, prec: PREC.cond, type: t };
      }
      case "call":
        return this.call(e, ctx);
    }
  }

  private load(e: Load): Code {
    const { spec, inputNames, inputDTypes, indexType } = this.k;
    if (e.index.length !== 1) throw new Error("internal: loads must be flattened before rendering");
    let off = this.render(e.index[0], "f32");
    if (!isIntType(off.type)) off = { code: `(${cName(indexType)})${wrap(off, PREC.unary)}`, prec: PREC.unary, type: indexType };
    const at = `${inputNames[e.tensor]}[${off.code}]`;
    const d = inputDTypes[e.tensor];
    const type = computeType(d) as Exclude<CType, "lit">;
    return { code: d === "float16" ? `${spec.halfToFloat}(${at})` : at, prec: PREC.primary, type };
  }

  private cast(dtype: import("../base/dtype.js").DType, xe: Expr, ctx: FloatType): Code {
    const t = computeType(dtype) as Exclude<CType, "lit">;
    if (xe.kind === "const" && isFloat(t)) return this.literal(xe.value, t as FloatType);
    const x = this.render(xe, isFloat(t) ? (t as FloatType) : ctx);
    const unary = (code: string): Code => ({ code, prec: PREC.unary, type: t });
    const spec = this.k.spec;
    switch (dtype) {
      case "float32":
      case "float64":
        return x.type === t ? x : unary(`(${cName(t)})${wrap(x, PREC.unary)}`);
      case "float16":
        // Round to half precision, as storing and reloading would.
        return { code: `${spec.halfToFloat}(${spec.floatToHalf}(${x.code}))`, prec: PREC.primary, type: t };
      default: {
        // Float to integer converts through a 64-bit integer, then wraps (the interpreter's castTo).
        const through = isFloat(x.type) ? `(long long)${wrap(x, PREC.unary)}` : undefined;
        if (dtype === "int64") return x.type === "i64" ? x : unary(through ?? `(long long)${wrap(x, PREC.unary)}`);
        if (dtype === "int32" && x.type === "int") return x;
        const c = spec.storage[dtype];
        return unary(`(${c})${through ?? wrap(x, PREC.unary)}`);
      }
    }
  }

  private mathName(fn: string, t: FloatType): string {
    const spec = this.k.spec;
    const f = fn as keyof typeof LIBM;
    const fast = this.k.fastMath && t === "f32" ? spec.fastMathNames[f] : undefined;
    const special = spec.mathNames[f]?.[t];
    const libm = LIBM[f];
    const name = fast ?? special ?? (libm && (t === "f32" ? `${libm}f` : libm));
    if (!name) throw new Error(`no ${spec.target} spelling for scalar function ${fn}`);
    return name;
  }

  private call(e: Extract<Expr, { kind: "call" }>, ctx: FloatType): Code {
    const fn = e.fn;
    if (fn === "philox_uniform") {
      const args = e.args.map((a) => `(unsigned long long)(${this.render(a, ctx).code})`);
      return { code: `kiln_philox_uniform(${args.join(", ")})`, prec: PREC.primary, type: "f32" };
    }
    const op = this.resolve(this.k.typer.operandType(fn, e.args), ctx);
    const inner: FloatType = isFloat(op) ? (op as FloatType) : ctx;
    const result: Exclude<CType, "lit"> = fnCategory(fn) === "bool" ? "int" : op;
    const arg = (i: number): Code => this.render(e.args[i], inner);
    const fcall = (name: string, args: Code[]): Code => ({ code: `${name}(${args.map((a) => a.code).join(", ")})`, prec: PREC.primary, type: result });
    const converted = (): Code[] => e.args.map((a) => this.convert(a, op));
    const infix = (sym: string, prec: number, a: Code, b: Code): Code => ({ code: `${wrap(a, prec)} ${sym} ${wrap(b, prec + 1)}`, prec, type: result });

    switch (fn) {
      case "add":
      case "sub":
      case "mul":
      case "lt":
      case "le":
      case "gt":
      case "ge":
      case "eq":
      case "ne":
      case "and":
      case "or": {
        const [sym, prec] = INFIX[fn];
        return infix(sym, prec, arg(0), arg(1));
      }
      case "div": {
        // Integers promoted to a float: convert one side, C converts the other.
        const a = isIntType(this.k.typer.typeOf(e.args[0])) && isIntType(this.k.typer.typeOf(e.args[1])) ? this.convert(e.args[0], op) : arg(0);
        return infix("/", PREC.mul, a, arg(1));
      }
      case "idiv":
        if (isIntType(op)) return infix("/", PREC.mul, arg(0), arg(1));
        return fcall(this.mathName("floor", op as FloatType), [infix("/", PREC.mul, arg(0), arg(1))]);
      case "imod":
        if (isIntType(op)) return infix("%", PREC.mul, arg(0), arg(1));
        return fcall(HELPER.mod, converted());
      case "fmod":
        // C's % on integers is fmod's truncated remainder.
        if (isIntType(op)) return infix("%", PREC.mul, arg(0), arg(1));
        return fcall(this.mathName(fn, op as FloatType), converted());
      case "neg": {
        const a = wrap(arg(0), PREC.unary);
        return { code: a.startsWith("-") ? `-(${a})` : `-${a}`, prec: PREC.unary, type: result };
      }
      case "not":
        return { code: `!${wrap(arg(0), PREC.unary)}`, prec: PREC.unary, type: result };
      case "max":
      case "min":
      case "mod":
      case "sign":
      case "square":
      case "softrelu":
        return fcall(HELPER[fn], converted());
      case "abs":
        if (op === "int") return fcall("abs", [arg(0)]);
        if (op === "i64") return fcall("llabs", [arg(0)]);
        return fcall(this.mathName("abs", op as FloatType), [arg(0)]);
      case "floor":
      case "ceil":
      case "round":
      case "rint":
      case "trunc":
        return isIntType(op) ? arg(0) : fcall(this.mathName(fn, op as FloatType), [arg(0)]);
      case "isnan":
        return isIntType(op) ? this.intLiteral(0) : fcall(this.k.spec.isnan, [arg(0)]);
      case "reciprocal":
        return infix("/", PREC.mul, this.literal(1, op as FloatType), arg(0));
      case "sigmoid": {
        const one = this.literal(1, op as FloatType);
        const a = wrap(arg(0), PREC.unary);
        const ex = fcall(this.mathName("exp", op as FloatType), [{ code: a.startsWith("-") ? `-(${a})` : `-${a}`, prec: PREC.unary, type: op }]);
        return infix("/", PREC.mul, one, infix("+", PREC.add, one, ex));
      }
      default:
        return fcall(this.mathName(fn, op as FloatType), converted());
    }
  }
}
