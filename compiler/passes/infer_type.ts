/** Type inference: a side table of dtypes indexed by entry id. */
import { Graph } from "../ir/graph.js";
import { DType, dtypeFromFlag } from "../base/dtype.js";
import { TypeCtx } from "../ops/registry.js";
import { ShapeError } from "../base/errors.js";
import { inferFixedPoint } from "./fixed_point.js";

/** Infers every entry's dtype from the types known for some variables and `__dtype__` attributes. */
export function inferTypes(graph: Graph, known: ReadonlyMap<string, DType>): (DType | undefined)[] {
  const table: (DType | undefined)[] = new Array(graph.numEntries).fill(undefined);
  graph.nodes.forEach((n, nid) => {
    if (!n.isVariable) return;
    const attr = n.attrs.__dtype__ !== undefined && n.attrs.__dtype__ !== "-1" ? dtypeFromFlag(Number(n.attrs.__dtype__)) : undefined;
    const given = known.get(n.name);
    if (attr !== undefined && given !== undefined && attr !== given)
      throw new ShapeError(`variable ${n.name}: given dtype ${given} contradicts its __dtype__ attribute ${attr}`);
    table[graph.rowPtr[nid]] = given ?? attr;
  });
  return inferFixedPoint<DType>(graph, table, {
    apply(node, ins, outs) {
      const ctx = new TypeCtx(ins, outs, node.inputNames);
      if (node.op!.inferType) node.op!.inferType(ctx, node.params as never);
      else ctx.sameType();
    },
    unknowns: (t) => (t === undefined ? 1 : 0),
    merge(old, next) {
      if (old !== undefined && next !== undefined && old !== next)
        throw new ShapeError(`Type inconsistent, Provided = ${old}, inferred type=${next}`);
      return old ?? next;
    },
  });
}
