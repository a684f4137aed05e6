/**
 * Composing a fused group into one stage: the group's map members are inlined into the
 * stage that reads them; a reduction (or scatter) member takes the map members upstream of
 * it as its prologue and the elementwise members downstream of it as its `post` epilogue.
 * Fusion calls this to test a candidate group (a group that does not compose is not formed);
 * lowering calls it to build the kernel. One code path, so every group formed lowers.
 */
import { Expr, v } from "../te/expr.js";
import { Stage, StageBody, TensorType } from "../te/stage.js";
import { KilnError } from "../base/errors.js";
import type { EntryStage } from "./stages.js";
import { InlineEnv, exprSize, isIdentityIndex, rewriteLoads, valueAt } from "./inline.js";

/** Inlining may add at most this many expression nodes to a group's own (recomputation beyond is not worth it). */
export const MAX_FUSED_EXPR = 600;

export interface ComposedStage {
  readonly stage: Stage;
  /** The entry read by each input slot of the stage. */
  readonly inputs: readonly number[];
  /** Expression nodes of the composed body (what fusion limits). */
  readonly size: number;
  /** Recomputed entries inlined into it (besides the members). */
  readonly recomputed: readonly number[];
}

/** Why a candidate group does not compose, or the composed stage. */
export type ComposeResult = { ok: true; value: ComposedStage } | { ok: false; why: string };

/**
 * Composes `members` (entry ids, including `root`) plus `recomputed` entries (cheap maps
 * inlined wherever read, members of no group) into one stage computing `root`.
 */
export function composeGroup(
  stages: ReadonlyMap<number, EntryStage>,
  members: ReadonlySet<number>,
  root: number,
  recomputed: ReadonlySet<number>,
  types: (entry: number) => TensorType,
): ComposeResult {
  const nonMap = [...members].filter((e) => stages.get(e)!.stage.body.kind !== "map");
  if (nonMap.length > 1) return { ok: false, why: "more than one reduction" };
  if (members.size > 1) {
    for (const e of members) if (stages.get(e)!.pattern === "opaque") return { ok: false, why: `opaque ${stages.get(e)!.op}` };
  }
  const inputs: number[] = [];
  const slotOf = new Map<number, number>();
  const external = (e: number): number => {
    let s = slotOf.get(e);
    if (s === undefined) {
      s = inputs.length;
      slotOf.set(e, s);
      inputs.push(e);
    }
    return s;
  };
  const red = nonMap[0];
  const usedRecomputed = new Set<number>();
  const isRecomputed = (e: number): boolean => recomputed.has(e) && !members.has(e) && (usedRecomputed.add(e), true);
  const rootSt = stages.get(root)!;
  let body: StageBody;
  let failure: string | undefined;

  if (red === undefined || red === root) {
    const st = rootSt;
    if (red !== undefined && members.size > 1 && (st.pattern === "outEWiseFusable" || st.pattern === "opaque"))
      return { ok: false, why: `${st.op} takes no prologue` };
    const env: InlineEnv = { stages, inlinable: (e) => (members.has(e) && e !== root) || isRecomputed(e), external };
    const b = st.stage.body;
    const rw = (x: Expr): Expr => rewriteLoads(env, st, x);
    if (b.kind === "map") body = { kind: "map", value: rw(b.value) };
    else if (b.kind === "reduce") body = { kind: "reduce", op: b.op, axes: b.axes, value: rw(b.value), ...(b.post ? { post: rw(b.post) } : {}) };
    else body = { kind: "scatter", axes: b.axes, index: b.index.map(rw), value: rw(b.value) };
  } else {
    // Epilogue: `red` is upstream of the root; the root's value becomes the reduction's post.
    const rs = stages.get(red)!;
    const rb = rs.stage.body;
    if (rb.kind !== "reduce") return { ok: false, why: `${rs.op} (a scatter) takes no epilogue` };
    const rootShape = rootSt.stage.out.shape;
    if (rs.stage.out.shape.length !== rootShape.length || rs.stage.out.shape.some((d, i) => d !== rootShape[i]))
      return { ok: false, why: "epilogue changes the shape" };
    const upstream = upstreamOf(stages, members, red, recomputed);
    if (upstream.size > 0 && (rs.pattern === "outEWiseFusable" || rs.pattern === "opaque")) return { ok: false, why: `${rs.op} takes no prologue` };
    const vars = rootSt.stage.vars;
    const env: InlineEnv = { stages, inlinable: (e) => upstream.has(e) || isRecomputed(e), external };
    // The reduction's own post (bias, mean's division) reads its own inputs: renumber them.
    const acc: Expr = rb.post ? rewriteLoads(env, rs, rb.post) : v("acc");
    const inlinable = (e: number): boolean => (members.has(e) && e !== red) || isRecomputed(e);
    const postEnv: InlineEnv = {
      stages,
      inlinable,
      external,
      special(e, index) {
        if (e !== red) return undefined;
        if (!isIdentityIndex(index, vars, rootShape)) failure = "the epilogue reads the reduction at another index";
        return acc;
      },
    };
    const post = valueAt(postEnv, root, vars.map((n) => v(n)));
    if (failure) return { ok: false, why: failure };
    body = { kind: "reduce", op: rb.op, axes: rb.axes, value: rewriteLoads(env, rs, rb.value), post };
  }

  // Limit what inlining duplicates, not what an op's own rule is (max-pooling's gradient is big).
  const size = bodySize(body);
  const own = [...members].reduce((a, e) => a + bodySize(stages.get(e)!.stage.body), 0);
  if (size > own + MAX_FUSED_EXPR) return { ok: false, why: `expression of ${size} nodes (${own} without inlining)` };
  const stage: Stage = { inputs: inputs.map(types), out: rootSt.stage.out, vars: rootSt.stage.vars, body };
  return { ok: true, value: { stage, inputs, size, recomputed: [...usedRecomputed].sort((a, b) => a - b) } };
}

/** Members that `to` reads, directly or through other members (its prologue). */
function upstreamOf(stages: ReadonlyMap<number, EntryStage>, members: ReadonlySet<number>, to: number, recomputed: ReadonlySet<number>): Set<number> {
  const out = new Set<number>();
  const seen = new Set<number>();
  const stack = [to];
  while (stack.length > 0) {
    const st = stages.get(stack.pop()!)!;
    for (const slot of st.reads) {
      const src = st.inputs[slot];
      if (seen.has(src)) continue;
      // Members behind a recomputed entry (a transpose inlined into the reduction) are upstream too.
      if (members.has(src)) {
        seen.add(src);
        out.add(src);
        stack.push(src);
      } else if (recomputed.has(src)) {
        seen.add(src);
        stack.push(src);
      }
    }
  }
  return out;
}

function bodySize(b: StageBody): number {
  if (b.kind === "map") return exprSize(b.value);
  if (b.kind === "reduce") return exprSize(b.value) + (b.post ? exprSize(b.post) : 0);
  return exprSize(b.value) + b.index.reduce((a, x) => a + exprSize(x), 0);
}

/** Composes a group that fusion accepted; failing here is a fusion bug. */
export function composeOrThrow(
  stages: ReadonlyMap<number, EntryStage>,
  members: ReadonlySet<number>,
  root: number,
  recomputed: ReadonlySet<number>,
  types: (entry: number) => TensorType,
): ComposedStage {
  const r = composeGroup(stages, members, root, recomputed, types);
  if (!r.ok) throw new KilnError(`lower: group of ${stages.get(root)!.op} (entry ${root}) does not compose: ${r.why}`);
  return r.value;
}
