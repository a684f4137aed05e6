/**
 * Shapes and dtypes of the entries import builds, inferred node by node as the graph grows:
 * each op node is inferred alone, with placeholder variables carrying its inputs' known
 * shapes and types, and the result is cached. This keeps import linear in the graph size
 * (inferring the whole upstream graph at every question would be quadratic).
 */
import { Node, NodeEntry } from "../ir/node.js";
import { Graph } from "../ir/graph.js";
import { Shape } from "../base/shape.js";
import { DType, dtypeFromFlag } from "../base/dtype.js";
import { inferShapes } from "../passes/infer_shape.js";
import { inferTypes } from "../passes/infer_type.js";
import { parseShapeAttr } from "../symbol/hidden_attrs.js";

export interface EntryMeta {
  /** Known dims (0 = unknown); undefined when even the rank is unknown. */
  shape: Shape | undefined;
  dtype: DType | undefined;
}

export class MetaCache {
  private readonly cache = new Map<Node, EntryMeta[]>();

  of(e: NodeEntry): EntryMeta {
    const have = this.cache.get(e.node);
    if (have) return have[e.index];
    // Iterative post-order over the nodes not yet known (graphs can be deep).
    const stack: Node[] = [e.node];
    while (stack.length) {
      const n = stack[stack.length - 1];
      if (this.cache.has(n)) {
        stack.pop();
        continue;
      }
      const missing = n.inputs.map((i) => i.node).filter((m) => !this.cache.has(m));
      if (missing.length) {
        stack.push(...missing);
        continue;
      }
      stack.pop();
      this.cache.set(n, this.infer(n));
    }
    return this.cache.get(e.node)![e.index];
  }

  private infer(n: Node): EntryMeta[] {
    if (n.isVariable) {
      const shape = n.attrs.__shape__ !== undefined ? parseShapeAttr(n.attrs.__shape__, n.name) : undefined;
      const dt = n.attrs.__dtype__;
      return [{ shape: shape && shape.length ? shape : undefined, dtype: dt !== undefined && dt !== "-1" ? dtypeFromFlag(Number(dt)) : undefined }];
    }
    const shapes = new Map<string, Shape>();
    const types = new Map<string, DType>();
    const placeholders = n.inputs.map((inp, i) => {
      const m = this.cache.get(inp.node)![inp.index];
      const name = `__onnx_in${i}`;
      if (m.shape) shapes.set(name, m.shape);
      if (m.dtype) types.set(name, m.dtype);
      return new Node(null, name, {}, []).entry(0);
    });
    const clone = new Node(n.op, n.name, n.attrs, placeholders);
    const outs = Array.from({ length: clone.numOutputs }, (_, i) => clone.entry(i));
    const g = new Graph(outs);
    const s = inferShapes(g, shapes);
    const t = inferTypes(g, types);
    return outs.map((o) => {
      const id = g.entryId(o);
      return { shape: s[id], dtype: t[id] };
    });
  }
}
