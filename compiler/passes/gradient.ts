/**
 * Reverse-mode autodiff on the graph (nnvm's Gradient pass): walks the nodes that lie between
 * the requested variables and the outputs in reverse order, asks each op row for its input
 * gradients as new graph nodes, and sums gradients that reach one entry from several uses.
 */
import { Graph } from "../ir/graph.js";
import { Node, NodeEntry } from "../ir/node.js";
import { GradCtx, getOp } from "../ops/registry.js";
import { printUserParams } from "../ops/params.js";
import { GraphError } from "../base/errors.js";

export interface GradientRequest {
  /** Forward outputs to differentiate. */
  outputs: readonly NodeEntry[];
  /** Gradient of each output (ignored, may be null, for loss ops). */
  headGrads: readonly (NodeEntry | null)[];
  /** Variables to differentiate with respect to. */
  wrt: readonly NodeEntry[];
}

/** Builds a node of `opName` from entries and MXNet-style params given as JS values. */
export function makeNode(opName: string, name: string, inputs: NodeEntry[], params: Record<string, unknown> = {}): Node {
  const op = getOp(opName);
  const countParam = op.variadic?.countParam;
  const values = countParam ? { [countParam]: inputs.length, ...params } : params;
  return new Node(op, name, printUserParams(op.params, values, `operator ${name} (${opName})`), inputs);
}

/** Returns one gradient entry per `wrt` (a zeros node where no path leads to the outputs). */
export function buildGradient(req: GradientRequest): NodeEntry[] {
  const graph = new Graph(req.outputs);
  const wrtNodes = new Set(req.wrt.map((e) => e.node));
  // Nodes that depend on some wrt variable: only they need gradients.
  const needs = new Array<boolean>(graph.nodes.length).fill(false);
  graph.nodes.forEach((n, nid) => {
    needs[nid] = wrtNodes.has(n) || n.inputs.some((e) => needs[graph.nodeId(e.node)]);
  });

  const pending = new Map<number, NodeEntry[]>();
  const add = (eid: number, g: NodeEntry): void => {
    const list = pending.get(eid);
    if (list) list.push(g);
    else pending.set(eid, [g]);
  };
  req.outputs.forEach((e, i) => {
    const head = req.headGrads[i];
    const eid = graph.entryId(e);
    if (e.node.op?.isLoss) add(eid, head ?? e); // loss rows never read it; any entry keeps the slot filled
    else if (head) add(eid, head);
  });

  const sumCount = new Map<string, number>();
  const total = (eid: number, base: string): NodeEntry | undefined => {
    const list = pending.get(eid);
    if (!list || list.length === 0) return undefined;
    if (list.length === 1) return list[0];
    const k = sumCount.get(base) ?? 0;
    sumCount.set(base, k + 1);
    return makeNode("add_n", `${base}_grad_sum${k || ""}`, list).entry(0);
  };

  const grads = new Map<number, NodeEntry>();
  for (let nid = graph.nodes.length - 1; nid >= 0; nid--) {
    if (!needs[nid]) continue;
    const node = graph.nodes[nid];
    if (node.isVariable) {
      const g = total(graph.rowPtr[nid], node.name);
      if (g) grads.set(nid, g);
      continue;
    }
    const ograds: (NodeEntry | undefined)[] = [];
    for (let i = 0; i < node.numVisibleOutputs; i++) ograds.push(total(graph.rowPtr[nid] + i, node.outputName(i)));
    if (ograds.every((g) => g === undefined) && !node.op!.isLoss) continue;
    const op = node.op!;
    if (!op.gradient) throw new GraphError(`operator ${node.name} (${op.name}) has no gradient, but a requested gradient flows through it`);
    let made = 0;
    const ctx: GradCtx<Record<string, unknown>> = {
      node,
      params: node.params as Record<string, unknown>,
      input: (i) => node.inputs[i],
      output: (i) => node.entry(i),
      ograd: (i = 0) => (ograds[i] ??= makeNode("zeros_like", `${node.name}_zero_ograd${i}`, [node.entry(i)]).entry(0)),
      op: (opName, inputs, params) => {
        const n = makeNode(opName, `${node.name}_backward${made++ || ""}`, inputs, params);
        return Array.from({ length: n.numOutputs }, (_, i) => n.entry(i));
      },
      op1: (opName, inputs, params) => ctx.op(opName, inputs, params)[0],
    };
    const inGrads = op.gradient(ctx as never);
    if (inGrads.length !== node.inputs.length)
      throw new Error(`gradient of ${op.name} returned ${inGrads.length} entries for ${node.inputs.length} inputs`);
    inGrads.forEach((g, i) => {
      const src = node.inputs[i];
      if (g && needs[graph.nodeId(src.node)] && !node.mutableInputs.includes(i)) add(graph.entryId(src), g);
    });
  }

  return req.wrt.map((e) => {
    const g = grads.get(graph.hasNode(e.node) ? graph.nodeId(e.node) : -1);
    return g ?? makeNode("zeros_like", `${e.node.name}_zero_grad`, [e]).entry(0);
  });
}
