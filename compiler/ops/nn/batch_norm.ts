/**
 * BatchNorm and its internal gradient op.
 *
 * Like MXNet 1.9's CPU operator, the hidden `var` output holds the INVERSE standard deviation
 * 1/sqrt(var + eps) of the statistics used (batch ones in training, moving ones otherwise),
 * and `_backward_BatchNorm` reads it as such. Unlike MXNet's CPU operator, which updates
 * moving_mean/moving_var in its backward pass, the moving statistics are written in the
 * training forward pass (as cuDNN, and so MXNet on a GPU, does), so a forward(isTrain)
 * without backward also updates them. fix_gamma uses gamma = 1 without writing it back.
 * Pattern: opaque (per-channel statistics; inference BatchNorm is a per-channel affine map
 * that a fusion pass may fold into a convolution's epilogue). For code generation both rows
 * decompose into reductions and broadcasts (batch_norm_graph.ts).
 */
import { defineOp } from "../registry.js";
import { P, ParamValues } from "../params.js";
import { Tensor } from "../tensor.js";
import { ShapeError } from "../../base/errors.js";
import { shapeToBracket } from "../../base/shape.js";
import { DType } from "../../base/dtype.js";
import { axisOf, splitAtAxis } from "./common.js";
import { batchNormGraph, batchNormGradGraph, movingStatUpdates } from "./batch_norm_graph.js";

const bnParams = {
  eps: P.float(1e-3, "Epsilon added to the variance."),
  momentum: P.float(0.9, "Momentum of the moving averages."),
  fix_gamma: P.bool(true, "Treat gamma as 1 (and give it a zero gradient)."),
  use_global_stats: P.bool(false, "Normalize with the moving statistics even in training."),
  output_mean_var: P.bool(false, "Also output the mean and the inverse std."),
  axis: P.int(1, "The channel axis."),
  cudnn_off: P.bool(false, "Turn off cuDNN (ignored by Kiln)."),
  min_calib_range: P.float.optional("Quantization calibration minimum (ignored)."),
  max_calib_range: P.float.optional("Quantization calibration maximum (ignored)."),
};
type BNParams = ParamValues<typeof bnParams>;

/** Parameters and statistics of float16 data are float32 (as in MXNet); otherwise the data's type. */
const paramType = (t: DType): DType => (t === "float16" ? "float32" : t);

/** Calls f(channel, flatIndex) for every element. */
function forEachChannel(shape: readonly number[], axis: number, f: (c: number, i: number) => void): void {
  const [outer, C, inner] = splitAtAxis(shape, axis);
  let i = 0;
  for (let o = 0; o < outer; o++) for (let c = 0; c < C; c++) for (let k = 0; k < inner; k++) f(c, i++);
}

function batchStats(x: Tensor, axis: number): { mean: Float64Array; variance: Float64Array } {
  const C = x.shape[axis];
  const count = x.size / C;
  const mean = new Float64Array(C);
  const variance = new Float64Array(C);
  forEachChannel(x.shape, axis, (c, i) => (mean[c] += x.data[i]));
  for (let c = 0; c < C; c++) mean[c] /= count;
  forEachChannel(x.shape, axis, (c, i) => (variance[c] += (x.data[i] - mean[c]) ** 2));
  for (let c = 0; c < C; c++) variance[c] /= count;
  return { mean, variance };
}

const usesBatchStats = (p: BNParams, isTrain: boolean): boolean => isTrain && !p.use_global_stats;

export const BatchNorm = defineOp({
  name: "BatchNorm",
  doc: "Batch normalization over every axis but `axis`: batch statistics in training (updating the moving ones), moving statistics otherwise.",
  params: bnParams,
  inputs: ["data", "gamma", "beta", "moving_mean", "moving_var"],
  mutableInputs: () => [3, 4],
  outputNames: () => ["output", "mean", "var"],
  numVisibleOutputs: (p) => (p.output_mean_var ? 3 : 1),
  pattern: "opaque",
  inferShape: (ctx, p) => {
    const d = ctx.in(0);
    if (d === undefined) return;
    const axis = axisOf(p.axis, d, "BatchNorm");
    const c = [d[axis]];
    for (let i = 1; i <= 4; i++) ctx.setIn(i, c);
    ctx.setOut(0, d);
    ctx.setOut(1, c);
    ctx.setOut(2, c);
  },
  inferType: (ctx) => {
    const t = ctx.in(0) ?? ctx.out(0);
    if (t === undefined) return;
    ctx.setIn(0, t);
    ctx.setOut(0, t);
    for (let i = 1; i <= 4; i++) ctx.setIn(i, paramType(t));
    ctx.setOut(1, paramType(t));
    ctx.setOut(2, paramType(t));
  },
  gradient: (g) => {
    const [dx, dgamma, dbeta] = g.op("_backward_BatchNorm", [g.ograd(0), g.input(0), g.input(1), g.output(1), g.output(2)], g.params);
    return [dx, dgamma, dbeta, null, null];
  },
  // Batch statistics only in training, where the moving statistics are written back too.
  decompose: (d, p) => {
    const { outputs, stats } = batchNormGraph(d, p, usesBatchStats(p, d.isTrain));
    if (stats) {
      const { movingMean, movingVar } = movingStatUpdates(d, p, stats);
      d.writeAux(3, movingMean);
      d.writeAux(4, movingVar);
    }
    return outputs;
  },
  forward: (p, [x, gamma, beta, movingMean, movingVar], ctx) => {
    const axis = axisOf(p.axis, x.shape, "BatchNorm");
    const C = x.shape[axis];
    if (gamma.size !== C || beta.size !== C || movingMean.size !== C || movingVar.size !== C)
      throw new ShapeError(`gamma, beta and the moving statistics must have ${C} elements for data ${shapeToBracket(x.shape)}`);
    let mean: Float64Array;
    let variance: Float64Array;
    if (usesBatchStats(p, ctx.isTrain)) {
      ({ mean, variance } = batchStats(x, axis));
      const m = p.momentum;
      ctx.writeAux(3, movingMean.map((v, c) => v * m + mean[c] * (1 - m)));
      ctx.writeAux(4, movingVar.map((v, c) => v * m + variance[c] * (1 - m)));
    } else {
      mean = movingMean.data.slice();
      variance = movingVar.data.slice();
    }
    const invstd = variance.map((v) => 1 / Math.sqrt(v + p.eps));
    const out = new Tensor(x.shape);
    forEachChannel(x.shape, axis, (c, i) => {
      const w = p.fix_gamma ? 1 : gamma.data[c];
      out.data[i] = (x.data[i] - mean[c]) * invstd[c] * w + beta.data[c];
    });
    return [out, new Tensor([C], mean), new Tensor([C], invstd)];
  },
});

export const backwardBatchNorm = defineOp({
  name: "_backward_BatchNorm",
  doc: "Gradients of BatchNorm for data, gamma and beta, from the saved mean and inverse std.",
  params: bnParams,
  inputs: ["ograd", "data", "gamma", "mean", "invstd"],
  outputNames: () => ["data_grad", "gamma_grad", "beta_grad"],
  numVisibleOutputs: () => 3,
  pattern: "opaque",
  inferShape: (ctx) => {
    ctx.setOut(0, ctx.in(1));
    ctx.setOut(1, ctx.in(2));
    ctx.setOut(2, ctx.in(2));
  },
  inferType: (ctx) => {
    ctx.setOut(0, ctx.in(1));
    ctx.setOut(1, ctx.in(2));
    ctx.setOut(2, ctx.in(2));
  },
  decompose: (d, p) => batchNormGradGraph(d, p, usesBatchStats(p, d.isTrain)),
  forward: (p, [og, x, gamma, mean, invstd], ctx) => {
    const axis = axisOf(p.axis, x.shape, "BatchNorm");
    const C = x.shape[axis];
    const count = x.size / C;
    const sumOg = new Float64Array(C);
    const dot = new Float64Array(C);
    forEachChannel(x.shape, axis, (c, i) => {
      sumOg[c] += og.data[i];
      dot[c] += (x.data[i] - mean.data[c]) * og.data[i];
    });
    const batch = usesBatchStats(p, ctx.isTrain);
    const dx = new Tensor(x.shape);
    forEachChannel(x.shape, axis, (c, i) => {
      const s = invstd.data[c] * (p.fix_gamma ? 1 : gamma.data[c]);
      // With batch statistics the mean and variance depend on the data too.
      dx.data[i] = batch
        ? (og.data[i] - sumOg[c] / count - (x.data[i] - mean.data[c]) * dot[c] * invstd.data[c] ** 2 / count) * s
        : og.data[i] * s;
    });
    const dgamma = new Tensor([C], p.fix_gamma ? new Float64Array(C) : dot.map((v, c) => v * invstd.data[c]));
    return [dx, dgamma, new Tensor([C], sumOg)];
  },
});
