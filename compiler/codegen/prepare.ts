/**
 * What every kernel family does first: check the kernel, give its variables C names, replace
 * extent-1 variables by 0, choose the index type and the promotion type, and set up the
 * kernel's rendering scope. Also the pieces the families share: flattening loads onto the
 * loop counters, declaring the index digits a block reads, and storing a value to the output.
 */
import type { DType } from "../base/dtype.js";
import { KilnError } from "../base/errors.js";
import { Expr, int, load, mapLoads, substitute, v } from "../te/expr.js";
import type { Stage, StageBody, TensorType } from "../te/stage.js";
import type { Kernel } from "../ir/kernel.js";
import { CType, FloatType, Typer, cName, isFloat, isIntType } from "./ctype.js";
import { Code, Emitter, Interner, KernelScope, PREC, wrap } from "./emitter.js";
import { Group, collapse, digitOf, flatOffset, foldIndex } from "./index_math.js";
import type { TargetSpec } from "./targets.js";

/**
 * Names the generated code uses itself; stage variables with these names are renamed (as are
 * names of the shapes t0, in0, l0, o_x, red_x, part_x and g_x: temporaries, arrays, the GEMM
 * schedule's locals).
 */
const RESERVED = new Set([
  "idx", "k", "c", "s", "o", "v", "r", "lane", "warp", "acc", "bv", "best", "x", "kend", "out", "args",
  "int", "float", "double", "char", "short", "long", "unsigned", "signed", "const", "void", "return", "if", "else",
  "for", "while", "do", "auto", "static", "inline", "case", "default", "switch", "break", "continue", "sizeof",
]);

/** Sizes at or above this use 64-bit indices (with a margin for grid-stride increments). */
const INT32_LIMIT = 2 ** 31 - 2 ** 24;

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export interface Prepared {
  readonly kernel: Kernel;
  readonly stage: Stage;
  /** The body with C-named variables, extent-1 variables replaced by 0. */
  readonly body: StageBody;
  /** Output index variables (C names) with their extents. */
  readonly outAxes: readonly { name: string; extent: number }[];
  readonly scope: KernelScope;
  /** Float type of the output (literals at the root take it); the promotion type for integer outputs. */
  readonly outFloat: FloatType;
  /** Where it went wrong, for error messages. */
  readonly where: string;
  /** Types of the variables in scope; a reduction adds `acc` before rendering its post. */
  readonly varTypes: Map<string, CType>;
}

export function describe(k: Kernel): string {
  const t = (x: TensorType): string => `${x.dtype}(${x.shape.join(",")})`;
  return `kernel ${k.name} [${k.ops.join(", ")}] (${k.stage.inputs.map(t).join(", ")}) -> ${t(k.stage.out)}`;
}

export function prepare(kernel: Kernel, spec: TargetSpec, fastMath: boolean): Prepared {
  const where = describe(kernel);
  const stage = kernel.stage;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(kernel.name)) throw new KilnError(`${where}: the name is not a C identifier`);
  if (stage.body.kind !== "scatter" && stage.vars.length !== stage.out.shape.length)
    throw new KilnError(`${where}: ${stage.vars.length} index variables for an output of rank ${stage.out.shape.length}`);

  const names = new Map<string, string>();
  const taken = new Set<string>();
  const cname = (n: string): string => {
    let c = names.get(n);
    if (c) return c;
    c = /^[A-Za-z_][A-Za-z0-9_]*$/.test(n) && !RESERVED.has(n) && !/^(t\d+|in\d+|l\d+|o_\w+|red_\w+|part_\w+|g_\w+)$/.test(n) ? n : `v_${n.replace(/\W/g, "_")}`;
    while (taken.has(c)) c += "_";
    taken.add(c);
    names.set(n, c);
    return c;
  };
  const bind = new Map<string, Expr>();
  const axis = (name: string, extent: number): { name: string; extent: number } => {
    const c = cname(name);
    // An extent-1 variable is always 0; an extent-0 one never runs its loop body.
    bind.set(name, extent <= 1 ? int(0) : v(c));
    return { name: c, extent };
  };
  const outAxes = stage.body.kind === "scatter" ? [] : stage.vars.map((n, d) => axis(n, stage.out.shape[d]));
  const b = stage.body;
  let body: StageBody;
  if (b.kind === "map") body = { kind: "map", value: substitute(b.value, bind) };
  else {
    const axes = b.axes.map((a) => axis(a.name, a.extent));
    if (b.kind === "reduce")
      {
      // In post, "acc" is the reduction's result, whatever the stage's variables are called.
      const postBind = new Map([...bind].filter(([n]) => n !== "acc"));
      body = { kind: "reduce", op: b.op, axes, value: substitute(b.value, bind), post: b.post && substitute(b.post, postBind) };
    }
    else body = { kind: "scatter", axes, index: b.index.map((e) => substitute(e, bind)), value: substitute(b.value, bind) };
  }

  const sizes = [...stage.inputs.map((t) => size(t.shape)), size(stage.out.shape)];
  if (body.kind !== "map") sizes.push(size(body.axes.map((a) => a.extent)));
  const indexType = sizes.some((n) => n >= INT32_LIMIT) ? "i64" : "int";
  const dtypes: DType[] = [...stage.inputs.map((t) => t.dtype), stage.out.dtype];
  // Integers promote to double where float64 is about, or where nothing is float (exact integer math).
  const promote: FloatType = dtypes.includes("float64") || !dtypes.some((d) => d.startsWith("float")) ? "f64" : "f32";
  const outFloat: FloatType = stage.out.dtype === "float64" ? "f64" : stage.out.dtype.startsWith("float") ? "f32" : promote;

  const vars = new Map<string, CType>([["idx", indexType], ["k", indexType]]);
  for (const a of outAxes) vars.set(a.name, indexType);
  if (body.kind !== "map") for (const a of body.axes) vars.set(a.name, indexType);
  const scope: KernelScope = {
    spec,
    fastMath,
    typer: new Typer({ vars, inputs: stage.inputs.map((t) => t.dtype), promote }),
    interner: new Interner(),
    inputNames: stage.inputs.map((_, i) => `in${i}`),
    inputDTypes: stage.inputs.map((t) => t.dtype),
    indexType,
    nextTemp: 0,
  };
  return { kernel, stage, body, outAxes, scope, outFloat, where, varTypes: vars };
}

/** Rewrites every load to a single flat offset, collapsed onto the groups' counters, and folds integer arithmetic. */
export function flattenLoads(e: Expr, p: Prepared, groups: readonly Group[]): Expr {
  const flat = mapLoads(e, (l) => {
    const t = p.stage.inputs[l.tensor];
    if (!t) throw new KilnError(`${p.where}: load of input ${l.tensor}, but the kernel has ${p.stage.inputs.length}`);
    if (l.index.length !== t.shape.length)
      throw new KilnError(`${p.where}: input ${l.tensor} of shape (${t.shape.join(",")}) is loaded with a rank-${l.index.length} index`);
    return load(l.tensor, [collapse(flatOffset(l.index.map(foldIndex), t.shape), groups)]);
  });
  const bounds = new Map<string, number>();
  for (const g of groups) {
    bounds.set(g.counter, g.total);
    for (const d of g.vars) bounds.set(d.name, d.extent);
  }
  return foldInts(flat, p.scope.typer, bounds);
}

/** An exclusive upper bound of a non-negative integer expression, when one is evident. */
function upperBound(e: Expr, bounds: ReadonlyMap<string, number>): number | undefined {
  if (e.kind === "var") return bounds.get(e.name);
  if (e.kind === "const") return e.int && e.value >= 0 ? e.value + 1 : undefined;
  if (e.kind !== "call") return undefined;
  const [a, b] = e.args.map((x) => upperBound(x, bounds));
  if (a === undefined || b === undefined) return undefined;
  switch (e.fn) {
    case "add":
      return a + b - 1;
    case "mul":
      return (a - 1) * (b - 1) + 1;
    case "idiv":
      return e.args[1].kind === "const" && e.args[1].value > 0 ? Math.floor((a - 1) / e.args[1].value) + 1 : undefined;
    case "imod":
      return Math.min(a, b - 1);
    default:
      return undefined;
  }
}

const INT_OPS = new Set(["add", "sub", "mul", "idiv", "imod"]);

/**
 * Folds integer arithmetic outside load offsets too (`(0 * 4 + i1) % 4` after an extent-1
 * variable became 0). Only where both operands are integers: `x * 0` is not 0 for a float x.
 */
function foldInts(e: Expr, typer: Typer, bounds: ReadonlyMap<string, number>): Expr {
  const fold = (x: Expr): Expr => foldInts(x, typer, bounds);
  switch (e.kind) {
    case "var":
    case "const":
      return e;
    case "load":
      return load(e.tensor, e.index.map(fold));
    case "cast":
      return { kind: "cast", dtype: e.dtype, x: fold(e.x) };
    case "select":
      return { kind: "select", cond: fold(e.cond), a: fold(e.a), b: fold(e.b) };
    case "call": {
      const args = e.args.map(fold);
      const rebuilt: Expr = { kind: "call", fn: e.fn, args };
      if (!INT_OPS.has(e.fn) || !args.every((a) => isIntType(typer.typeOf(a)))) return rebuilt;
      // x % n and x / n of an x known to be below n (a digit of extent n).
      const [a, d] = args;
      if ((e.fn === "imod" || e.fn === "idiv") && d.kind === "const" && d.value > 0) {
        const ub = upperBound(a, bounds);
        if (ub !== undefined && ub <= d.value) return e.fn === "imod" ? a : int(0);
      }
      return foldIndex(rebuilt);
    }
  }
}

/** `const int i1 = idx / 4 % 3;` for each digit of the groups that the emitters read. */
export function digitDecls(p: Prepared, groups: readonly Group[], used: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const em = new Emitter(p.scope);
  for (const g of groups)
    for (const d of g.vars) {
      if (!used.has(d.name)) continue;
      const def = digitOf(g, d.name);
      if (def) out.push(`const ${cName(p.scope.indexType)} ${d.name} = ${em.render(def, "f32").code};`);
    }
  return out;
}

/** A value converted to what an element of `dtype` stores (float to integer through a 64-bit integer). */
function storedValue(dtype: DType, c: Code): string {
  if (dtype.startsWith("float") || !isFloat(c.type)) return c.code;
  return `(long long)${wrap(c, PREC.unary)}`;
}

/**
 * The statement writing (or, accumulating, adding) `c` to the output element `at` (`out[idx]`).
 * float16 goes through float; an integer output takes the value converted like a C cast.
 */
export function storeStatement(p: Prepared, at: string, c: Code, accumulate: boolean): string {
  const { spec } = p.scope;
  const dtype = p.stage.out.dtype;
  if (dtype === "float16") {
    const sum = accumulate ? `${spec.halfToFloat}(${at}) + ${wrap(c, PREC.add + 1)}` : c.code;
    return `${at} = ${spec.floatToHalf}(${sum});`;
  }
  return `${at} ${accumulate ? "+=" : "="} ${storedValue(dtype, c)};`;
}

/** The value converted to the element type of the output, for an atomic add. */
export function elementValue(p: Prepared, c: Code): string {
  const dtype = p.stage.out.dtype;
  if (dtype === "float16") return c.type === "f32" ? c.code : `(float)${wrap(c, PREC.unary)}`;
  const t = p.scope.spec.storage[dtype];
  const v = storedValue(dtype, c);
  return (dtype === "float32" && c.type === "f32") || (dtype === "float64" && c.type === "f64") || (dtype === "int32" && c.type === "int")
    ? v
    : `(${t})${v === c.code ? wrap(c, PREC.unary) : v}`;
}

/** An output size as a C literal of the index type. */
export function sizeLiteral(n: number, indexType: "int" | "i64"): string {
  return indexType === "i64" ? `${n}LL` : String(n);
}
