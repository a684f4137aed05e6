/**
 * The stage of every op entry of a (decomposed) graph: the op row's `compute` body over the
 * inferred shapes and dtypes, with the entries each stage actually reads. Fusion and lowering
 * both work on this table.
 */
import { Graph } from "../ir/graph.js";
import { Expr, Load, mapLoads } from "../te/expr.js";
import { Stage, TensorType, makeComputeCtx, stageOf } from "../te/stage.js";
import { Shape, shapeToString } from "../base/shape.js";
import { DType } from "../base/dtype.js";
import { KilnError } from "../base/errors.js";
import type { PatternKind } from "../ops/registry.js";

export interface EntryStage {
  readonly entry: number;
  readonly node: number;
  /** Loads read `inputs[slot]`, the node's input entries in order. */
  readonly stage: Stage;
  /** Entry id of each input slot of the node. */
  readonly inputs: readonly number[];
  /** Input slots the body loads from (the others are not read at all). */
  readonly reads: ReadonlySet<number>;
  readonly pattern: PatternKind;
  readonly op: string;
}

/** Every load of an expression, in order of appearance. */
export function loadsOf(e: Expr, out: Load[] = []): Load[] {
  mapLoads(e, (l) => (out.push(l), l));
  return out;
}

/** Every expression of a stage body (value, post, scatter indices). */
export function bodyExprs(stage: Stage): Expr[] {
  const b = stage.body;
  if (b.kind === "map") return [b.value];
  if (b.kind === "reduce") return b.post ? [b.value, b.post] : [b.value];
  return [b.value, ...b.index];
}

export function typeOf(shapes: readonly (Shape | undefined)[], dtypes: readonly (DType | undefined)[], entry: number, what: string): TensorType {
  const s = shapes[entry];
  if (!s) throw new KilnError(`the shape of ${what} is unknown`);
  return { shape: s, dtype: dtypes[entry] ?? "float32" };
}

/**
 * Stages of the outputs of node `nid` that are in `needed`: the node's compute is called once
 * for all of them. Throws, naming the node, when the op has no compute.
 */
export function nodeStages(graph: Graph, shapes: readonly (Shape | undefined)[], dtypes: readonly (DType | undefined)[], nid: number, needed: ReadonlySet<number>): EntryStage[] {
  const node = graph.nodes[nid];
  const op = node.op!;
  if (!op.compute)
    throw new KilnError(`operator ${node.name} (${op.name}) has no compute rule${op.decompose ? " and its decompose kept it for these params" : ""}: it cannot be compiled`);
  const outIds = graph.outputEntryIds(nid);
  const inIds = graph.inputEntryIds(nid);
  const inTypes = inIds.map((e, i) => typeOf(shapes, dtypes, e, `input ${i} of ${node.name}`));
  const outTypes = outIds.map((e, i) => typeOf(shapes, dtypes, e, node.outputName(i)));
  let bodies;
  try {
    bodies = op.compute(makeComputeCtx(inTypes, outTypes), node.params as never);
  } catch (err) {
    throw new KilnError(`compute of ${node.name} (${op.name}) on ${inTypes.map((t) => shapeToString(t.shape)).join(", ")} failed: ${(err as Error).message}`);
  }
  if (bodies.length !== outIds.length) throw new KilnError(`compute of ${node.name} (${op.name}) returned ${bodies.length} bodies for ${outIds.length} outputs`);
  const out: EntryStage[] = [];
  outIds.forEach((e, k) => {
    if (!needed.has(e)) return;
    const stage = stageOf(inTypes, outTypes[k], bodies[k]);
    const reads = new Set<number>();
    for (const x of bodyExprs(stage)) for (const l of loadsOf(x)) reads.add(l.tensor);
    out.push({ entry: e, node: nid, stage, inputs: inIds, reads, pattern: op.pattern, op: op.name });
  });
  return out;
}

/**
 * The op entries that must be computed to produce `roots`, with their stages: walks back
 * through the loads each stage really performs, so an input a body never reads keeps nothing
 * alive and an output nobody reads is never computed. One reverse sweep of the post-order.
 */
export function neededEntries(graph: Graph, shapes: readonly (Shape | undefined)[], dtypes: readonly (DType | undefined)[], roots: readonly number[]): Map<number, EntryStage> {
  const needed = new Set(roots);
  const stages = new Map<number, EntryStage>();
  for (let nid = graph.nodes.length - 1; nid >= 0; nid--) {
    if (graph.nodes[nid].isVariable) continue;
    if (!graph.outputEntryIds(nid).some((e) => needed.has(e))) continue;
    for (const st of nodeStages(graph, shapes, dtypes, nid, needed)) {
      stages.set(st.entry, st);
      for (const slot of st.reads) needed.add(st.inputs[slot]);
    }
  }
  return stages;
}

