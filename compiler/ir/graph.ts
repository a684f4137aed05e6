/**
 * An indexed view of the DAG reachable from a list of output entries: nodes in MXNet's
 * post-order DFS (inputs in order, then control deps), node ids, and entry ids
 * (`rowPtr[node] + outputIndex`) that index every side table (shapes, types, storage).
 */
import { Node, NodeEntry } from "./node.js";

export class Graph {
  readonly nodes: readonly Node[];
  /** Prefix sums of outputs per node (hidden outputs included), as MXNet's node_row_ptr. */
  readonly rowPtr: readonly number[];
  private readonly ids: Map<Node, number>;

  constructor(readonly outputs: readonly NodeEntry[]) {
    this.nodes = postOrder(outputs.map((e) => e.node));
    this.ids = new Map(this.nodes.map((n, i) => [n, i]));
    const rp = [0];
    for (const n of this.nodes) rp.push(rp[rp.length - 1] + n.numOutputs);
    this.rowPtr = rp;
  }

  get numEntries(): number {
    return this.rowPtr[this.rowPtr.length - 1];
  }

  nodeId(n: Node): number {
    const id = this.ids.get(n);
    if (id === undefined) throw new Error(`node ${n.name} is not in this graph`);
    return id;
  }

  hasNode(n: Node): boolean {
    return this.ids.has(n);
  }

  entryId(e: NodeEntry): number {
    return this.rowPtr[this.nodeId(e.node)] + e.index;
  }

  inputEntryIds(nodeId: number): number[] {
    return this.nodes[nodeId].inputs.map((e) => this.entryId(e));
  }

  outputEntryIds(nodeId: number): number[] {
    const out: number[] = [];
    for (let i = this.rowPtr[nodeId]; i < this.rowPtr[nodeId + 1]; i++) out.push(i);
    return out;
  }

  /** Ids of every variable node, in DFS order (MXNet's arg_nodes). */
  get variableIds(): number[] {
    return this.nodes.flatMap((n, i) => (n.isVariable ? [i] : []));
  }

  /** Ids of variables some op mutates: the auxiliary states. */
  get mutableVariableIds(): Set<number> {
    const out = new Set<number>();
    for (const n of this.nodes)
      for (const i of n.mutableInputs) {
        const src = n.inputs[i].node;
        if (src.isVariable) out.add(this.nodeId(src));
      }
    return out;
  }
}

/** Iterative post-order DFS (graphs such as an unrolled LSTM are deeper than the JS stack). */
function postOrder(heads: readonly Node[]): Node[] {
  const order: Node[] = [];
  const seen = new Set<Node>();
  for (const head of heads) {
    if (seen.has(head)) continue;
    seen.add(head);
    const stack: { node: Node; next: number }[] = [{ node: head, next: 0 }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const deps = top.node.inputs.length + top.node.controlDeps.length;
      if (top.next < deps) {
        const i = top.next++;
        const child = i < top.node.inputs.length ? top.node.inputs[i].node : top.node.controlDeps[i - top.node.inputs.length];
        if (!seen.has(child)) {
          seen.add(child);
          stack.push({ node: child, next: 0 });
        }
      } else {
        order.push(top.node);
        stack.pop();
      }
    }
  }
  return order;
}
