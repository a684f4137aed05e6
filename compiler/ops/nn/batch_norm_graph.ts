/**
 * BatchNorm and its gradient rewritten into reductions and broadcasts, in the reference's
 * order of operations (batch_norm.ts). Per-channel values are reshaped to the data's rank
 * with the channel at `axis` ("channel shape") so they broadcast; statistics are reductions
 * over every axis but `axis` (keepdims). float16 data is computed in its parameters' type
 * (float32), as MXNet accumulates, and cast back.
 *
 * In training the moving statistics are updated (the row hands these to `writeAux`):
 *   moving_mean ← moving_mean·momentum + mean·(1 − momentum)
 *   moving_var  ← moving_var·momentum + variance·(1 − momentum)
 * with the batch mean and the biased batch variance (not the inverse std the `var` output holds).
 */
import type { DecomposeCtx } from "../registry.js";
import type { NodeEntry } from "../../ir/node.js";
import { axisOf } from "./common.js";
import { castEntry } from "./softmax_graph.js";

export interface BatchNormSpec {
  readonly eps: number;
  readonly momentum: number;
  readonly fix_gamma: boolean;
  readonly axis: number;
}

/** Shapes and helpers shared by the forward and backward rewrites; the data is input `dataInput`. */
function frame(d: DecomposeCtx, p: BatchNormSpec, dataInput: number) {
  const shape = d.inputShape(dataInput);
  const axis = axisOf(p.axis, shape, "BatchNorm");
  const C = shape[axis];
  const channelShape = shape.map((s, i) => (i === axis ? s : 1));
  return {
    C,
    count: shape.reduce((a, b) => a * b, 1) / C,
    /** A (C,) entry as the channel shape. */
    perChannel: (e: NodeEntry) => d.op1("Reshape", [e], { shape: channelShape }),
    /** A channel-shaped entry as (C,). */
    flat: (e: NodeEntry) => d.op1("Reshape", [e], { shape: [C] }),
    /** Σ or mean over every axis but the channel axis, keeping the channel shape. */
    stat: (op: "sum" | "mean", e: NodeEntry) => d.op1(op, [e], { axis: [axis], exclude: true, keepdims: true }),
  };
}

/** 1/√(v + eps). */
const invStd = (d: DecomposeCtx, v: NodeEntry, eps: number): NodeEntry => d.op1("rsqrt", [d.op1("_plus_scalar", [v], { scalar: eps })]);

/** The forward outputs (output, mean, var = inverse std) and, with batch statistics, the batch mean and variance (C,). */
export function batchNormGraph(d: DecomposeCtx, p: BatchNormSpec, batch: boolean): { outputs: NodeEntry[]; stats?: { mean: NodeEntry; variance: NodeEntry } } {
  // Inputs: data, gamma, beta, moving_mean, moving_var.
  const f = frame(d, p, 0);
  const [dataT, paramT] = [d.inputType(0), d.inputType(1)];
  const x = castEntry(d, d.input(0), dataT, paramT);
  let mean: NodeEntry;
  let inv: NodeEntry;
  let outputs: [NodeEntry, NodeEntry];
  let stats: { mean: NodeEntry; variance: NodeEntry } | undefined;
  let centered: NodeEntry;
  if (batch) {
    mean = f.stat("mean", x);
    centered = d.op1("broadcast_sub", [x, mean]);
    const variance = f.stat("mean", d.op1("square", [centered]));
    inv = invStd(d, variance, p.eps);
    outputs = [f.flat(mean), f.flat(inv)];
    stats = { mean: outputs[0], variance: f.flat(variance) };
  } else {
    mean = f.perChannel(d.input(3));
    centered = d.op1("broadcast_sub", [x, mean]);
    const flatInv = invStd(d, d.input(4), p.eps);
    inv = f.perChannel(flatInv);
    outputs = [d.op1("_copy", [d.input(3)]), flatInv];
  }
  let y = d.op1("broadcast_mul", [centered, inv]);
  if (!p.fix_gamma) y = d.op1("broadcast_mul", [y, f.perChannel(d.input(1))]);
  y = d.op1("broadcast_add", [y, f.perChannel(d.input(2))]);
  return { outputs: [castEntry(d, y, paramT, dataT), ...outputs], stats };
}

/** The moving statistics after a training step, as the reference writes them (see the file comment). */
export function movingStatUpdates(d: DecomposeCtx, p: BatchNormSpec, stats: { mean: NodeEntry; variance: NodeEntry }): { movingMean: NodeEntry; movingVar: NodeEntry } {
  const blend = (moving: NodeEntry, batch: NodeEntry): NodeEntry =>
    d.op1("elemwise_add", [d.op1("_mul_scalar", [moving], { scalar: p.momentum }), d.op1("_mul_scalar", [batch], { scalar: 1 - p.momentum })]);
  return { movingMean: blend(d.input(3), stats.mean), movingVar: blend(d.input(4), stats.variance) };
}

/**
 * The gradient (data, gamma, beta) from inputs (ograd, data, gamma, mean, invstd). With batch
 * statistics the mean and variance depend on the data too:
 *   dx = (og − Σog/m − (x − mean)·Σ((x − mean)·og)·invstd²/m) · invstd·gamma
 * otherwise dx = og · invstd·gamma.
 */
export function batchNormGradGraph(d: DecomposeCtx, p: BatchNormSpec, batch: boolean): NodeEntry[] {
  const f = frame(d, p, 1);
  const [dataT, paramT] = [d.inputType(1), d.inputType(2)];
  const og = castEntry(d, d.input(0), d.inputType(0), paramT);
  const x = castEntry(d, d.input(1), dataT, paramT);
  const inv = f.perChannel(d.input(4));
  const sumOg = f.stat("sum", og);
  const centered = d.op1("broadcast_sub", [x, f.perChannel(d.input(3))]);
  const dot = f.stat("sum", d.op1("elemwise_mul", [centered, og]));
  const scale = p.fix_gamma ? inv : d.op1("broadcast_mul", [inv, f.perChannel(d.input(2))]);
  let dx: NodeEntry;
  if (batch) {
    const meanOg = d.op1("_div_scalar", [sumOg], { scalar: f.count });
    const proj = d.op1("broadcast_mul", [d.op1("broadcast_mul", [centered, dot]), d.op1("square", [inv])]);
    const t = d.op1("elemwise_sub", [d.op1("broadcast_sub", [og, meanOg]), d.op1("_div_scalar", [proj], { scalar: f.count })]);
    dx = d.op1("broadcast_mul", [t, scale]);
  } else dx = d.op1("broadcast_mul", [og, scale]);
  const dgamma = p.fix_gamma ? d.op1("zeros_like", [d.input(2)]) : d.op1("elemwise_mul", [f.flat(dot), d.input(4)]);
  return [castEntry(d, dx, paramT, dataT), dgamma, f.flat(sumOg)];
}
