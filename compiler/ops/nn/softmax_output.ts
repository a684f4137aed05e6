/**
 * SoftmaxOutput (alias Softmax): softmax forward, cross-entropy gradient backward
 * (softmax − onehot(label))·grad_scale, ignoring the head gradient unless out_grad.
 *
 * Normalization follows MXNet 1.x exactly, including its multi_output quirk: with
 * normalization 'null' or 'batch' the multi_output gradient is also divided by the number
 * of spatial positions. A label with the data's own shape is a probability label:
 * grad = (out − label)·grad_scale with no normalization.
 */
import { defineOp, singleOutput, ShapeCtx } from "../registry.js";
import { P, ParamValues } from "../params.js";
import { Tensor } from "../tensor.js";
import { ShapeError } from "../../base/errors.js";
import { Shape, shapesEqual, shapeSize, shapeToBracket } from "../../base/shape.js";

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
  forward: (p, [out, label, ograd]) => [softmaxOutputGrad(p, out, label, p.out_grad ? ograd : undefined)],
});
