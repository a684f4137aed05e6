/**
 * Inlining producers into consumers: a map stage read at some index is replaced by its value
 * with its index variables substituted by that index (TVM's compute_inline). Fusion uses it
 * to size candidate groups; lowering to build each kernel's single stage.
 */
import { Expr, cast, load, mapLoads, substitute } from "../te/expr.js";
import { isFloatDType } from "../base/dtype.js";
import type { EntryStage } from "./stages.js";

export interface InlineEnv {
  readonly stages: ReadonlyMap<number, EntryStage>;
  /** Whether a load of `entry` is replaced by the entry's (map) value. */
  inlinable(entry: number): boolean;
  /** A replacement for a load of `entry` at `index` (a reduction result read as `acc`), if any. */
  special?(entry: number, index: readonly Expr[]): Expr | undefined;
  /** The kernel input slot of an entry read from memory (allocated on first use). */
  external(entry: number): number;
}

/** Rewrites the loads of an expression of stage `st` (whose slots are `st.inputs`). */
export function rewriteLoads(env: InlineEnv, st: EntryStage, e: Expr): Expr {
  return mapLoads(e, (l) => {
    const src = st.inputs[l.tensor];
    const sp = env.special?.(src, l.index);
    if (sp) return sp;
    if (env.inlinable(src)) return valueAt(env, src, l.index);
    return load(env.external(src), l.index);
  });
}

/** The value of map entry `entry` at `index`, its own producers inlined as the env says. */
export function valueAt(env: InlineEnv, entry: number, index: readonly Expr[]): Expr {
  const st = env.stages.get(entry);
  if (!st || st.stage.body.kind !== "map") throw new Error(`inline: entry ${entry} is not a map stage`);
  const bind = new Map<string, Expr>(st.stage.vars.map((v, d) => [v, index[d]]));
  // Rewrite the producer's own loads first, then substitute: the index expressions bound in
  // already hold loads in the consumer's numbering and must not be rewritten a second time.
  const value = substitute(rewriteLoads(env, st, st.stage.body.value), bind);
  // A materialized integer output would be truncated on store; keep that when inlined.
  const t = st.stage.out.dtype;
  return isFloatDType(t) ? value : cast(t, value);
}

/** Number of nodes of an expression tree (what inlining duplicates). */
export function exprSize(e: Expr): number {
  switch (e.kind) {
    case "var":
    case "const":
      return 1;
    case "load":
      return 1 + e.index.reduce((a, x) => a + exprSize(x), 0);
    case "call":
      return 1 + e.args.reduce((a, x) => a + exprSize(x), 0);
    case "select":
      return 1 + exprSize(e.cond) + exprSize(e.a) + exprSize(e.b);
    case "cast":
      return 1 + exprSize(e.x);
  }
}

/**
 * Whether `index` is the consumer's own index `vars` over `shape`: each dim the variable
 * itself, or 0 where the extent is 1 (broadcasting rules write those as 0).
 */
export function isIdentityIndex(index: readonly Expr[], vars: readonly string[], shape: readonly number[]): boolean {
  return (
    index.length === vars.length &&
    index.every((x, d) => (x.kind === "var" && x.name === vars[d]) || (shape[d] === 1 && x.kind === "const" && x.value === 0))
  );
}

/** Whether every load of `slots` in `e` reads exactly at the consumer's own index. */
export function loadsAtIdentity(e: Expr, slots: ReadonlySet<number>, vars: readonly string[], shape: readonly number[]): boolean {
  let ok = true;
  mapLoads(e, (l) => {
    if (slots.has(l.tensor) && !isIdentityIndex(l.index, vars, shape)) ok = false;
    return l;
  });
  return ok;
}
