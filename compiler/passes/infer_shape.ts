/** Shape inference: a side table of shapes indexed by entry id. */
import { Graph } from "../ir/graph.js";
import { Shape, mergeShapes, shapeToBracket, unknownDims } from "../base/shape.js";
import { ShapeCtx } from "../ops/registry.js";
import { ShapeError } from "../base/errors.js";
import { inferFixedPoint } from "./fixed_point.js";
import { parseShapeAttr } from "../symbol/hidden_attrs.js";

/**
 * Infers every entry's shape from the shapes known for some variables (by node name) and
 * the `__shape__` attributes. Unknown dims are 0; an unknown shape is undefined.
 */
export function inferShapes(graph: Graph, known: ReadonlyMap<string, Shape>): (Shape | undefined)[] {
  const table: (Shape | undefined)[] = new Array(graph.numEntries).fill(undefined);
  graph.nodes.forEach((n, nid) => {
    if (!n.isVariable) return;
    const e = graph.rowPtr[nid];
    const attr = n.attrs.__shape__ !== undefined ? parseShapeAttr(n.attrs.__shape__, n.name) : undefined;
    const given = known.get(n.name);
    const m = mergeShapes(attr, given);
    if (!m.ok)
      throw new ShapeError(`variable ${n.name}: given shape ${shapeToBracket(given)} contradicts its __shape__ attribute ${shapeToBracket(attr)}`);
    table[e] = given ?? m.shape;
  });
  return inferFixedPoint<Shape>(graph, table, {
    apply(node, ins, outs) {
      node.op!.inferShape(new ShapeCtx(ins, outs, node.inputNames), node.params as never);
    },
    unknowns: unknownDims,
    merge(old, next) {
      const m = mergeShapes(old, next);
      if (!m.ok) throw new ShapeError(`Shape inconsistent, Provided = ${shapeToBracket(old)}, inferred shape=${shapeToBracket(next)}`);
      return m.shape;
    },
  });
}
