/** FullyConnected (dense layer) and its internal gradient op. */
import { weightedLayerGradOutputs } from "./common.js";
import { defineOp, singleOutput } from "../registry.js";
import { P } from "../params.js";
import { Tensor } from "../tensor.js";
import { ParamError, ShapeError } from "../../base/errors.js";
import { Shape, mergeShapes, shapeToBracket } from "../../base/shape.js";

const fcParams = {
  num_hidden: P.int.required("Number of hidden nodes of the output."),
  no_bias: P.bool(false, "Whether to disable the bias."),
  flatten: P.bool(true, "Whether to collapse all but the first axis of the input data (else apply to the last axis)."),
};

/** Rows (M) and features (K) of the data seen as a matrix. */
function asMatrix(shape: Shape, flatten: boolean): [number, number] {
  if (flatten) {
    let k = 1;
    for (let i = 1; i < shape.length; i++) k *= shape[i];
    return [shape[0], k];
  }
  const k = shape[shape.length - 1];
  let m = 1;
  for (let i = 0; i + 1 < shape.length; i++) m *= shape[i];
  return [m, k];
}

export const FullyConnected = defineOp({
  name: "FullyConnected",
  doc: "out = data · weightᵀ + bias, with data flattened to (batch, features) (flatten=True) or applied to its last axis.",
  params: fcParams,
  inputs: ["data", "weight", "bias"],
  activeInputs: (p) => (p.no_bias ? ["data", "weight"] : ["data", "weight", "bias"]),
  ...singleOutput,
  pattern: "outEWiseFusable",
  inferShape: (ctx, p) => {
    if (p.num_hidden < 1) throw new ParamError(`num_hidden must be positive, got ${p.num_hidden}`);
    const d = ctx.in(0);
    // Like MXNet, everything follows from the data shape; without it nothing is inferred.
    if (d === undefined) return;
    if (d.length === 0) throw new ShapeError("data must have at least one dim");
    const [, k] = asMatrix(d, p.flatten);
    ctx.setIn(1, [p.num_hidden, k]);
    if (!p.no_bias) {
      const b = ctx.in(2);
      // MXNet also accepts a (num_hidden, 1) bias.
      if (!(b !== undefined && b.length === 2 && mergeShapes(b, [p.num_hidden, 1]).ok)) ctx.setIn(2, [p.num_hidden]);
    }
    ctx.setOut(0, p.flatten ? [d[0], p.num_hidden] : [...d.slice(0, -1), p.num_hidden]);
    const o = ctx.out(0)!;
    if (p.flatten) ctx.setIn(0, [o[0], ...d.slice(1)]);
    else ctx.setIn(0, [...o.slice(0, -1), d[d.length - 1]]);
  },
  gradient: (g) => {
    const inputs = [g.ograd(), g.input(0), g.input(1)];
    const grads = g.op("_backward_FullyConnected", inputs, g.params);
    return g.params.no_bias ? [grads[0], grads[1]] : [grads[0], grads[1], grads[2]];
  },
  forward: (p, [x, w, b]) => {
    const [m, k] = asMatrix(x.shape, p.flatten);
    const h = p.num_hidden;
    const outShape = p.flatten ? [x.shape[0], h] : [...x.shape.slice(0, -1), h];
    const out = new Tensor(outShape);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < h; j++) {
        let acc = b ? b.data[j] : 0;
        for (let t = 0; t < k; t++) acc += x.data[i * k + t] * w.data[j * k + t];
        out.data[i * h + j] = acc;
      }
    return [out];
  },
});

export const backwardFullyConnected = defineOp({
  name: "_backward_FullyConnected",
  doc: "Gradients of FullyConnected: data (ograd · weight), weight (ogradᵀ · data), bias (column sums of ograd).",
  params: fcParams,
  inputs: ["ograd", "data", "weight"],
  outputNames: weightedLayerGradOutputs,
  numVisibleOutputs: (p) => (p.no_bias ? 2 : 3),
  pattern: "opaque",
  inferShape: (ctx, p) => {
    ctx.setOut(0, ctx.in(1));
    ctx.setOut(1, ctx.in(2));
    if (!p.no_bias) ctx.setOut(2, [p.num_hidden]);
  },
  forward: (p, [og, x, w]) => {
    const [m, k] = asMatrix(x.shape, p.flatten);
    const h = p.num_hidden;
    if (og.size !== m * h) throw new ShapeError(`ograd ${shapeToBracket(og.shape)} does not match data ${shapeToBracket(x.shape)}`);
    const dx = new Tensor(x.shape);
    const dw = new Tensor(w.shape);
    const db = new Tensor([h]);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < h; j++) {
        const g = og.data[i * h + j];
        db.data[j] += g;
        for (let t = 0; t < k; t++) {
          dx.data[i * k + t] += g * w.data[j * k + t];
          dw.data[j * k + t] += g * x.data[i * k + t];
        }
      }
    return p.no_bias ? [dx, dw] : [dx, dw, db];
  },
});
