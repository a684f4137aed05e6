/**
 * Slicing and joining: Slice (ONNX's clamping resolved at import into Kiln's slice), Split,
 * Concat, Gather (Kiln's take), and Pad (composed from slices, broadcasts and concatenation,
 * since Kiln has no pad op; also used for the asymmetric padding of convolution and pooling).
 */
import { Symbol } from "../../symbol/symbol.js";
import type { NodeCtx } from "../node_ctx.js";
import { defineMappings, Mapper } from "./registry.js";
import { normAxis, out } from "./util.js";

const sliceOp: Mapper = (n) => {
  const dims = n.fullShape(0);
  const r = dims.length;
  let starts: number[], ends: number[], axes: number[] | undefined, steps: number[] | undefined;
  if (n.opset < 10) {
    starts = n.ints("starts") ?? n.fail("has no starts");
    ends = n.ints("ends") ?? n.fail("has no ends");
    axes = n.ints("axes");
  } else {
    starts = n.constInts(1, "starts");
    ends = n.constInts(2, "ends");
    axes = n.has(3) ? n.constInts(3, "axes") : undefined;
    steps = n.has(4) ? n.constInts(4, "steps") : undefined;
  }
  axes ??= starts.map((_, i) => i);
  steps ??= starts.map(() => 1);
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length)
    n.fail("starts, ends, axes and steps must have one entry each per sliced axis");
  const begin: (number | null)[] = new Array(r).fill(null);
  const end: (number | null)[] = new Array(r).fill(null);
  const step: (number | null)[] = new Array(r).fill(null);
  axes.forEach((ax, k) => {
    const a = normAxis(n, ax, r);
    const d = dims[a];
    const st = steps![k];
    if (st === 0) n.fail("a step of 0");
    const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);
    let s = starts[k] < 0 ? starts[k] + d : starts[k];
    let e = ends[k] < 0 ? ends[k] + d : ends[k];
    if (st > 0) {
      s = clamp(s, 0, d);
      e = clamp(e, 0, d);
    } else {
      s = clamp(s, 0, d - 1);
      e = clamp(e, -1, d - 1);
    }
    const count = st > 0 ? Math.ceil((e - s) / st) : Math.ceil((s - e) / -st);
    if (count <= 0) n.unsupported("an empty slice (zero-size tensor)");
    begin[a] = s;
    end[a] = e < 0 ? null : e;
    step[a] = st;
  });
  return [n.op("slice", { data: n.in(0), begin, end, step })];
};

function splitSizes(n: NodeCtx, d: number, outputs: number): number[] {
  let given: number[] | undefined;
  if (n.opset < 13) given = n.ints("split");
  else if (n.has(1)) given = n.constInts(1, "split");
  if (given) {
    if (given.length !== outputs) n.fail(`split has ${given.length} sizes for ${outputs} outputs`);
    if (given.reduce((a, b) => a + b, 0) !== d) n.fail(`split sizes [${given.join(",")}] do not add up to ${d}`);
    return given;
  }
  const num = n.opset >= 18 ? n.int("num_outputs", outputs) : outputs;
  const chunk = Math.ceil(d / num);
  return Array.from({ length: num }, (_, i) => Math.max(Math.min(chunk, d - i * chunk), 0));
}

const split: Mapper = (n) => {
  const dims = n.fullShape(0);
  const axis = normAxis(n, n.int("axis", 0), dims.length);
  const sizes = splitSizes(n, dims[axis], n.node.outputs.length);
  if (sizes.some((s) => s === 0)) n.unsupported("an empty split (zero-size tensor)");
  const x = n.in(0);
  let at = 0;
  return sizes.map((s) => {
    const y = n.op("slice_axis", { data: x, axis, begin: at, end: at + s });
    at += s;
    return y;
  });
};

const concat: Mapper = (n) => {
  const parts: Symbol[] = [];
  for (let i = 0; i < n.numInputs; i++) if (n.has(i)) parts.push(n.in(i));
  const r = n.rank(0);
  const axis = normAxis(n, n.int("axis", n.opset < 4 ? 1 : NaN), r);
  if (parts.length === 1) return [n.op("_copy", { data: parts[0] })];
  return [n.op("Concat", { data: parts, dim: axis })];
};

const gather: Mapper = (n) => {
  const r = n.rank(0);
  const axis = normAxis(n, n.int("axis", 0), r);
  const y = n.op("take", { a: n.in(0), indices: n.in(1), axis, mode: "wrap" });
  if (!n.isScalar(1)) return [y];
  // A scalar index removes the axis; Kiln's index (1,) left a dim of size 1 there.
  if (r === 1) return [out(y, true)];
  return [n.op("squeeze", { data: y, axis: [axis] })];
};

export type PadMode = "constant" | "reflect" | "edge" | "wrap";

/** `x` (of shape `dims`) padded by `before[a]`/`after[a]` per axis; negative amounts crop. */
export function padSymbol(n: NodeCtx, x: Symbol, dims: readonly number[], before: readonly number[], after: readonly number[], mode: PadMode, value = 0): Symbol {
  let y = x;
  const cur = [...dims];
  for (let a = 0; a < dims.length; a++) {
    let b = before[a] ?? 0;
    let e = after[a] ?? 0;
    if (b < 0 || e < 0) {
      const lo = Math.max(-b, 0);
      const hi = cur[a] - Math.max(-e, 0);
      if (hi <= lo) n.unsupported("padding that crops everything (zero-size tensor)");
      y = n.op("slice_axis", { data: y, axis: a, begin: lo, end: hi });
      cur[a] = hi - lo;
      b = Math.max(b, 0);
      e = Math.max(e, 0);
    }
    if (b === 0 && e === 0) continue;
    const d = cur[a];
    const pieces: Symbol[] = [];
    const withDim = (k: number): number[] => cur.map((v, i) => (i === a ? k : v));
    const piece = (k: number, side: "before" | "after"): Symbol => {
      switch (mode) {
        case "constant": {
          const z = n.op("_zeros", { shape: withDim(k), dtype: n.symDType(y) });
          return value === 0 ? z : n.op("_plus_scalar", { data: z, scalar: value });
        }
        case "edge": {
          const at = side === "before" ? 0 : d - 1;
          const edge = n.op("slice_axis", { data: y, axis: a, begin: at, end: at + 1 });
          return n.op("broadcast_to", { data: edge, shape: withDim(k) });
        }
        case "reflect": {
          if (k > d - 1) n.unsupported(`reflect padding of ${k} on an axis of size ${d}`);
          const begin: (number | null)[] = cur.map(() => null);
          const end: (number | null)[] = cur.map(() => null);
          const step: (number | null)[] = cur.map(() => null);
          step[a] = -1;
          if (side === "before") {
            begin[a] = k;
            end[a] = 0;
          } else {
            begin[a] = d - 2;
            end[a] = d - 2 - k < 0 ? null : d - 2 - k;
          }
          return n.op("slice", { data: y, begin, end, step });
        }
        case "wrap": {
          if (k > d) n.unsupported(`wrap padding of ${k} on an axis of size ${d}`);
          return side === "before"
            ? n.op("slice_axis", { data: y, axis: a, begin: d - k, end: d })
            : n.op("slice_axis", { data: y, axis: a, begin: 0, end: k });
        }
      }
    };
    if (b > 0) pieces.push(piece(b, "before"));
    pieces.push(y);
    if (e > 0) pieces.push(piece(e, "after"));
    y = n.op("Concat", { data: pieces, dim: a });
    cur[a] = d + b + e;
  }
  return y;
}

const pad: Mapper = (n) => {
  const dims = n.fullShape(0);
  const r = dims.length;
  const mode = n.str("mode", "constant");
  if (!["constant", "reflect", "edge", "wrap"].includes(mode)) n.fail(`unknown mode ${mode}`);
  let pads: number[];
  let value = 0;
  let axes = Array.from({ length: r }, (_, i) => i);
  if (n.opset < 11) {
    pads = n.ints(n.opset < 2 ? "paddings" : "pads") ?? n.fail("has no pads");
    value = n.float("value", 0);
  } else {
    pads = n.constInts(1, "pads");
    if (n.has(2)) value = n.konst(2, "constant_value").values[0];
    if (n.has(3)) axes = n.constInts(3, "axes").map((a) => normAxis(n, a, r));
  }
  if (pads.length !== 2 * axes.length) n.fail(`pads has ${pads.length} entries for ${axes.length} axes`);
  const before = new Array<number>(r).fill(0);
  const after = new Array<number>(r).fill(0);
  axes.forEach((a, k) => {
    before[a] = pads[k];
    after[a] = pads[k + axes.length];
  });
  const x = n.in(0);
  const y = padSymbol(n, x, dims, before, after, mode as PadMode, value);
  return [y === x ? n.op("_copy", { data: y }) : y];
};

const compress: Mapper = (n) => {
  const cond = Array.from(n.konst(1, "condition").values);
  const dims = n.fullShape(0);
  const axisAttr = n.int("axis");
  const axis = axisAttr === undefined ? 0 : normAxis(n, axisAttr, dims.length);
  const extent = axisAttr === undefined ? dims.reduce((a, b) => a * b, 1) : dims[axis];
  const picked = cond.slice(0, extent).flatMap((c, i) => (c !== 0 ? [i] : []));
  if (picked.length === 0) n.unsupported("nothing selected (zero-size tensor)");
  const data = axisAttr === undefined ? n.op("Reshape", { data: n.in(0), shape: [extent] }) : n.in(0);
  const idx = n.constSym({ dims: [picked.length], onnxType: 7, dtype: "int64", values: Float64Array.from(picked) }, "indices", true);
  return [n.op("take", { a: data, indices: idx, axis, mode: "clip" })];
};

const centerCropPad: Mapper = (n) => {
  const dims = n.fullShape(0);
  const want = n.constInts(1, "shape");
  const axes = (n.ints("axes") ?? dims.map((_, i) => i)).map((a) => normAxis(n, a, dims.length));
  if (want.length !== axes.length) n.fail(`shape has ${want.length} entries for ${axes.length} axes`);
  const before = dims.map(() => 0);
  const after = dims.map(() => 0);
  axes.forEach((a, k) => {
    const diff = want[k] - dims[a];
    // Cropping drops floor(diff/2) at the start; padding adds floor(diff/2) at the start.
    before[a] = diff >= 0 ? Math.floor(diff / 2) : -Math.floor(-diff / 2);
    after[a] = diff - before[a];
  });
  const x = n.in(0);
  const y = padSymbol(n, x, dims, before, after, "constant", 0);
  return [y === x ? n.op("_copy", { data: y }) : y];
};

defineMappings({ Slice: sliceOp, Split: split, Concat: concat, Gather: gather, Pad: pad, Compress: compress, CenterCropPad: centerCropPad });
