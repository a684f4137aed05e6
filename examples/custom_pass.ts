/**
 * Writing your own compiler pass. A pass is a pure function Graph → Graph that keeps the
 * graph's outputs (their number and order) and its variables' names; you place it before or
 * after one of the graph passes ("mirror", "decompose", "inferShape") and every compilation
 * from then on runs it — executors from simpleBind and compileSymbol alike. KILN_DEBUG=1
 * shows it in the pass timings, KILN_DEBUG=2 prints the graph it returns.
 *
 * This one removes multiplications by one (`x * 1` → `x`) and counts the ops it sees.
 *
 *   node dist/examples/custom_pass.js
 */
import { pathToFileURL } from "node:url";
import { sym, cpu, withNameManager, Graph, Node, registerPass, unregisterPass, compileSymbol } from "../index.js";
import type { NodeEntry } from "../index.js";

/** `_mul_scalar` by exactly 1 is the identity. */
const isTimesOne = (n: Node): boolean => n.op?.name === "_mul_scalar" && Number(n.attrs.scalar) === 1;

/**
 * Rebuilds the graph with every `x * 1` replaced by `x`. Nodes are immutable: a node whose
 * inputs change is rebuilt (same op, name and attributes), and so are its consumers.
 */
export function removeTimesOne(g: Graph): Graph {
  const rebuilt = new Map<Node, Node>();
  const map = (e: NodeEntry): NodeEntry => {
    if (isTimesOne(e.node)) return map(e.node.inputs[0]);
    const r = rebuilt.get(e.node);
    return r ? r.entry(e.index) : e;
  };
  // g.nodes is in topological order: inputs are rebuilt before their consumers.
  for (const n of g.nodes) {
    if (!n.op) continue;
    const inputs = n.inputs.map(map);
    if (inputs.some((e, i) => e !== n.inputs[i])) rebuilt.set(n, new Node(n.op, n.name, n.attrs, inputs, n.controlDeps));
  }
  return new Graph(g.outputs.map(map));
}

export function main(): void {
  const seen = new Map<string, number>();
  registerPass({
    name: "count-ops",
    before: "decompose",
    run(g) {
      for (const n of g.nodes) if (n.op) seen.set(n.op.name, (seen.get(n.op.name) ?? 0) + 1);
      return g; // an analysis: returns its input unchanged
    },
  });
  registerPass({ name: "remove-times-one", after: "decompose", run: removeTimesOne });
  try {
    withNameManager(() => {
      const x = sym.Variable("x");
      const net = sym.Activation({ data: x.mul(1).plus(x.mul(2)).mul(1), act_type: "tanh", name: "act" });

      const c = compileSymbol(net, { shapes: { x: [2, 3] } });
      console.log("ops before the passes:", Object.fromEntries(seen));
      console.log("kernels after them:", c.kernels.map((k) => k.ops.join(" + ")));

      const exe = net.simpleBind({ ctx: cpu(), shapes: { x: [2, 3] } });
      exe.argDict.x.set([-1, -0.5, 0, 0.25, 0.5, 1]);
      console.log("tanh(3x):", exe.forward()[0].toArray().map((v) => v.toFixed(4)).join(", "));
    });
  } finally {
    unregisterPass("count-ops");
    unregisterPass("remove-times-one");
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) main();
