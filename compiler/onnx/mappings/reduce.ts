/**
 * Reductions: ReduceSum/Mean/Max/Min/Prod map to Kiln's sum/mean/max/min/prod; L1, L2,
 * LogSum, LogSumExp (stable: max-shifted) and SumSquare are compositions. Axes are an
 * attribute before opset 13 (ReduceSum) or 18 (the others) and a constant input after.
 * ArgMax/ArgMin map to argmax/argmin (select_last_index by reversing the axis).
 */
import { Symbol } from "../../symbol/symbol.js";
import type { NodeCtx } from "../node_ctx.js";
import { defineMappings, Mapper } from "./registry.js";
import { normAxis, out, cast } from "./util.js";

interface ReduceSpec {
  /** null: all axes. */
  axes: number[] | null;
  keepdims: boolean;
  /** The ONNX result is a scalar. */
  scalar: boolean;
  noop: boolean;
}

function reduceSpec(n: NodeCtx, inputFrom: number): ReduceSpec {
  const r = n.rank(0);
  const keepdims = n.int("keepdims", 1) !== 0;
  let axes: number[] | undefined;
  if (n.opset < inputFrom) axes = n.ints("axes");
  else if (n.has(1)) axes = n.constInts(1, "axes");
  const noopEmpty = n.int("noop_with_empty_axes", 0) !== 0;
  if (!axes || axes.length === 0) {
    return { axes: null, keepdims, scalar: !keepdims || r === 0, noop: noopEmpty };
  }
  const norm = axes.map((a) => normAxis(n, a, r));
  return { axes: norm, keepdims, scalar: (!keepdims && norm.length === r) || r === 0, noop: false };
}

type Build = (n: NodeCtx, x: Symbol, p: { axis: number[] | null; keepdims: boolean }) => Symbol;

function reduction(inputFrom: number, build: Build): Mapper {
  return (n) => {
    const spec = reduceSpec(n, inputFrom);
    const x = n.in(0);
    if (spec.noop) return [out(n.op("_copy", { data: x }), n.isScalar(0))];
    return [out(build(n, x, { axis: spec.axes, keepdims: spec.keepdims }), spec.scalar)];
  };
}

const simple = (op: string): Build => (n, x, p) => n.op(op, { data: x, ...p });

const logSumExp: Build = (n, x, p) => {
  const m = n.op("max", { data: x, axis: p.axis, keepdims: true });
  const e = n.op("exp", { data: n.op("broadcast_sub", { lhs: x, rhs: m }) });
  const l = n.op("log", { data: n.op("sum", { data: e, axis: p.axis, keepdims: true }) });
  const y = n.op("elemwise_add", { lhs: l, rhs: m });
  if (p.keepdims) return y;
  const r = n.symShape(x)!.length;
  const axes = p.axis ?? Array.from({ length: r }, (_, i) => i);
  return axes.length === r ? n.op("Reshape", { data: y, shape: [1] }) : n.op("squeeze", { data: y, axis: axes });
};

function argReduce(op: "argmax" | "argmin"): Mapper {
  return (n) => {
    const r = n.rank(0);
    const axis = normAxis(n, n.int("axis", 0), r);
    const keepdims = n.int("keepdims", 1) !== 0;
    let x = n.in(0);
    const last = n.int("select_last_index", 0) !== 0;
    if (last) {
      const begin = new Array(r).fill(null);
      const end = new Array(r).fill(null);
      const step = new Array(r).fill(null);
      step[axis] = -1;
      x = n.op("slice", { data: x, begin, end, step });
    }
    let y = n.op(op, { data: x, axis, keepdims });
    if (last) y = n.op("_rminus_scalar", { data: y, scalar: n.fullShape(0)[axis] - 1 });
    return [out(cast(n, y, "int64"), !keepdims && r === 1)];
  };
}

defineMappings({
  ReduceSum: reduction(13, simple("sum")),
  ReduceMean: reduction(18, simple("mean")),
  ReduceMax: reduction(18, simple("max")),
  ReduceMin: reduction(18, simple("min")),
  ReduceProd: reduction(18, simple("prod")),
  ReduceL1: reduction(18, (n, x, p) => n.op("sum", { data: n.op("abs", { data: x }), ...p })),
  ReduceL2: reduction(18, (n, x, p) => n.op("sqrt", { data: n.op("sum", { data: n.op("square", { data: x }), ...p }) })),
  ReduceSumSquare: reduction(18, (n, x, p) => n.op("sum", { data: n.op("square", { data: x }), ...p })),
  ReduceLogSum: reduction(18, (n, x, p) => n.op("log", { data: n.op("sum", { data: x, ...p }) })),
  ReduceLogSumExp: reduction(18, logSumExp),
  ArgMax: argReduce("argmax"),
  ArgMin: argReduce("argmin"),
});
