/**
 * Index arithmetic on static shapes. Kernels loop over flat counters (`idx` over the output,
 * `k` over a reduction or scatter domain); the stage's index variables are digits of those
 * counters. A load's flat offset is rewritten so that runs of digits that the load walks in
 * step with the counter collapse back into the counter: an identity load becomes `in0[idx]`,
 * a broadcast `in1[idx % 64]`, a reduction over the last axis `in0[idx * 128 + k]`. What does
 * not collapse is rendered from the digits (`i1 = idx / 4 % 3`).
 */
import { Expr, int, ix, v } from "../te/expr.js";

/** A flat counter and the index variables (row-major digits) it enumerates. */
export interface Group {
  readonly counter: string;
  /** Variables with extent > 1 (extent-1 variables are replaced by 0 before rendering). */
  readonly vars: readonly { readonly name: string; readonly extent: number; readonly stride: number }[];
  /** Number of points: the counter runs over [0, total). */
  readonly total: number;
}

/** The group of `counter` over `axes` (name, extent), row-major. */
export function makeGroup(counter: string, axes: readonly { name: string; extent: number }[]): Group {
  let stride = 1;
  const vars: { name: string; extent: number; stride: number }[] = [];
  for (let d = axes.length - 1; d >= 0; d--) {
    if (axes[d].extent > 1) vars.unshift({ name: axes[d].name, extent: axes[d].extent, stride });
    stride *= axes[d].extent;
  }
  return { counter, vars, total: stride };
}

/** The definition of a group variable as an Expr of its counter: `(idx / stride) % extent`. */
export function digitOf(g: Group, name: string): Expr | undefined {
  const j = g.vars.findIndex((x) => x.name === name);
  if (j < 0) return undefined;
  const d = g.vars[j];
  const q = ix.div(v(g.counter), d.stride);
  // The leading digit needs no modulo: the counter is below total.
  return j === 0 ? q : ix.mod(q, d.extent);
}

type Affine = { c: number; terms: Map<string, number> };

/** e as c + Σ coef·var, or undefined when e is not affine in its variables. */
function affine(e: Expr): Affine | undefined {
  switch (e.kind) {
    case "var":
      return { c: 0, terms: new Map([[e.name, 1]]) };
    case "const":
      return e.int ? { c: e.value, terms: new Map() } : undefined;
    case "call": {
      if (e.fn === "add" || e.fn === "sub") {
        const a = affine(e.args[0]);
        const b = affine(e.args[1]);
        if (!a || !b) return undefined;
        return addAffine(a, b, e.fn === "add" ? 1 : -1);
      }
      if (e.fn === "neg") {
        const a = affine(e.args[0]);
        return a && scaleAffine(a, -1);
      }
      if (e.fn === "mul") {
        const a = affine(e.args[0]);
        const b = affine(e.args[1]);
        if (!a || !b) return undefined;
        if (a.terms.size === 0) return scaleAffine(b, a.c);
        if (b.terms.size === 0) return scaleAffine(a, b.c);
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/** The coefficient of variable `name` in e, when e is affine. */
export function coefficient(e: Expr, name: string): number | undefined {
  const a = affine(e);
  return a ? (a.terms.get(name) ?? 0) : undefined;
}

function addAffine(a: Affine, b: Affine, sign: number): Affine {
  const terms = new Map(a.terms);
  for (const [n, k] of b.terms) terms.set(n, (terms.get(n) ?? 0) + sign * k);
  return { c: a.c + sign * b.c, terms };
}

function scaleAffine(a: Affine, s: number): Affine {
  return { c: a.c * s, terms: new Map([...a.terms].map(([n, k]) => [n, k * s])) };
}

/** Builds c + Σ terms with positive terms first, so negative coefficients render as subtraction. */
function sumOf(c: number, terms: readonly { e: Expr; coef: number }[]): Expr {
  let pos: Expr | undefined;
  for (const t of terms) if (t.coef > 0) pos = pos ? ix.add(pos, ix.mul(t.e, t.coef)) : ix.mul(t.e, t.coef);
  let out: Expr = pos ?? int(0);
  if (c > 0 || !pos) out = ix.add(out, c);
  for (const t of terms) if (t.coef < 0) out = ix.sub(out, ix.mul(t.e, -t.coef));
  if (c < 0) out = ix.sub(out, -c);
  return out;
}

/** Collapses an affine form: runs of a group's digits with proportional coefficients become one counter term. */
function collapseAffine(a: Affine, groups: readonly Group[]): Expr {
  const terms: { e: Expr; coef: number }[] = [];
  const rest = new Map(a.terms);
  for (const g of groups) {
    const coef = g.vars.map((x) => rest.get(x.name) ?? 0);
    g.vars.forEach((x) => rest.delete(x.name));
    for (let j = 0; j < g.vars.length; ) {
      if (coef[j] === 0) {
        j++;
        continue;
      }
      let e = j;
      while (e + 1 < g.vars.length && coef[e + 1] !== 0 && coef[j] * g.vars[e + 1].stride === coef[e + 1] * g.vars[j].stride) e++;
      const se = g.vars[e].stride;
      const q = ix.div(v(g.counter), se);
      const span = (g.vars[j].stride * g.vars[j].extent) / se;
      terms.push({ e: j === 0 ? q : ix.mod(q, span), coef: coef[e] });
      j = e + 1;
    }
  }
  for (const [name, coef] of rest) if (coef !== 0) terms.push({ e: v(name), coef });
  // Larger strides first reads like a row-major offset.
  terms.sort((x, y) => Math.abs(y.coef) - Math.abs(x.coef));
  return sumOf(a.c, terms);
}

function summands(e: Expr, out: Expr[]): void {
  if (e.kind === "call" && e.fn === "add") {
    summands(e.args[0], out);
    summands(e.args[1], out);
  } else out.push(e);
}

/**
 * Simplifies an integer index expression: the affine summands are merged and collapsed onto
 * the groups' counters; other summands (a gathered index, a division) are simplified inside.
 */
export function collapse(e: Expr, groups: readonly Group[]): Expr {
  const whole = affine(e);
  if (whole) return collapseAffine(whole, groups);
  const parts: Expr[] = [];
  summands(e, parts);
  let lin: Affine = { c: 0, terms: new Map() };
  const other: Expr[] = [];
  for (const p of parts) {
    const a = affine(p);
    if (a) lin = addAffine(lin, a, 1);
    else other.push(simplifyInside(p, groups));
  }
  let out = lin.terms.size || lin.c ? collapseAffine(lin, groups) : undefined;
  for (const o of other) out = out ? ix.add(o, out) : o;
  return out ?? int(0);
}

function simplifyInside(e: Expr, groups: readonly Group[]): Expr {
  if (e.kind !== "call") return e;
  if ((e.fn === "idiv" || e.fn === "imod") && e.args[1].kind === "const" && e.args[1].int) {
    const a = collapse(e.args[0], groups);
    const d = e.args[1].value;
    return e.fn === "idiv" ? ix.div(a, d) : ix.mod(a, d);
  }
  if (e.fn === "mul") return ix.mul(collapse(e.args[0], groups), collapse(e.args[1], groups));
  return e;
}

function same(a: readonly Expr[], b: readonly Expr[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Re-folds the integer spine of an index expression (add/sub/mul/idiv/imod) after variables
 * were replaced by constants; what hangs off the spine (a gathered index) is left alone.
 */
export function foldIndex(e: Expr): Expr {
  if (e.kind !== "call") return e;
  const [a, b] = e.args;
  switch (e.fn) {
    case "add":
      return ix.add(foldIndex(a), foldIndex(b));
    case "sub":
      return ix.sub(foldIndex(a), foldIndex(b));
    case "mul":
      return ix.mul(foldIndex(a), foldIndex(b));
    case "idiv":
    case "imod": {
      const fb = foldIndex(b);
      if (fb.kind !== "const" || fb.value <= 0) return { kind: "call", fn: e.fn, args: [foldIndex(a), fb] };
      return e.fn === "idiv" ? ix.div(foldIndex(a), fb.value) : ix.mod(foldIndex(a), fb.value);
    }
    default:
      return e;
  }
}

/**
 * The flat offset of `index` in a row-major tensor of `shape`. A reshape's index is
 * `unflatten(f, shape)`; its offset is f itself, found by matching that pattern, also on a
 * suffix of the dims (FullyConnected reads data[row, unflatten(t, (C, H, W))]: row·CHW + t).
 */
export function flatOffset(index: readonly Expr[], shape: readonly number[]): Expr {
  if (index.length !== shape.length) throw new Error(`index of rank ${index.length} for a tensor of shape (${shape.join(",")})`);
  for (let s = 0; s + 1 < index.length; s++) {
    if (shape[s] === 1) continue;
    const first = index[s];
    const inner = shape.slice(s + 1).reduce((x, y) => x * y, 1);
    const f = first.kind === "call" && first.fn === "idiv" && first.args[1].kind === "const" && first.args[1].value === inner ? first.args[0] : undefined;
    if (f && same(ix.unflatten(f, shape.slice(s)), index.slice(s)))
      return ix.add(ix.mul(ix.flatten(index.slice(0, s), shape.slice(0, s)), inner * shape[s]), f);
  }
  return ix.flatten(index, shape);
}
