/**
 * Operator fusion over the post-dominator tree (TVM's FuseOps, relay/transforms/fuse_ops.cc).
 *
 * Vertices are the computed entries (one stage each); an edge runs from an entry to each
 * stage that loads it. Walking producers before consumers, an entry joins the group of its
 * immediate post-dominator when every path between them can be inlined:
 * - elemwise/broadcast/injective (map) producers inline into map consumers and into the
 *   value of reductions (prologue) — not into GEMM/convolution (outEWiseFusable) stages,
 *   whose inputs are read many times per output;
 * - a reduction or GEMM/convolution takes the elementwise consumers of its result (read at
 *   the same index) into its `post` (epilogue: bias, activation, residual add, inference
 *   BatchNorm);
 * - a group holds at most one reduction; opaque ops stay alone.
 * Whether a candidate group is valid is decided by composing it (compose.ts), so every
 * group lowers. A producer read by several groups is materialized, except when trivially
 * cheap: index-only copies (reshape, transpose, slice, broadcast: one load, no arithmetic) and
 * constants are recomputed by every reader, and small map groups (at most CHEAP_EXPR
 * expression nodes, e.g. softmax's exp(x − max)) are recomputed by each of their readers when
 * all of them take prologues. Nothing fuses across phases (forward/backward): backward
 * never recomputes forward work unless mirroring put a copy into the backward phase.
 */
import { Graph as Digraph, alg } from "@dagrejs/graphlib";
import type { TensorType } from "../te/stage.js";
import type { EntryStage } from "./stages.js";
import { composeGroup } from "./compose.js";

/** A small map group read by several consumers is recomputed by each when at most this big. */
export const CHEAP_EXPR = 16;

export interface FusedGroup {
  /** The entry the group's kernel writes. */
  readonly root: number;
  /** Entries computed inside the kernel, in topological order, the root last. */
  readonly members: readonly number[];
}

export interface FusionPlan {
  /** Groups in an order that respects their dependencies. */
  readonly groups: readonly FusedGroup[];
  /** Cheap map entries inlined into every group that reads them (members of no group). */
  readonly recomputed: ReadonlySet<number>;
}

export interface FuseOptions {
  /** false: one kernel per entry, nothing inlined (for comparison and debugging). */
  fuse: boolean;
  /** Entries that must be materialized (graph outputs, aux writes). */
  roots: ReadonlySet<number>;
  /** Phase of each entry (0 forward, 1 backward); consumers in another phase force materialization. */
  phase(entry: number): number;
  types(entry: number): TensorType;
  /** Where to say why candidate groups were rejected (KILN_DEBUG ≥ 2). */
  log?(line: string): void;
}

const EXIT = -1;

/** Fuses the computed entries described by `stages` (keys: entry ids). */
export function fuse(stages: ReadonlyMap<number, EntryStage>, opts: FuseOptions): FusionPlan {
  const entries = [...stages.keys()].sort((a, b) => a - b);
  if (!opts.fuse) return { groups: entries.map((e) => ({ root: e, members: [e] })), recomputed: new Set() };

  // The dataflow graph between computed entries.
  const g = new Digraph();
  for (const e of entries) g.setNode(String(e));
  for (const e of entries) {
    const st = stages.get(e)!;
    for (const slot of st.reads) {
      const src = st.inputs[slot];
      if (stages.has(src)) g.setEdge(String(src), String(e));
    }
  }
  const order = (alg.topsort(g) as string[]).map(Number);
  const consumers = (e: number): number[] => (g.successors(String(e)) ?? []).map(Number);

  // An entry with a root role or a consumer in another phase has uses outside any group.
  const escapes = (e: number): boolean => opts.roots.has(e) || consumers(e).some((c) => opts.phase(c) !== opts.phase(e));

  const recomputed = new Set<number>();
  for (const e of entries) if (!escapes(e) && isTrivial(stages.get(e)!)) recomputed.add(e);

  // Recomputed entries are transparent: their readers read what they read.
  const effMemo = new Map<number, number[]>();
  const effConsumers = (e: number): number[] => {
    let r = effMemo.get(e);
    if (!r) {
      const out = new Set<number>();
      for (const c of consumers(e)) {
        if (recomputed.has(c)) for (const x of effConsumers(c)) out.add(x);
        else out.add(c);
      }
      effMemo.set(e, (r = [...out]));
    }
    return r;
  };
  const ipdom = postDominators(order.filter((e) => !recomputed.has(e)), effConsumers, escapes);

  // Union-find over entries; each set records its members and its root (most downstream).
  const parent = new Map<number, number>(entries.map((e) => [e, e]));
  const find = (e: number): number => {
    let r = e;
    while (parent.get(r) !== r) r = parent.get(r)!;
    while (parent.get(e) !== r) {
      const next = parent.get(e)!;
      parent.set(e, r);
      e = next;
    }
    return r;
  };
  const members = new Map<number, Set<number>>(entries.map((e) => [e, new Set([e])]));
  const rootOf = new Map<number, number>(entries.map((e) => [e, e]));
  const groupOf = (e: number): { id: number; members: Set<number>; root: number } => {
    const id = find(e);
    return { id, members: members.get(id)!, root: rootOf.get(id)! };
  };
  const merge = (ids: number[], root: number): void => {
    const keep = ids[0];
    const all = members.get(keep)!;
    for (const other of ids.slice(1)) {
      if (other === keep) continue;
      for (const m of members.get(other)!) all.add(m);
      members.delete(other);
      rootOf.delete(other);
      parent.set(other, keep);
    }
    rootOf.set(keep, root);
  };
  const composes = (set: Set<number>, root: number): boolean => {
    const r = composeGroup(stages, set, root, recomputed, opts.types);
    if (!r.ok) opts.log?.(`fuse: ${stages.get(root)!.op} (entry ${root}) does not take ${[...set].filter((m) => m !== root).map((m) => stages.get(m)!.op).join(", ")}: ${r.why}`);
    return r.ok;
  };

  for (const e of order) {
    if (recomputed.has(e)) continue;
    const ge = groupOf(e);
    if (ge.root !== e) continue; // already pulled into a downstream group
    const dom = ipdom.get(e)!;
    if (dom !== EXIT && !recomputed.has(dom)) {
      const path = pathBetween(e, dom, effConsumers);
      const ids = new Set([ge.id, groupOf(dom).id]);
      let ok = !path.some((p) => recomputed.has(p));
      for (const p of path) ids.add(groupOf(p).id);
      if (ok) {
        const candidate = new Set<number>();
        for (const id of ids) for (const m of members.get(id)!) candidate.add(m);
        const root = groupOf(dom).root;
        // Every member other than the root must be consumed inside the group only.
        ok = [...candidate].every((m) => m === root || (!escapes(m) && effConsumers(m).every((c) => candidate.has(c))));
        if (ok && composes(candidate, root)) {
          merge([...ids], root);
          continue;
        }
      }
    }
    // Not fused downstream: a small map group read by several prologue-taking stages is recomputed by each.
    tryRecompute(e, ge.members);
  }

  function tryRecompute(e: number, group: Set<number>): void {
    if (escapes(e)) return;
    const readers = effConsumers(e);
    if (readers.length < 2) return;
    if ([...group].some((m) => stages.get(m)!.stage.body.kind !== "map" || stages.get(m)!.pattern === "opaque")) return;
    const acceptsPrologue = (c: number): boolean => {
      const p = stages.get(c)!.pattern;
      return p !== "opaque" && p !== "outEWiseFusable";
    };
    if (!readers.every(acceptsPrologue)) return;
    const r = composeGroup(stages, group, e, recomputed, opts.types);
    if (!r.ok || r.value.size > CHEAP_EXPR) return;
    // Readers' groups (some formed already, downstream) must still compose with it inlined.
    for (const m of group) recomputed.add(m);
    const readerGroups = new Set(readers.map((c) => groupOf(c).id));
    const fits = [...readerGroups].every((id) => composes(members.get(id)!, rootOf.get(id)!));
    if (!fits) for (const m of group) recomputed.delete(m);
  }

  const groups: FusedGroup[] = [];
  for (const [id, set] of members) {
    const root = rootOf.get(id)!;
    if (recomputed.has(root)) continue;
    groups.push({ root, members: [...set].sort((a, b) => a - b) });
  }
  groups.sort((a, b) => a.root - b.root);
  return { groups, recomputed };
}

/** A map stage that only moves data (one load, index arithmetic only) or is a constant. */
function isTrivial(st: EntryStage): boolean {
  const b = st.stage.body;
  if (b.kind !== "map" || st.pattern === "opaque") return false;
  const x = b.value.kind === "cast" ? b.value.x : b.value;
  return x.kind === "const" || (x.kind === "load" && x.index.every(isIndexOnly));
}

function isIndexOnly(e: import("../te/expr.js").Expr): boolean {
  switch (e.kind) {
    case "var":
      return true;
    case "const":
      return e.int;
    case "call":
      return ["add", "sub", "mul", "idiv", "imod", "min", "max"].includes(e.fn) && e.args.every(isIndexOnly);
    case "select":
      return isIndexOnly(e.cond) && isIndexOnly(e.a) && isIndexOnly(e.b);
    default:
      return false;
  }
}

/**
 * Immediate post-dominators (TVM's DominatorTree::PostDom): in reverse topological order,
 * an entry's ipdom is the least common ancestor, in the tree built so far, of its consumers;
 * EXIT when it escapes (or has no consumer).
 */
function postDominators(order: number[], consumers: (e: number) => number[], escapes: (e: number) => boolean): Map<number, number> {
  const ipdom = new Map<number, number>();
  const depth = new Map<number, number>([[EXIT, 0]]);
  const lca = (a: number, b: number): number => {
    while (a !== b) {
      if (a === EXIT || b === EXIT) return EXIT;
      const da = depth.get(a)!;
      const db = depth.get(b)!;
      if (da >= db) a = ipdom.get(a)!;
      else b = ipdom.get(b)!;
    }
    return a;
  };
  for (let k = order.length - 1; k >= 0; k--) {
    const e = order[k];
    const cs = consumers(e);
    let d: number;
    if (escapes(e) || cs.length === 0) d = EXIT;
    else d = cs.reduce((acc, c) => lca(acc, c));
    ipdom.set(e, d);
    depth.set(e, (depth.get(d) ?? 0) + 1);
  }
  return ipdom;
}

/** Entries strictly between `from` and its post-dominator `to` on some path. */
function pathBetween(from: number, to: number, consumers: (e: number) => number[]): number[] {
  const seen = new Set<number>();
  const stack = consumers(from).filter((c) => c !== to);
  while (stack.length > 0) {
    const c = stack.pop()!;
    if (seen.has(c)) continue;
    seen.add(c);
    for (const n of consumers(c)) if (n !== to && !seen.has(n)) stack.push(n);
  }
  return [...seen];
}
