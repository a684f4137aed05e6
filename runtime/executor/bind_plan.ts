/**
 * What every executor works out at bind time, whatever the device: argument, gradient and
 * aux arrays checked against inferred shapes, grad requests per argument, and the forward
 * plus backward graph (gradient nodes built by the compiler's gradient pass).
 */
import type { Symbol } from "../../compiler/symbol/symbol.js";
import type { BindArgs, GradReq, GradReqSpec, SimpleBindArgs } from "../../compiler/symbol/binding.js";
import { Node, NodeEntry } from "../../compiler/ir/node.js";
import { Graph } from "../../compiler/ir/graph.js";
import { buildGradient } from "../../compiler/passes/gradient.js";
import { DType } from "../../compiler/base/dtype.js";
import { shapeToString, shapesEqual } from "../../compiler/base/shape.js";
import { KilnError } from "../../compiler/base/errors.js";
import { NDArray } from "../ndarray.js";
import { Context } from "../context.js";

export interface BoundArrays {
  args: NDArray[];
  grads: (NDArray | null)[];
  aux: NDArray[];
  gradReqs: GradReq[];
}

export interface ExecPlan {
  argNames: string[];
  auxNames: string[];
  outputNames: string[];
  /** Forward outputs, then one gradient entry per argument whose request is not "null". */
  graph: Graph;
  forwardGraph: Graph;
  /** Head-gradient variables, one per output (null for loss outputs, which need none). */
  headGradNodes: (Node | null)[];
  /** For each argument, the entry computing its gradient (undefined for "null"). */
  gradEntries: (NodeEntry | undefined)[];
}

export function resolveGradReqs(argNames: string[], spec: GradReqSpec | undefined, grads?: (NDArray | null)[]): GradReq[] {
  return argNames.map((name, i) => {
    if (grads && !grads[i]) return "null";
    const r = spec === undefined ? "write" : typeof spec === "string" ? spec : (spec[name] ?? "null");
    if (r !== "write" && r !== "add" && r !== "null") throw new KilnError(`gradReq for ${name} must be "write", "add" or "null", got "${r}"`);
    return r;
  });
}

export function makePlan(symbol: Symbol, gradReqs: GradReq[]): ExecPlan {
  const argNames = symbol.listArguments();
  const fwd = symbol.graph();
  const varByName = new Map(fwd.variableIds.map((id) => [fwd.nodes[id].name, fwd.nodes[id]]));
  const wrtIdx = argNames.flatMap((n, i) => (gradReqs[i] !== "null" ? [i] : []));
  const headGradNodes = symbol.outputs.map((e, i) => (e.node.op?.isLoss ? null : new Node(null, `_head_grad${i}`, {}, [])));
  let gradEntries: (NodeEntry | undefined)[] = argNames.map(() => undefined);
  if (wrtIdx.length > 0) {
    const grads = buildGradient({
      outputs: symbol.outputs,
      headGrads: headGradNodes.map((n) => n?.entry(0) ?? null),
      wrt: wrtIdx.map((i) => varByName.get(argNames[i])!.entry(0)),
    });
    gradEntries = argNames.map(() => undefined);
    wrtIdx.forEach((argI, k) => (gradEntries[argI] = grads[k]));
  }
  const all = [...symbol.outputs, ...(gradEntries.filter((e) => e !== undefined) as NodeEntry[])];
  return {
    argNames,
    auxNames: symbol.listAuxiliaryStates(),
    outputNames: symbol.listOutputs(),
    graph: new Graph(all),
    forwardGraph: fwd,
    headGradNodes,
    gradEntries,
  };
}

function byNameOrList<T>(what: string, names: string[], given: Record<string, T> | T[] | undefined, optional: boolean): (T | undefined)[] {
  if (given === undefined) return names.map(() => undefined);
  if (Array.isArray(given)) {
    if (given.length !== names.length) throw new KilnError(`bind: ${what} has ${given.length} arrays, expected ${names.length} (${names.join(", ")})`);
    return given.map((g) => g ?? undefined);
  }
  const extra = Object.keys(given).filter((k) => !names.includes(k));
  if (extra.length) throw new KilnError(`bind: ${what} names ${extra.join(", ")}, which ${extra.length > 1 ? "are" : "is"} not among ${names.join(", ")}`);
  return names.map((n) => {
    const a = given[n];
    if (a === undefined && !optional) throw new KilnError(`bind: ${what} is missing "${n}"`);
    return a;
  });
}

/** Checks user arrays for bind() against the symbol's inferred shapes. */
export function checkBindArrays(symbol: Symbol, a: BindArgs): BoundArrays {
  const argNames = symbol.listArguments();
  const auxNames = symbol.listAuxiliaryStates();
  const args = byNameOrList("args", argNames, a.args, false) as NDArray[];
  const grads = byNameOrList("argsGrad", argNames, a.argsGrad as Record<string, NDArray> | NDArray[] | undefined, true).map((g) => g ?? null);
  const aux = byNameOrList("auxStates", auxNames, a.auxStates, auxNames.length === 0) as NDArray[];
  const shapes: Record<string, number[]> = {};
  argNames.forEach((n, i) => (shapes[n] = [...args[i].shape]));
  auxNames.forEach((n, i) => aux[i] && (shapes[n] = [...aux[i].shape]));
  const [argShapes, , auxShapes] = symbol.inferShape(shapes);
  grads.forEach((g, i) => {
    if (g && !shapesEqual(g.shape, argShapes[i]))
      throw new KilnError(`bind: gradient array of ${argNames[i]} has shape ${shapeToString(g.shape)}, the argument has ${shapeToString(argShapes[i])}`);
  });
  aux.forEach((x, i) => {
    if (!x) throw new KilnError(`bind: auxStates is missing "${auxNames[i]}" (shape ${shapeToString(auxShapes[i])})`);
  });
  return { args, grads, aux, gradReqs: resolveGradReqs(argNames, a.gradReq, grads) };
}

/** Allocates every array simpleBind needs on `ctx`, from inferred shapes and types. */
export function allocateForSimpleBind(symbol: Symbol, a: SimpleBindArgs, ctx: Context, share?: Map<string, NDArray>): BoundArrays {
  const argNames = symbol.listArguments();
  const auxNames = symbol.listAuxiliaryStates();
  const [argShapes, , auxShapes] = symbol.inferShape(a.shapes);
  const [argTypes, , auxTypes] = symbol.inferTypePartial(a.typeDict ?? {});
  const dt = (t: DType | undefined): DType => t ?? "float32";
  const reuse = (name: string, shape: number[], t: DType): NDArray => {
    const s = share?.get(name);
    if (s && shapesEqual(s.shape, shape) && s.dtype === t) return s;
    return new NDArray(shape, t, ctx);
  };
  const args = argNames.map((n, i) => reuse(n, argShapes[i], dt(argTypes[i])));
  const gradReqs = resolveGradReqs(argNames, a.gradReq);
  const grads = argNames.map((n, i) => (gradReqs[i] === "null" ? null : reuse(`grad:${n}`, argShapes[i], dt(argTypes[i]))));
  const aux = auxNames.map((n, i) => reuse(n, auxShapes[i], dt(auxTypes[i])));
  return { args, grads, aux, gradReqs };
}
