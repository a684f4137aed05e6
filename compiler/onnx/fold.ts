/**
 * Constant folding at import: evaluates Kiln entries whose variables all have known values,
 * with each op row's float64 reference forward (the same oracle the reference executor
 * uses), then rounds the results to their dtypes. This is how ONNX shape subgraphs
 * (Shape → Gather → Concat → Reshape) and transforms of initializers become constants.
 */
import { Node, NodeEntry } from "../ir/node.js";
import { Tensor } from "../ops/tensor.js";
import { RefCtx } from "../ops/registry.js";
import { KilnError } from "../base/errors.js";
import { MetaCache } from "./meta.js";
import { roundToDType } from "./tensor.js";

export function evaluateEntries(entries: readonly NodeEntry[], feeds: ReadonlyMap<string, Tensor>, meta: MetaCache): Tensor[] {
  const memo = new Map<Node, Tensor[]>();
  const stack: Node[] = entries.map((e) => e.node);
  while (stack.length) {
    const n = stack[stack.length - 1];
    if (memo.has(n)) {
      stack.pop();
      continue;
    }
    if (n.isVariable) {
      const v = feeds.get(n.name);
      if (!v) throw new KilnError(`constant folding: no value for variable ${n.name}`);
      memo.set(n, [v]);
      stack.pop();
      continue;
    }
    const missing = n.inputs.map((i) => i.node).filter((m) => !memo.has(m));
    if (missing.length) {
      stack.push(...missing);
      continue;
    }
    stack.pop();
    const inputs = n.inputs.map((i) => memo.get(i.node)![i.index]);
    const ctx: RefCtx = {
      isTrain: false,
      nodeName: n.name,
      outputShape: (i) => {
        const s = meta.of(n.entry(i)).shape;
        if (!s) throw new KilnError(`constant folding: the shape of ${n.outputName(i)} is unknown`);
        return s;
      },
      random: () => {
        throw new KilnError(`constant folding: ${n.name} draws random numbers`);
      },
      writeAux: () => undefined,
    };
    const outs = n.op!.forward(n.params as never, inputs, ctx).map((t, i) => {
      const dt = meta.of(n.entry(i)).dtype ?? "float32";
      return new Tensor(t.shape, roundToDType(t.data, dt));
    });
    memo.set(n, outs);
  }
  return entries.map((e) => memo.get(e.node)![e.index]);
}
