/**
 * Softmax, LogSoftmax and Hardmax. Before opset 13 they work on the input flattened to 2-D
 * at `axis` (default 1); from 13 on a single axis (default -1), which is Kiln's softmax.
 * Hardmax is one_hot(argmax) (the first maximum wins, as ONNX says).
 */
import { Symbol } from "../../symbol/symbol.js";
import type { NodeCtx } from "../node_ctx.js";
import { defineMappings, Mapper } from "./registry.js";
import { normAxis, reshape, size } from "./util.js";

function onAxis(n: NodeCtx, f: (x: Symbol, axis: number, depth: number) => Symbol): ReturnType<Mapper> {
  const r = n.rank(0);
  const x = n.in(0);
  if (n.opset < 13) {
    const axis = normAxis(n, n.int("axis", 1), Math.max(r, 1));
    const s = n.fullShape(0);
    const inner = size(s.slice(axis));
    const flat = reshape(n, x, [size(s.slice(0, axis)), inner]);
    return [reshape(n, f(flat, 1, inner), s)];
  }
  const axis = normAxis(n, n.int("axis", -1), r);
  const s = n.shape(0);
  return [f(x, axis, s ? s[axis] : 0)];
}

const hardmax: Mapper = (n) =>
  onAxis(n, (x, axis, depth) => {
    if (!depth) n.fail("Hardmax needs the size of its axis");
    const r = n.symShape(x)!.length;
    const perm = Array.from({ length: r }, (_, i) => i).filter((i) => i !== axis);
    perm.push(axis);
    const moved = axis === r - 1 ? x : n.op("transpose", { data: x, axes: perm });
    const idx = n.op("argmax", { data: moved, axis: -1, keepdims: false });
    const hot = n.op("one_hot", { indices: idx, depth, dtype: n.symDType(x) });
    if (axis === r - 1) return r === 1 ? reshape(n, hot, [depth]) : hot;
    const inv = perm.map((_, i) => perm.indexOf(i));
    return n.op("transpose", { data: hot, axes: inv });
  });

defineMappings({
  Softmax: (n) => onAxis(n, (x, axis) => n.op("softmax", { data: x, axis })),
  LogSoftmax: (n) => onAxis(n, (x, axis) => n.op("log_softmax", { data: x, axis })),
  Hardmax: hardmax,
});
