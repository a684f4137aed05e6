/**
 * Recognizes contractions among reduce stages: a sum over reduction variables of a product of
 * two operands, each varying with its own part of the output index. Such a stage is a (batched)
 * GEMM, C[b, m, n] = Σ_k A[b, m, k] · B[b, n, k], and gets the GEMM schedule (gemm.ts) instead
 * of one serial reduction per output.
 *
 * The operands are kept as expressions, not as matrices: a fully connected layer's operands are
 * plain loads; a convolution's data operand is a window gather (`x[n, c, oh·s − p + kh, …]`)
 * guarded against the padding, which the schedule evaluates while it fills its tiles — implicit
 * GEMM, with no im2col buffer. The view:
 *
 * - M: output variables only the lhs reads, N: those only the rhs reads, batch: those both
 *   read (batch_dot's leading axes; a grouped convolution's group), K: the reduction axes;
 * - an output variable that one side reads whole and the other only as `x / D` (a grouped
 *   convolution's channel: its group is `a / (C/groups)`) is split into x = hi·D + lo, so that
 *   only hi is shared;
 * - a guard `select(cond, a·b, 0)` is distributed over the operands, each conjunct to the side
 *   whose variables it reads. A guarded-out term then contributes 0·b instead of 0: the same
 *   unless b is infinite or NaN (as in any im2col convolution).
 */
import { Expr, call, int, ix, num, select, v } from "../te/expr.js";
import type { Typer } from "./ctype.js";
import { computeType } from "./ctype.js";
import { coefficient, flatOffset, foldIndex } from "./index_math.js";
import type { Prepared } from "./prepare.js";

/** One dimension of the GEMM view: an index variable of the output, with its stride there. */
export interface GemmDim {
  readonly name: string;
  readonly extent: number;
  readonly outStride: number;
}

export interface Contraction {
  /** Output dimensions both operands read, those only the lhs (M) and only the rhs (N) reads; row-major in the output. */
  readonly batch: readonly GemmDim[];
  readonly m: readonly GemmDim[];
  readonly n: readonly GemmDim[];
  /** The reduction axes (K), in the stage's order. */
  readonly k: readonly { readonly name: string; readonly extent: number }[];
  /** The operands over the dims' variables, guards folded in as select(cond, x, 0). */
  readonly a: Expr;
  readonly b: Expr;
  /** Sizes of the flattened view. */
  readonly B: number;
  readonly M: number;
  readonly N: number;
  readonly K: number;
  /** Whether an operand's loads walk memory fastest along K (else along its own side), for the order its tile is filled in. */
  readonly aKFast: boolean;
  readonly bKFast: boolean;
  /** Variables made by splitting output variables (index-typed, like the others). */
  readonly splitVars: readonly string[];
}

const size = (ds: readonly { extent: number }[]): number => ds.reduce((a, d) => a * d.extent, 1);

/** Casts that change nothing (to the type the value already computes in); float16 and narrow integers round or wrap. */
function stripNoopCasts(e: Expr, typer: Typer): Expr {
  while (e.kind === "cast" && ["float32", "float64", "int32", "int64"].includes(e.dtype) && computeType(e.dtype) === typer.typeOf(e.x)) e = e.x;
  return e;
}

const isZero = (e: Expr): boolean => e.kind === "const" && e.value === 0;

function conjuncts(e: Expr, out: Expr[]): Expr[] {
  if (e.kind === "call" && e.fn === "and") e.args.forEach((a) => conjuncts(a, out));
  else out.push(e);
  return out;
}

function varsOf(e: Expr, out = new Set<string>()): Set<string> {
  switch (e.kind) {
    case "var":
      out.add(e.name);
      break;
    case "const":
      break;
    case "load":
      e.index.forEach((x) => varsOf(x, out));
      break;
    case "call":
      e.args.forEach((x) => varsOf(x, out));
      break;
    case "select":
      [e.cond, e.a, e.b].forEach((x) => varsOf(x, out));
      break;
    case "cast":
      varsOf(e.x, out);
      break;
  }
  return out;
}

/**
 * `x / D` → 0 and `x % D` → x where x's extent is at most D (a convolution with one group reads
 * channel `a / num_filter · C + b`); load indices are then re-folded (0 · C + b → b).
 */
function foldByExtent(e: Expr, extents: ReadonlyMap<string, number>): Expr {
  const rec = (y: Expr): Expr => foldByExtent(y, extents);
  switch (e.kind) {
    case "var":
    case "const":
      return e;
    case "load":
      return { kind: "load", tensor: e.tensor, index: e.index.map((i) => foldIndex(rec(i))) };
    case "cast":
      return { kind: "cast", dtype: e.dtype, x: rec(e.x) };
    case "select":
      return { kind: "select", cond: rec(e.cond), a: rec(e.a), b: rec(e.b) };
    case "call": {
      const [a0, a1] = e.args;
      if ((e.fn === "idiv" || e.fn === "imod") && a0.kind === "var" && a1.kind === "const" && (extents.get(a0.name) ?? Infinity) <= a1.value)
        return e.fn === "idiv" ? int(0) : a0;
      return { kind: "call", fn: e.fn, args: e.args.map(rec) };
    }
  }
}

/** Divisors D of `idiv(x, D)` and `imod(x, D)` in e. */
function divisorsOf(e: Expr, x: string, out: Set<number>): void {
  if (e.kind === "call" && (e.fn === "idiv" || e.fn === "imod") && e.args[0].kind === "var" && e.args[0].name === x && e.args[1].kind === "const")
    out.add(e.args[1].value);
  if (e.kind === "load") e.index.forEach((i) => divisorsOf(i, x, out));
  if (e.kind === "call") e.args.forEach((a) => divisorsOf(a, x, out));
  if (e.kind === "select") [e.cond, e.a, e.b].forEach((a) => divisorsOf(a, x, out));
  if (e.kind === "cast") divisorsOf(e.x, x, out);
}

/** e with x = hi·D + lo: `x / D` becomes hi, `x % D` lo, and a bare x hi·D + lo. */
function splitVar(e: Expr, x: string, D: number, hi: string, lo: string): Expr {
  const rec = (y: Expr): Expr => splitVar(y, x, D, hi, lo);
  switch (e.kind) {
    case "var":
      return e.name === x ? ix.add(ix.mul(v(hi), D), v(lo)) : e;
    case "const":
      return e;
    case "load":
      return { kind: "load", tensor: e.tensor, index: e.index.map(rec) };
    case "cast":
      return { kind: "cast", dtype: e.dtype, x: rec(e.x) };
    case "select":
      return { kind: "select", cond: rec(e.cond), a: rec(e.a), b: rec(e.b) };
    case "call": {
      const [a0, a1] = e.args;
      if ((e.fn === "idiv" || e.fn === "imod") && a0.kind === "var" && a0.name === x && a1.kind === "const" && a1.value === D)
        return v(e.fn === "idiv" ? hi : lo);
      return { kind: "call", fn: e.fn, args: e.args.map(rec) };
    }
  }
}

/** Whether an operand's loads walk memory with unit stride along K's innermost axis, and at least as far as along its own side's. */
function kFast(e: Expr, p: Prepared, side: readonly GemmDim[], k: readonly { name: string; extent: number }[]): boolean {
  const kIn = k[k.length - 1];
  const sIn = side[side.length - 1];
  let fast = false;
  const visit = (x: Expr): void => {
    if (x.kind === "load") {
      const off = flatOffset(x.index.map(foldIndex), p.stage.inputs[x.tensor].shape);
      const ck = coefficient(off, kIn.name);
      const cs = sIn ? coefficient(off, sIn.name) : undefined;
      if (ck === 1 && (cs !== 1 || kIn.extent >= sIn.extent)) fast = true;
      x.index.forEach(visit);
    }
    if (x.kind === "call") x.args.forEach(visit);
    if (x.kind === "select") [x.cond, x.a, x.b].forEach(visit);
    if (x.kind === "cast") visit(x.x);
  };
  visit(e);
  return fast;
}

/** The GEMM view of a prepared reduce kernel, or undefined when it is not a contraction. */
export function findContraction(p: Prepared): Contraction | undefined {
  const body = p.body;
  if (body.kind !== "reduce" || body.op !== "sum") return undefined;
  const typer = p.scope.typer;
  const k = body.axes.filter((a) => a.extent > 1);
  // Empty outputs or reductions stay with the reduce family (which handles them).
  if (k.length === 0 || [...body.axes, ...p.outAxes].some((a) => a.extent === 0)) return undefined;

  // Peel guards and no-op casts down to the product.
  const extents = new Map([...p.outAxes, ...body.axes].map((a) => [a.name, a.extent]));
  let e = stripNoopCasts(foldByExtent(body.value, extents), typer);
  const conds: Expr[] = [];
  while (e.kind === "select" && isZero(e.b)) {
    conjuncts(e.cond, conds);
    e = stripNoopCasts(e.a, typer);
  }
  if (e.kind !== "call" || e.fn !== "mul") return undefined;
  let [a, b] = e.args;

  const outStrides: number[] = [];
  for (let d = p.outAxes.length - 1, s = 1; d >= 0; d--) {
    outStrides[d] = s;
    s *= p.outAxes[d].extent;
  }
  let dims: GemmDim[] = p.outAxes.map((x, d) => ({ name: x.name, extent: x.extent, outStride: outStrides[d] })).filter((d) => d.extent > 1);
  const outNames = (x: Expr): Set<string> => new Set([...varsOf(x)].filter((n) => dims.some((d) => d.name === n)));

  // Split variables that both sides read, where one side reads only their quotient.
  const splitVars: string[] = [];
  for (const d of [...dims]) {
    if (!(outNames(a).has(d.name) && outNames(b).has(d.name))) continue;
    const divisors = new Set<number>();
    [a, b, ...conds].forEach((x) => divisorsOf(x, d.name, divisors));
    for (const D of [...divisors].sort((x, y) => x - y)) {
      if (!(D > 1 && D < d.extent && d.extent % D === 0)) continue;
      const hi = `g_hi${splitVars.length / 2}`;
      const lo = `g_lo${splitVars.length / 2}`;
      const [a2, b2] = [a, b].map((x) => splitVar(x, d.name, D, hi, lo));
      if (varsOf(a2).has(lo) && varsOf(b2).has(lo)) continue;
      a = a2;
      b = b2;
      conds.splice(0, conds.length, ...conds.map((c) => splitVar(c, d.name, D, hi, lo)));
      splitVars.push(hi, lo);
      const at = dims.findIndex((x) => x.name === d.name);
      dims.splice(at, 1, { name: hi, extent: d.extent / D, outStride: d.outStride * D }, { name: lo, extent: D, outStride: d.outStride });
      break;
    }
  }
  dims = dims.filter((d) => d.extent > 1);

  const va = outNames(a);
  const vb = outNames(b);
  const batch = dims.filter((d) => va.has(d.name) && vb.has(d.name));
  let m = dims.filter((d) => !vb.has(d.name));
  let n = dims.filter((d) => vb.has(d.name) && !va.has(d.name));
  // Each conjunct of the guard goes to the side whose variables it reads.
  const condA: Expr[] = [];
  const condB: Expr[] = [];
  const inSide = (c: Expr, side: readonly GemmDim[]): boolean => [...outNames(c)].every((x) => side.some((d) => d.name === x) || batch.some((d) => d.name === x));
  for (const c of conds) {
    if (inSide(c, m)) condA.push(c);
    else if (inSide(c, n)) condB.push(c);
    else return undefined;
  }
  a = guarded(a, condA);
  b = guarded(b, condB);

  // The side holding the output's unit-stride dimension goes to N: the epilogue then writes rows.
  let aKFast = kFast(a, p, m, k);
  let bKFast = kFast(b, p, n, k);
  if (m.some((d) => d.outStride === 1)) {
    [a, b] = [b, a];
    [m, n] = [n, m];
    [aKFast, bKFast] = [bKFast, aKFast];
  }
  return { batch, m, n, k, a, b, B: size(batch), M: size(m), N: size(n), K: size(k), aKFast, bKFast, splitVars };
}

/** `c₁ && c₂ … ? x : 0`, or x when there are no conditions (select is lazy: x is not evaluated where they fail). */
function guarded(x: Expr, conds: readonly Expr[]): Expr {
  return conds.length ? select(conds.reduce((p1, c) => call("and", p1, c)), x, num(0)) : x;
}

/** x guarded by `counter < bound` for the bounds a tile can pass (its last tile runs past the end). */
export function guardBounds(x: Expr, bounds: readonly { counter: string; bound: number; needed: boolean }[]): Expr {
  return guarded(x, bounds.filter((b) => b.needed).map((b) => call("lt", v(b.counter), int(b.bound))));
}
