/**
 * SoftmaxOutput (alias Softmax): softmax forward, cross-entropy gradient backward
 * (softmax − onehot(label))·grad_scale, ignoring the head gradient unless out_grad.
 *
 * Normalization follows MXNet 1.x exactly, including its multi_output quirk: with
 * normalization 'null' or 'batch' the multi_output gradient is also divided by the number
 * of spatial positions. A label with the data's own shape is a probability label:
 * grad = (out − label)·grad_scale with no normalization.
 *
 * For code generation the forward decomposes into softmax's reductions (softmax_graph.ts); the
 * gradient is one elementwise stage (fusable with the loss) except with normalization 'valid',
 * which decomposes into a count of the non-ignored labels and a broadcast scale.
 */
import { defineOp, singleOutput, ShapeCtx } from "../registry.js";
import { P, ParamValues } from "../params.js";
import { Tensor } from "../tensor.js";
import { ShapeError } from "../../base/errors.js";
import { Shape, shapesEqual, shapeSize, shapeToBracket } from "../../base/shape.js";
import { E, Expr, ix, num, v } from "../../te/expr.js";
import type { ComputeCtx, StageBody } from "../../te/stage.js";
import { softmaxGraph, castEntry } from "./softmax_graph.js";

const softmaxOutputParams = {
  grad_scale: P.float(1, "Scales the gradient."),
  ignore_label: P.float(-1, "Label value ignored in the gradient when use_ignore is set."),
  multi_output: P.bool(false, "Softmax along axis 1 of (n, k, d…) data with labels (n, d…)."),
  use_ignore: P.bool(false, "Whether rows labelled ignore_label get a zero gradient."),
  preserve_shape: P.bool(false, "Softmax along the last axis (else over all but the first axis)."),
  normalization: P.enum(["batch", "null", "valid"] as const, "null", "Divide the gradient by nothing, the batch size, or the number of non-ignored labels."),
  out_grad: P.bool(false, "Multiply the gradient by the head gradient."),
  smooth_alpha: P.float(0, "Label smoothing: the target is 1−alpha on the label and alpha/(k−1) elsewhere."),
};
type SOParams = ParamValues<typeof softmaxOutputParams>;

/** (rows, classes, inner): softmax runs over `classes` at stride `inner`. */
function layoutOf(p: SOParams, shape: Shape): [number, number, number] {
  const n = shape[0];
  const size = shapeSize(shape);
  if (p.multi_output) return [n, shape[1], size / n / shape[1]];
  if (p.preserve_shape) return [size / shape[shape.length - 1], shape[shape.length - 1], 1];
  return [n, size / n, 1];
}

function inferSoftmaxOutputShape(ctx: ShapeCtx, p: SOParams): void {
  const d = ctx.in(0);
  if (d === undefined) return;
  if (d.length < 1 || (p.multi_output && d.length < 2)) throw new ShapeError(`data ${shapeToBracket(d)} has too few dims`);
  const l = ctx.in(1);
  if (!(l !== undefined && shapesEqual(l, d))) {
    if (p.multi_output) {
      const l1 = [d[0], d[1] === 0 ? 0 : shapeSize(d) / d[0] / d[1]];
      const l2 = [d[0], ...d.slice(2)];
      const l3 = [d[0], 1, ...d.slice(2)];
      if (l === undefined) ctx.setIn(1, l1);
      else if (![l1, l2, l3].some((s) => shapesEqual(s, l)))
        throw new ShapeError(`label ${shapeToBracket(l)} does not fit data ${shapeToBracket(d)}: expecting ${shapeToBracket(l1)} or ${shapeToBracket(l2)}`);
    } else ctx.setIn(1, d.slice(0, -1));
  }
  ctx.setOut(0, d);
}

function softmaxForward(p: SOParams, x: Tensor): Tensor {
  const [rows, k, inner] = layoutOf(p, x.shape);
  const out = new Tensor(x.shape);
  for (let r = 0; r < rows; r++)
    for (let s = 0; s < inner; s++) {
      const at = (j: number): number => (r * k + j) * inner + s;
      let max = -Infinity;
      for (let j = 0; j < k; j++) max = Math.max(max, x.data[at(j)]);
      let sum = 0;
      for (let j = 0; j < k; j++) sum += Math.exp(x.data[at(j)] - max);
      for (let j = 0; j < k; j++) out.data[at(j)] = Math.exp(x.data[at(j)] - max) / sum;
    }
  return out;
}

function softmaxOutputGrad(p: SOParams, out: Tensor, label: Tensor, ograd: Tensor | undefined): Tensor {
  const grad = new Tensor(out.shape);
  if (shapesEqual(out.shape, label.shape)) {
    for (let i = 0; i < grad.size; i++) grad.data[i] = (out.data[i] - label.data[i]) * p.grad_scale;
  } else {
    const [rows, k, inner] = layoutOf(p, out.shape);
    if (label.size !== rows * inner) throw new ShapeError(`label ${shapeToBracket(label.shape)} needs ${rows * inner} elements for output ${shapeToBracket(out.shape)}`);
    const ignore = Math.trunc(p.ignore_label);
    let valid = label.size;
    for (let r = 0; r < rows; r++)
      for (let s = 0; s < inner; s++) {
        const lab = Math.trunc(label.data[r * inner + s]);
        if (lab === ignore) valid--;
        if (p.use_ignore && lab === ignore) continue; // the row stays zero
        for (let j = 0; j < k; j++) {
          const i = (r * k + j) * inner + s;
          const target = p.smooth_alpha > 0 ? (j === lab ? 1 - p.smooth_alpha : p.smooth_alpha / (k - 1)) : j === lab ? 1 : 0;
          grad.data[i] = out.data[i] - target;
        }
      }
    let count = 1;
    if (p.normalization === "batch") count = p.multi_output ? rows : label.size;
    else if (p.normalization === "valid") count = Math.max(valid, 1);
    const spatial = p.multi_output && p.normalization !== "valid" ? inner : 1;
    const scale = p.grad_scale / spatial / count;
    for (let i = 0; i < grad.size; i++) grad.data[i] *= scale;
  }
  if (ograd) for (let i = 0; i < grad.size; i++) grad.data[i] *= ograd.data[i];
  return grad;
}

/** Whether the label holds class indices (not a probability per output element). */
const indexLabels = (out: Shape, label: Shape): boolean => !shapesEqual(out, label);

/**
 * The gradient as one stage: (out − target)·scale [· ograd], the target the (smoothed)
 * one-hot of the label of the output element's row and position, rows with an ignored label
 * zero under use_ignore, and scale grad_scale divided as the normalization says. With
 * 'valid' the divisor is the count of labels other than ignore_label: a reduction over the
 * whole label inside every element's stage, exact but O(outputs · labels) — the row's
 * `decompose` replaces it with one count and a broadcast.
 */
function softmaxOutputGradCompute(ctx: ComputeCtx, p: SOParams): StageBody[] {
  const [out, label, ograd] = ctx.inputs;
  const i = ctx.index();
  const o = out.at(i);
  const withOgrad = (g: Expr): Expr => (p.out_grad ? E.mul(g, ograd.at(i)) : g);
  if (!indexLabels(out.shape, label.shape)) return [{ kind: "map", value: withOgrad(E.mul(E.sub(o, label.at(i)), p.grad_scale)) }];
  const [rows, k, inner] = layoutOf(p, out.shape);
  if (shapeSize(label.shape) !== rows * inner)
    throw new ShapeError(`label ${shapeToBracket(label.shape)} needs ${rows * inner} elements for output ${shapeToBracket(out.shape)}`);
  const ignore = num(Math.trunc(p.ignore_label));
  // Output element (r, j, s) of the (rows, k, inner) layout reads label element r·inner + s.
  const flat = ix.flatten(i, out.shape);
  const j = ix.mod(ix.div(flat, inner), k);
  const labelFlat = ix.add(ix.mul(ix.div(flat, k * inner), inner), ix.mod(flat, inner));
  const lab = E.fn("trunc", label.at(ix.unflatten(labelFlat, label.shape)));
  const hit = E.eq(j, lab);
  const target = p.smooth_alpha > 0 ? E.select(hit, num(1 - p.smooth_alpha), num(p.smooth_alpha / (k - 1))) : E.select(hit, num(1), num(0));
  let g = E.sub(o, target);
  if (p.use_ignore) g = E.select(E.eq(lab, ignore), num(0), g);
  if (p.normalization === "valid") {
    const all = ctx.axes(...label.shape);
    const kept = E.ne(E.fn("trunc", label.at(all.map((a) => v(a.name)))), ignore);
    return [{ kind: "reduce", op: "sum", axes: all, value: kept, post: withOgrad(E.mul(g, E.div(p.grad_scale, E.max(v("acc"), 1)))) }];
  }
  const count = p.normalization === "batch" ? (p.multi_output ? rows : rows * inner) : 1;
  const spatial = p.multi_output ? inner : 1;
  return [{ kind: "map", value: withOgrad(E.mul(g, p.grad_scale / spatial / count)) }];
}

export const SoftmaxOutput = defineOp({
  name: "SoftmaxOutput",
  aliases: ["Softmax"],
  doc: "Softmax forward; backward gives (softmax − onehot(label))·grad_scale (normalized), a loss op needing no head gradient.",
  params: softmaxOutputParams,
  inputs: ["data", "label"],
  ...singleOutput,
  isLoss: true,
  pattern: "opaque",
  inferShape: inferSoftmaxOutputShape,
  gradient: (g) => {
    const ins = [g.output(0), g.input(1), ...(g.params.out_grad ? [g.ograd(0)] : [])];
    return [g.op1("_backward_SoftmaxOutput", ins, g.params), null];
  },
  // Softmax over the class axis: axis 1 (multi_output), the last axis (preserve_shape), or all
  // but the first axis, seen as a matrix.
  decompose: (d, p) => {
    const shape = d.inputShape(0);
    const spec = { temperature: 1, log: false };
    if (p.multi_output) return [softmaxGraph(d, d.input(0), { ...spec, axis: 1 })];
    if (p.preserve_shape) return [softmaxGraph(d, d.input(0), { ...spec, axis: shape.length - 1 })];
    const [rows, k] = layoutOf(p, shape);
    const matrix = d.op1("Reshape", [d.input(0)], { shape: [rows, k] });
    return [d.op1("Reshape", [softmaxGraph(d, matrix, { ...spec, axis: 1 })], { shape })];
  },
  forward: (p, [x]) => [softmaxForward(p, x)],
});

export const backwardSoftmaxOutput = defineOp({
  name: "_backward_SoftmaxOutput",
  doc: "Gradient of SoftmaxOutput from its output and label (times the head gradient with out_grad).",
  params: softmaxOutputParams,
  inputs: ["output", "label", "ograd"],
  activeInputs: (p) => (p.out_grad ? ["output", "label", "ograd"] : ["output", "label"]),
  ...singleOutput,
  pattern: "opaque",
  inferShape: (ctx) => ctx.setOut(0, ctx.in(0)),
  inferType: (ctx) => ctx.setOut(0, ctx.in(0)),
  compute: softmaxOutputGradCompute,
  /**
   * 'valid' divides by the count of labels other than ignore_label (at least 1): the
   * unnormalized stage (normalization 'null', whose multi_output division by the spatial size
   * grad_scale = spatial cancels exactly), times grad_scale / count broadcast, times ograd —
   * the reference's order of operations.
   */
  decompose: (d, p) => {
    const outShape = d.inputShape(0);
    if (p.normalization !== "valid" || !indexLabels(outShape, d.inputShape(1))) return undefined;
    const spatial = p.multi_output ? layoutOf(p, outShape)[2] : 1;
    const raw = d.op1("_backward_SoftmaxOutput", [d.input(0), d.input(1)], { ...p, normalization: "null", grad_scale: spatial, out_grad: false });
    const kept = d.op1("_not_equal_scalar", [d.op1("trunc", [d.input(1)])], { scalar: Math.trunc(p.ignore_label) });
    const count = castEntry(d, d.op1("_maximum_scalar", [d.op1("sum", [kept])], { scalar: 1 }), d.inputType(1), d.inputType(0));
    const scale = d.op1("Reshape", [d.op1("_rdiv_scalar", [count], { scalar: p.grad_scale })], { shape: outShape.map(() => 1) });
    const g = d.op1("broadcast_mul", [raw, scale]);
    return [p.out_grad ? d.op1("elemwise_mul", [g, d.input(2)]) : g];
  },
  forward: (p, [out, label, ograd]) => [softmaxOutputGrad(p, out, label, p.out_grad ? ograd : undefined)],
});
