/** FullyConnected (dense layer) and its internal gradient op. */
import { weightedLayerGradOutputs } from "./common.js";
import { defineOp, singleOutput } from "../registry.js";
import { P } from "../params.js";
import { Tensor } from "../tensor.js";
import { ParamError, ShapeError } from "../../base/errors.js";
import { Shape, mergeShapes, shapeToBracket } from "../../base/shape.js";
import { E, Expr, ix, int, v } from "../../te/expr.js";
import type { ComputeCtx, StageBody, TensorHandle } from "../../te/stage.js";
import { reduceAxes } from "./common.js";

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

/**
 * The data seen as a (rows, K) matrix in index expressions: `row` maps the index of a
 * (rows…, ·)-shaped tensor — the output or ograd, whose last dim is the hidden one — to its
 * leading part, and `at` reads data[row, t] for a feature index t.
 */
function dataMatrix(x: TensorHandle, flatten: boolean) {
  const rank = x.shape.length;
  return {
    /** The leading (row) part of an output-shaped index. */
    rowOf: (outIndex: readonly Expr[]): Expr[] => (flatten ? [outIndex[0]] : outIndex.slice(0, -1)),
    /** The row dims of the data. */
    rowDims: flatten ? [x.shape[0]] : x.shape.slice(0, -1),
    /** data at row index `row` (as rowOf gives) and feature `t`. */
    at: (row: readonly Expr[], t: Expr): Expr => x.at(flatten ? [row[0], ...ix.unflatten(t, x.shape.slice(1))] : [...row, t]),
    /** The row index and feature of a data-shaped index. */
    split: (dataIndex: readonly Expr[]): { row: Expr[]; t: Expr } =>
      flatten ? { row: [dataIndex[0]], t: ix.flatten(dataIndex.slice(1), x.shape.slice(1)) } : { row: dataIndex.slice(0, rank - 1), t: dataIndex[rank - 1] },
  };
}

/** Reads the bias at hidden unit j: it is (num_hidden,) or (num_hidden, 1). */
const biasAt = (b: TensorHandle, j: Expr): Expr => b.at(b.shape.length === 2 ? [j, int(0)] : [j]);

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
  // out[row, j] = Σ_t data[row, t] · weight[j, t] (+ bias[j] in the epilogue).
  compute: (ctx: ComputeCtx, p): StageBody[] => {
    const [x, w, b] = ctx.inputs;
    const m = dataMatrix(x, p.flatten);
    const i = ctx.index();
    const j = i[i.length - 1];
    const { axes, vars: [t] } = reduceAxes(ctx, w.shape[1]);
    const value = E.mul(m.at(m.rowOf(i), t), w.at([j, t]));
    return [{ kind: "reduce", op: "sum", axes, value, ...(b ? { post: E.add(v("acc"), biasAt(b, j)) } : {}) }];
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
  compute: (ctx: ComputeCtx, p): StageBody[] => {
    const [og, x, w] = ctx.inputs;
    const m = dataMatrix(x, p.flatten);
    const H = p.num_hidden;
    // dx[row, t] = Σ_j ograd[row, j] · weight[j, t]
    const { row, t } = m.split(ctx.index(0));
    const dj = reduceAxes(ctx, H);
    const dx: StageBody = { kind: "reduce", op: "sum", axes: dj.axes, value: E.mul(og.at([...row, dj.vars[0]]), w.at([dj.vars[0], t])) };
    // dw[j, t] = Σ_rows ograd[row, j] · data[row, t]
    const [j, tw] = ctx.index(1);
    const rows = reduceAxes(ctx, ...m.rowDims);
    const dw: StageBody = { kind: "reduce", op: "sum", axes: rows.axes, value: E.mul(og.at([...rows.vars, j]), m.at(rows.vars, tw)) };
    if (p.no_bias) return [dx, dw];
    // db[j] = Σ_rows ograd[row, j]
    const [jb] = ctx.index(2);
    const brows = reduceAxes(ctx, ...m.rowDims);
    return [dx, dw, { kind: "reduce", op: "sum", axes: brows.axes, value: og.at([...brows.vars, jb]) }];
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
