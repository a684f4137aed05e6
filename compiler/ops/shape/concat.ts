/** Joining and splitting along an axis: Concat, SliceChannel (split), stack. */
import { defineOp, singleOutput, ShapeCtx } from "../registry.js";
import { P } from "../params.js";
import { Tensor } from "../tensor.js";
import { Shape, mergeShapes } from "../../base/shape.js";
import { ShapeError, ParamError } from "../../base/errors.js";
import { aroundAxis, axisOf, show } from "./util.js";
import { cmp } from "./index_expr.js";
import { Expr, int, ix, select } from "../../te/expr.js";
import type { ComputeCtx, StageBody } from "../../te/stage.js";

/** Merges shapes that must agree on every dim except `skip` (which is ignored); throws naming both. */
function mergeExcept(acc: Shape | undefined, s: Shape | undefined, skip: number, what: string): Shape | undefined {
  if (s === undefined) return acc;
  const masked = s.map((d, i) => (i === skip ? 0 : d));
  const m = mergeShapes(acc, masked);
  if (!m.ok) throw new ShapeError(`${what} ${show(s)} does not match the other shapes ${show(acc)} outside dim ${skip}`);
  return m.shape;
}

const withDim = (s: Shape, axis: number, v: number): number[] => s.map((d, i) => (i === axis ? v : d));

/** Concatenates tensors along `axis` (the reference forward of Concat and _backward_stack-like joins). */
function concatTensors(xs: Tensor[], axis: number): Tensor {
  const total = xs.reduce((acc, x) => acc + x.shape[axis], 0);
  const out = new Tensor(withDim(xs[0].shape, axis, total));
  const [outer, , inner] = aroundAxis(out.shape, axis);
  let offset = 0;
  for (const x of xs) {
    const mid = x.shape[axis];
    for (let o = 0; o < outer; o++)
      for (let m = 0; m < mid; m++)
        for (let k = 0; k < inner; k++) out.data[(o * total + offset + m) * inner + k] = x.data[(o * mid + m) * inner + k];
    offset += mid;
  }
  return out;
}

/** Splits x along `axis` into pieces of the given sizes. */
function splitTensor(x: Tensor, axis: number, sizes: number[]): Tensor[] {
  const [outer, total, inner] = aroundAxis(x.shape, axis);
  let offset = 0;
  return sizes.map((mid) => {
    const t = new Tensor(withDim(x.shape, axis, mid));
    for (let o = 0; o < outer; o++)
      for (let m = 0; m < mid; m++)
        for (let k = 0; k < inner; k++) t.data[(o * mid + m) * inner + k] = x.data[(o * total + offset + m) * inner + k];
    offset += mid;
    return t;
  });
}

/** `index` with its entry at `axis` replaced. */
const withIndex = (index: readonly Expr[], axis: number, e: Expr): Expr[] => index.map((x, d) => (d === axis ? e : x));

/**
 * A join: the output element at i comes from the input whose range along `axis` holds i
 * there, loaded at i shifted back by the input's offset. Nested selects test the ranges in
 * order; the select is lazy, so no input is read outside its range.
 */
function concatCompute(ctx: ComputeCtx, axis: number): StageBody[] {
  const i = ctx.index();
  const offsets: number[] = [];
  let off = 0;
  for (const x of ctx.inputs) {
    offsets.push(off);
    off += x.shape[axis];
  }
  const loadFrom = (k: number): Expr => ctx.inputs[k].at(withIndex(i, axis, ix.sub(i[axis], offsets[k])));
  let value = loadFrom(ctx.inputs.length - 1);
  for (let k = ctx.inputs.length - 2; k >= 0; k--) value = select(cmp.lt(i[axis], offsets[k + 1]), loadFrom(k), value);
  return [{ kind: "map", value }];
}

/** A split: output k is `x` (input `slot`) at its index shifted by the output's offset along `axis`. */
function splitCompute(ctx: ComputeCtx, slot: number, axis: number): StageBody[] {
  const x = ctx.inputs[slot];
  let off = 0;
  return ctx.outputs.map((o, k) => {
    const i = ctx.index(k);
    const body: StageBody = { kind: "map", value: x.at(withIndex(i, axis, ix.add(i[axis], off))) };
    off += o.shape[axis];
    return body;
  });
}

/**
 * Shape rule of a concatenation: inputs `ins` and output `out` agree outside `dim`; the output's
 * dim is the sum; with the output's dim known, one unknown input dim is the remainder.
 */
function concatShape(ctx: ShapeCtx, dim: number, ins: number[], out: number): void {
  const known = [...ins.map((i) => ctx.in(i)), ctx.out(out)].find((s) => s !== undefined);
  if (known === undefined) return;
  const axis = axisOf(dim, known.length, "dim");
  let t: Shape | undefined;
  ins.forEach((i) => (t = mergeExcept(t, ctx.in(i), axis, `input ${ctx.inputNames[i]}`)));
  t = mergeExcept(t, ctx.out(out), axis, "the output");
  const tmpl = t!;
  ins.forEach((i) => ctx.setIn(i, withDim(tmpl, axis, ctx.in(i)?.[axis] ?? 0)));
  const sizes = ins.map((i) => ctx.in(i)![axis]);
  const unknown = sizes.filter((s) => s === 0).length;
  ctx.setOut(out, withDim(tmpl, axis, unknown ? 0 : sizes.reduce((a, b) => a + b, 0)));
  const total = ctx.out(out)![axis];
  if (total > 0 && unknown === 1) {
    const rest = total - sizes.reduce((a, b) => a + b, 0);
    if (rest <= 0) throw new ShapeError(`the output has ${total} along dim ${axis}, but the known inputs already take ${total - rest}`);
    const i = ins[sizes.indexOf(0)];
    ctx.setIn(i, withDim(ctx.in(i)!, axis, rest));
  }
}

export const Concat = defineOp({
  name: "Concat",
  aliases: ["concat"],
  doc: "Joins arrays along `dim`; all other dims must agree.",
  params: {
    num_args: P.int.required("Number of inputs."),
    dim: P.int(1, "The axis to join along (negative counts from the end)."),
  },
  inputs: [],
  variadic: { countParam: "num_args" },
  ...singleOutput,
  pattern: "injective",
  inferShape: (ctx, p) => concatShape(ctx, p.dim, ctx.inputs.map((_, i) => i), 0),
  gradient: (g) => g.op("_backward_Concat", [g.ograd(), ...g.node.inputs], { dim: g.params.dim }),
  compute: (ctx, p) => concatCompute(ctx, axisOf(p.dim, ctx.outputs[0].shape.length, "dim")),
  forward: (p, xs) => [concatTensors(xs, axisOf(p.dim, xs[0].ndim, "dim"))],
});

export const backwardConcat = defineOp({
  name: "_backward_Concat",
  doc: "The gradient of Concat: splits ograd (input 0) into pieces shaped like the other inputs (whose values are not read).",
  params: {
    num_args: P.int.required("Number of inputs: ograd and one per Concat input."),
    dim: P.int(1),
  },
  inputs: [],
  variadic: { countParam: "num_args" },
  outputNames: (p) => Array.from({ length: p.num_args - 1 }, (_, i) => `output${i}`),
  numVisibleOutputs: (p) => p.num_args - 1,
  pattern: "injective",
  inferShape: (ctx, p) => {
    for (let i = 1; i < p.num_args; i++) {
      ctx.setOut(i - 1, ctx.in(i));
      ctx.setIn(i, ctx.out(i - 1));
    }
  },
  compute: (ctx, p) => splitCompute(ctx, 0, axisOf(p.dim, ctx.inputs[0].shape.length, "dim")),
  forward: (p, [og, ...xs]) => {
    const axis = axisOf(p.dim, og.ndim, "dim");
    return splitTensor(og, axis, xs.map((x) => x.shape[axis]));
  },
});

const sliceChannelParams = {
  num_outputs: P.int.required("Number of equal pieces."),
  axis: P.int(1, "Axis to split (negative counts from the end)."),
  squeeze_axis: P.bool(false, "Remove the split axis from the outputs (its size must equal num_outputs)."),
};

function checkCount(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1) throw new ParamError(`${what} must be at least 1, got ${n}`);
  return n;
}

export const SliceChannel = defineOp({
  name: "SliceChannel",
  aliases: ["split"],
  doc: "Splits an array into num_outputs equal pieces along `axis`.",
  params: sliceChannelParams,
  inputs: ["data"],
  outputNames: (p) => Array.from({ length: checkCount(p.num_outputs, "SliceChannel num_outputs") }, (_, i) => `output${i}`),
  numVisibleOutputs: (p) => checkCount(p.num_outputs, "SliceChannel num_outputs"),
  pattern: "injective",
  inferShape: (ctx, p) => {
    const n = p.num_outputs;
    const d = ctx.in(0);
    const outs = ctx.outputs.find((s) => s !== undefined);
    const ndim = d?.length ?? (outs ? outs.length + (p.squeeze_axis ? 1 : 0) : undefined);
    if (ndim === undefined) return;
    const axis = axisOf(p.axis, ndim);
    let piece: Shape | undefined;
    if (d) {
      const len = d[axis];
      if (p.squeeze_axis && len > 0 && len !== n)
        throw new ShapeError(`squeeze_axis needs dim ${axis} of the input to equal num_outputs=${n}, got ${show(d)}`);
      if (len > 0 && len % n !== 0) throw new ShapeError(`dim ${axis} of the input ${show(d)} is not divisible by num_outputs=${n}`);
      piece = p.squeeze_axis ? d.filter((_, i) => i !== axis) : withDim(d, axis, len / n);
    }
    ctx.outputs.forEach((s, i) => {
      const m = mergeShapes(piece, s);
      if (!m.ok) throw new ShapeError(`output ${i} ${show(s)} does not match the other pieces ${show(piece)}`);
      piece = m.shape;
    });
    if (piece === undefined) return;
    for (let i = 0; i < n; i++) ctx.setOut(i, piece);
    const full = p.squeeze_axis ? [...piece.slice(0, axis), n, ...piece.slice(axis)] : withDim(piece, axis, piece[axis] * n);
    ctx.setIn(0, full);
  },
  gradient: (g) => {
    const { num_outputs: n, axis, squeeze_axis: squeeze } = g.params;
    const parts = Array.from({ length: n }, (_, i) => (squeeze ? g.op1("expand_dims", [g.ograd(i)], { axis }) : g.ograd(i)));
    return [g.op1("Concat", parts, { dim: axis })];
  },
  compute: (ctx, p) => {
    const x = ctx.inputs[0];
    const axis = axisOf(p.axis, x.shape.length);
    if (!p.squeeze_axis) return splitCompute(ctx, 0, axis);
    // Output k is the slice at position k of the removed axis.
    return ctx.outputs.map((_, k) => {
      const i = ctx.index(k);
      return { kind: "map", value: x.at([...i.slice(0, axis), int(k), ...i.slice(axis)]) };
    });
  },
  forward: (p, [x]) => {
    const axis = axisOf(p.axis, x.ndim);
    const pieces = splitTensor(x, axis, new Array<number>(p.num_outputs).fill(x.shape[axis] / p.num_outputs));
    return p.squeeze_axis ? pieces.map((t) => new Tensor(t.shape.filter((_, i) => i !== axis), t.data)) : pieces;
  },
});

export const stack = defineOp({
  name: "stack",
  doc: "Joins arrays of one shape along a new axis.",
  params: {
    axis: P.int(0, "Position of the new axis in the output (negative counts from the end)."),
    num_args: P.int.required("Number of inputs."),
  },
  inputs: [],
  variadic: { countParam: "num_args" },
  ...singleOutput,
  pattern: "injective",
  inferShape: (ctx, p) => {
    const o = ctx.out(0);
    const din = ctx.inputs.find((s) => s !== undefined);
    const ndim = din?.length ?? (o ? o.length - 1 : undefined);
    if (ndim === undefined) return;
    const axis = axisOf(p.axis, ndim + 1);
    let t: Shape | undefined = o ? o.filter((_, i) => i !== axis) : undefined;
    ctx.inputs.forEach((s, i) => {
      const m = mergeShapes(t, s);
      if (!m.ok) throw new ShapeError(`input arg${i} ${show(s)} does not match ${show(t)}`);
      t = m.shape;
    });
    const tmpl = t!;
    ctx.inputs.forEach((_, i) => ctx.setIn(i, tmpl));
    ctx.setOut(0, [...tmpl.slice(0, axis), p.num_args, ...tmpl.slice(axis)]);
  },
  gradient: (g) => g.op("SliceChannel", [g.ograd()], { num_outputs: g.params.num_args, axis: g.params.axis, squeeze_axis: true }),
  compute: (ctx, p) => {
    const axis = axisOf(p.axis, ctx.outputs[0].shape.length);
    const i = ctx.index();
    const rest = [...i.slice(0, axis), ...i.slice(axis + 1)];
    // Input k at position k of the new axis; the last input takes what remains.
    let value = ctx.inputs[ctx.inputs.length - 1].at(rest);
    for (let k = ctx.inputs.length - 2; k >= 0; k--) value = select(cmp.eq(i[axis], k), ctx.inputs[k].at(rest), value);
    return [{ kind: "map", value }];
  },
  forward: (p, xs) => {
    const axis = axisOf(p.axis, xs[0].ndim + 1);
    const expanded = xs.map((x) => new Tensor([...x.shape.slice(0, axis), 1, ...x.shape.slice(axis)], x.data));
    return [concatTensors(expanded, axis)];
  },
});
