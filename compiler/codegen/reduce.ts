/**
 * The reduce family: out[i…] = post(⊕ over the axes of value). Each output keeps a local state
 * (`acc`, or `bv`/`best` for argmax/argmin) updated along a flat loop `k` over the reduction
 * domain; the target's schedule decides how that loop is spread (see ReduceSchedule).
 *
 * Semantics follow compiler/te/interpret.ts: max/min start from ∓inf and propagate NaN,
 * argmax/argmin return the first extreme index. A serial loop is the interpreter's own
 * (`best < 0 || x > bv`); where partial states merge (chunks, warps), each part starts empty
 * and merges prefer the smaller index on ties, with one rule kept exact: a NaN at k = 0 wins,
 * as it does serially (nothing compares greater than the NaN held in bv).
 */
import { KilnError } from "../base/errors.js";
import type { ReduceOp } from "../te/stage.js";
import type { Expr, Load } from "../te/expr.js";
import { CType, FloatType, cName, isFloat } from "./ctype.js";
import { Code, Emitter, PREC } from "./emitter.js";
import { coefficient, flatOffset, foldIndex, makeGroup } from "./index_math.js";
import { Prepared, digitDecls, flattenLoads, sizeLiteral, storeStatement } from "./prepare.js";
import { KernelSource, Launch, gridLaunch, lines, signatureFields } from "./skeleton.js";
import { template } from "./templates.js";
import type { TargetSpec } from "./targets.js";

interface StateVar {
  name: string;
  type: string;
  init: string;
}

/** The state, its update by element `x` at index `k`, and the merge of a partial `o_…`. */
function stateOf(op: ReduceOp, A: FloatType, spec: TargetSpec, indexType: string, merging: boolean) {
  const acc = cName(A);
  const inf = spec.infinity[A];
  const zero = A === "f32" ? "0.0f" : "0.0";
  const one = A === "f32" ? "1.0f" : "1.0";
  switch (op) {
    case "sum":
      return { state: [{ name: "acc", type: acc, init: zero }], update: "acc += x;", merge: "acc += o_acc;" };
    case "prod":
      return { state: [{ name: "acc", type: acc, init: one }], update: "acc *= x;", merge: "acc *= o_acc;" };
    case "max":
    case "min": {
      const cmp = op === "max" ? ">" : "<";
      return {
        state: [{ name: "acc", type: acc, init: op === "max" ? `-${inf}` : inf }],
        // NaN propagates: once held, nothing compares past it.
        update: `acc = x ${cmp} acc || x != x ? x : acc;`,
        merge: `acc = o_acc ${cmp} acc || o_acc != o_acc ? o_acc : acc;`,
      };
    }
    case "argmax":
    case "argmin": {
      const cmp = op === "argmax" ? ">" : "<";
      return {
        state: [
          { name: "bv", type: acc, init: op === "argmax" ? `-${inf}` : inf },
          { name: "best", type: indexType, init: "-1" },
        ],
        update: merging
          ? `if (x ${cmp} bv || (k == 0 && x != x)) { bv = x; best = k; }`
          : `if (best < 0 || x ${cmp} bv) { bv = x; best = k; }`,
        merge: `if (o_best >= 0 && (best < 0 || o_bv ${cmp} bv || (o_bv == bv && o_best < best) || o_bv != o_bv)) { bv = o_bv; best = o_best; }`,
      };
    }
  }
}

export function renderReduce(p: Prepared): KernelSource {
  const b = p.body;
  if (b.kind !== "reduce") throw new Error("internal: renderReduce on a non-reduce kernel");
  const { spec, indexType, typer } = p.scope;
  const outG = makeGroup("idx", p.outAxes);
  const red = makeGroup("k", b.axes);
  const value = flattenLoads(b.value, p, [outG, red]);

  // The value's type fixes the accumulator's; integers accumulate in the promotion type.
  const vt = typer.typeOf(value);
  const A: FloatType = vt === "lit" ? p.outFloat : isFloat(vt) ? (vt as FloatType) : typer.env.promote;
  const inner = b.axes.filter((a) => a.extent > 1);
  const last = inner[inner.length - 1];
  const unitStride = (axis: string): boolean =>
    loadsOf(b.value).some((l) => coefficient(flatOffset(l.index.map(foldIndex), p.stage.inputs[l.tensor].shape), axis) === 1);
  const contiguous = last !== undefined && unitStride(last.name);
  const outInner = p.outAxes.filter((a) => a.extent > 1);
  const outLast = outInner[outInner.length - 1];
  const outputsContiguous = outLast !== undefined && unitStride(outLast.name);
  const sched = spec.reduceSchedule({ outputs: outG.total, extent: red.total, contiguous, outputsContiguous });
  // Chunks and blocks merge partial states; the column schedule runs each output serially.
  const merging = (sched.kind === "chunked" || sched.kind === "block") && red.total > 0;
  const idxName = cName(indexType);
  const st = stateOf(b.op, A, spec, idxName, merging);

  const em = new Emitter(p.scope).plan(value);
  const x = em.render(value, A);
  em.declare(A, "x", x.code);
  const innerLines = [...digitDecls(p, [red], em.usedVars), ...em.lines, st.update];

  const arg = b.op === "argmax" || b.op === "argmin";
  const accType: CType = arg ? indexType : A;
  p.varTypes.set("acc", accType);
  const epi = new Emitter(p.scope);
  // A merged argmax that found nothing above ∓inf (every element ∓inf or NaN) is index 0, as serially.
  if (arg) epi.declare(indexType, "acc", merging ? "best < 0 ? 0 : best" : "best");
  let result: Code = { code: "acc", prec: PREC.primary, type: accType as Code["type"] };
  if (b.post) {
    const post = flattenLoads(b.post, p, [outG]);
    result = epi.plan(post).render(post, p.outFloat);
  }
  const epilogue = [...epi.lines, storeStatement(p, "out[idx]", result, p.kernel.accumulate)];
  const outer = digitDecls(p, [outG], new Set([...em.usedVars, ...epi.usedVars]));

  const threads = sched.kind === "block" ? sched.threads : spec.blockThreads;
  const chunks = sched.kind === "chunked" ? Math.min(sched.chunks, red.total) : 0;
  const source = template(spec, "reduce")({
    ...signatureFields(p, threads),
    size: sizeLiteral(outG.total, indexType),
    extent: sizeLiteral(red.total, indexType),
    parallel: (sched.kind === "serial" || sched.kind === "columns") && sched.parallel,
    columns: sched.kind === "columns" ? sched.columns : 0,
    simd: sched.kind === "serial" && (b.op === "sum" || b.op === "prod") ? `${b.op === "sum" ? "+" : "*"}:acc` : "",
    chunks,
    chunk: sizeLiteral(chunks ? Math.ceil(red.total / chunks) : 0, indexType),
    warps: sched.kind === "block" ? threads / 32 : 0,
    shared: spec.sharedPrefix,
    barrier: spec.barrier,
    state: st.state satisfies StateVar[],
    merge: st.merge,
    outer: lines(outer),
    inner: lines(innerLines),
    epilogue: lines(epilogue),
  });
  let launch: Launch | undefined;
  if (sched.kind === "block") {
    if (!spec.launches) throw new KilnError(`${p.where}: a block reduction on a target without launches`);
    launch = { grid: [Math.max(1, Math.min(65535, outG.total)), 1, 1], block: [threads, 1, 1], sharedBytes: 0 };
  } else launch = gridLaunch(spec, outG.total);
  return { source, launch };
}

function loadsOf(e: Expr): Load[] {
  const out: Load[] = [];
  const visit = (x: Expr): void => {
    if (x.kind === "load") out.push(x);
    if (x.kind === "call") x.args.forEach(visit);
    if (x.kind === "select") [x.cond, x.a, x.b].forEach(visit);
    if (x.kind === "cast") visit(x.x);
  };
  visit(e);
  return out;
}
