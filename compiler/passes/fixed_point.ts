/**
 * The iteration MXNet uses for shape and type inference: forward and backward sweeps over
 * the nodes, each op refining its inputs and outputs, until the number of unknowns stops
 * dropping. Generic over the attribute (shape or dtype).
 */
import { Graph } from "../ir/graph.js";
import { Node } from "../ir/node.js";
import { InferenceError, KilnError } from "../base/errors.js";

export interface NodeRule<T> {
  /** Refines `ins`/`outs` in place for one op node; throws on inconsistency. */
  apply(node: Node, ins: (T | undefined)[], outs: (T | undefined)[]): void;
  /** How many unknowns a value holds (0 = fully known). */
  unknowns(v: T | undefined): number;
  /** Merges two descriptions of one entry seen from two sides, or throws. */
  merge(old: T | undefined, next: T | undefined): T | undefined;
}

export function inferFixedPoint<T>(graph: Graph, table: (T | undefined)[], rule: NodeRule<T>): (T | undefined)[] {
  const t = table.slice();
  const count = (): number => t.reduce((acc, v) => acc + rule.unknowns(v), 0);
  let before = count();
  for (let sweep = 0; ; sweep++) {
    const forward = sweep % 2 === 0;
    for (let k = 0; k < graph.nodes.length; k++) {
      const nid = forward ? k : graph.nodes.length - 1 - k;
      const node = graph.nodes[nid];
      if (node.isVariable) continue;
      const inIds = graph.inputEntryIds(nid);
      const outIds = graph.outputEntryIds(nid);
      const ins = inIds.map((e) => t[e]);
      const outs = outIds.map((e) => t[e]);
      try {
        rule.apply(node, ins, outs);
        // Two inputs may be one entry (x * x): merge rather than overwrite.
        inIds.forEach((e, i) => (t[e] = rule.merge(t[e], ins[i])));
        outIds.forEach((e, i) => (t[e] = rule.merge(t[e], outs[i])));
      } catch (err) {
        if (err instanceof InferenceError) throw err;
        const msg = err instanceof Error ? err.message : String(err);
        const e = new InferenceError(`Error in operator ${node.name} (${node.op!.name}): ${msg}`, node.name, node.op!.name);
        if (!(err instanceof KilnError)) e.cause = err;
        throw e;
      }
    }
    const after = count();
    // A sweep in each direction must pass without progress before we stop.
    if (after === 0 || (after >= before && sweep >= 1)) break;
    before = after;
  }
  return t;
}
