/** Symbol-level shape and type inference: the triples MXNet's infer_shape/infer_type return. */
import type { Symbol } from "./symbol.js";
import { Graph } from "../ir/graph.js";
import { Shape, isShapeKnown, shapeToString } from "../base/shape.js";
import { DType, checkDType } from "../base/dtype.js";
import { inferShapes } from "../passes/infer_shape.js";
import { inferTypes } from "../passes/infer_type.js";
import { GraphError, KilnError } from "../base/errors.js";

export type ShapeTriple = [argShapes: number[][], outShapes: number[][], auxShapes: number[][]];
export type TypeTriple = [argTypes: DType[], outTypes: DType[], auxTypes: DType[]];
export type PartialTypeTriple = [argTypes: (DType | undefined)[], outTypes: (DType | undefined)[], auxTypes: (DType | undefined)[]];

interface Split {
  graph: Graph;
  args: number[];
  aux: number[];
}

function split(sym: Symbol): Split {
  const graph = sym.graph();
  const mut = graph.mutableVariableIds;
  const vars = graph.variableIds;
  return { graph, args: vars.filter((v) => !mut.has(v)), aux: vars.filter((v) => mut.has(v)) };
}

function checkNames(graph: Graph, given: Iterable<string>, what: string): void {
  const names = new Set(graph.variableIds.map((id) => graph.nodes[id].name));
  const bad = [...given].filter((n) => !names.has(n));
  if (bad.length) throw new GraphError(`${what}: ${bad.map((b) => `"${b}"`).join(", ")} ${bad.length > 1 ? "are not inputs" : "is not an input"} of this symbol (inputs: ${[...names].join(", ")})`);
}

export function inferSymbolShapes(sym: Symbol, given: Record<string, readonly number[]>, partial: boolean): ShapeTriple {
  const { graph, args, aux } = split(sym);
  checkNames(graph, Object.keys(given), "inferShape");
  const known = new Map<string, Shape>();
  for (const [k, v] of Object.entries(given)) {
    if (!Array.isArray(v) || v.some((d) => !Number.isInteger(d) || d < 0))
      throw new KilnError(`inferShape: shape of "${k}" must be an array of non-negative integers, got ${JSON.stringify(v)}`);
    known.set(k, v);
  }
  const table = inferShapes(graph, known);
  const at = (nid: number): Shape | undefined => table[graph.rowPtr[nid]];
  const outs = sym.outputs.map((e) => table[graph.entryId(e)]);
  if (!partial) {
    const unknown = [...args, ...aux].filter((nid) => !isShapeKnown(at(nid))).map((nid) => `${graph.nodes[nid].name} ${shapeToString(at(nid))}`);
    const unknownOuts = sym.outputs.filter((_, i) => !isShapeKnown(outs[i])).map((e) => e.node.outputName(e.index));
    if (unknown.length || unknownOuts.length)
      throw new KilnError(
        `inferShape: cannot decide the shape of ${[...unknown, ...unknownOuts].join(", ")}; give more input shapes or use inferShapePartial`,
      );
  }
  const show = (s: Shape | undefined): number[] => (s ? [...s] : []);
  return [args.map((n) => show(at(n))), outs.map(show), aux.map((n) => show(at(n)))];
}

export function inferSymbolTypes(sym: Symbol, given: Record<string, DType>, partial: boolean): PartialTypeTriple {
  const { graph, args, aux } = split(sym);
  checkNames(graph, Object.keys(given), "inferType");
  const known = new Map<string, DType>();
  for (const [k, v] of Object.entries(given)) known.set(k, checkDType(v, `inferType: type of "${k}"`));
  const table = inferTypes(graph, known);
  const at = (nid: number): DType | undefined => table[graph.rowPtr[nid]];
  const outs = sym.outputs.map((e) => table[graph.entryId(e)]);
  if (!partial) {
    const unknown = [...args, ...aux].filter((nid) => at(nid) === undefined).map((nid) => graph.nodes[nid].name);
    if (unknown.length || outs.some((t) => t === undefined))
      throw new KilnError(`inferType: cannot decide the type of ${unknown.join(", ") || "some outputs"}; give more input types or use inferTypePartial`);
  }
  return [args.map(at), outs, aux.map(at)];
}
