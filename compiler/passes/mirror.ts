/**
 * Mirroring (MXNet's recompute-instead-of-store, graph_executor.cc): a forward node marked
 * `__force_mirroring__`, or, when mirroring is asked for globally, any forward node that is
 * not expensive or random, is copied into the backward pass as `<name>_mirror`, and backward
 * nodes read the copy. The forward value is then dead after its forward readers, so the
 * memory planner can reuse its storage; the backward pass recomputes it (fused into the
 * backward kernels that read it, where fusion allows). Copies of mirrored inputs are used
 * recursively, so a chain BatchNorm → relu is recomputed from the convolution's output.
 */
import { Graph } from "../ir/graph.js";
import { Node, NodeEntry } from "../ir/node.js";

/** Never recomputed: random (Dropout) or expensive (as MXNet's default mirror function). */
export const NEVER_MIRRORED: ReadonlySet<string> = new Set(["Dropout", "Convolution", "FullyConnected", "Deconvolution", "Concat", "SoftmaxOutput"]);

export interface MirrorOptions {
  /** Mirror every cheap forward node, not only those marked `__force_mirroring__`. */
  global: boolean;
}

export interface MirrorResult {
  readonly graph: Graph;
  map(old: NodeEntry): NodeEntry;
  /** The copies made, all in the backward phase. */
  readonly mirrors: ReadonlySet<Node>;
}

const truthy = (s: string | undefined): boolean => s !== undefined && ["1", "true", "True"].includes(s);

/** Whether a forward node is recomputed in backward. */
export function isMirrored(node: Node, opts: MirrorOptions): boolean {
  if (!node.op || node.op.name === "Dropout") return false;
  if (truthy(node.attrs.__force_mirroring__)) return true;
  return opts.global && !NEVER_MIRRORED.has(node.op.name);
}

/** Rewrites `graph` so backward nodes (those not in `forward`) read mirror copies. */
export function mirror(graph: Graph, forward: ReadonlySet<Node>, opts: MirrorOptions): MirrorResult {
  const copies = new Map<Node, Node>();
  const mirrors = new Set<Node>();
  const mirrorOf = (n: Node): Node => {
    let m = copies.get(n);
    if (m) return m;
    const inputs = n.inputs.map((e) => (forward.has(e.node) && isMirrored(e.node, opts) ? mirrorOf(e.node).entry(e.index) : e));
    m = new Node(n.op, `${n.name}_mirror`, n.attrs, inputs);
    copies.set(n, m);
    mirrors.add(m);
    return m;
  };
  const rebuilt = new Map<Node, Node>();
  const mapEntry = (e: NodeEntry): NodeEntry => {
    const n = rebuilt.get(e.node) ?? e.node;
    return n === e.node ? e : n.entry(e.index);
  };
  for (const node of graph.nodes) {
    if (forward.has(node) || node.isVariable) continue;
    const inputs = node.inputs.map((e) => (forward.has(e.node) && isMirrored(e.node, opts) ? mirrorOf(e.node).entry(e.index) : mapEntry(e)));
    if (inputs.some((e, i) => e !== node.inputs[i])) rebuilt.set(node, new Node(node.op, node.name, node.attrs, inputs, node.controlDeps));
  }
  // Graph outputs that are forward entries stay forward entries (the forward pass writes them).
  const outputs = graph.outputs.map(mapEntry);
  return { graph: new Graph(outputs), map: mapEntry, mirrors };
}
