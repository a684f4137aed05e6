/**
 * Normalizations. BatchNormalization (inference) is Kiln's BatchNorm with use_global_stats
 * (its mean and variance become aux states) when they are constants or graph inputs;
 * InstanceNormalization, LayerNormalization, GroupNormalization, RMSNormalization,
 * LpNormalization, MeanVarianceNormalization and LRN are compositions of reductions and
 * broadcasts.
 */
import { Symbol } from "../../symbol/symbol.js";
import type { NodeCtx } from "../node_ctx.js";
import { defineMappings, Mapper } from "./registry.js";
import { normAxis, reshape } from "./util.js";
import { padSymbol } from "./slicing.js";

const bop = (n: NodeCtx, op: string, a: Symbol, b: Symbol): Symbol => n.op(`broadcast_${op}`, { lhs: a, rhs: b });

/** (x - mean) / sqrt(var + eps) over `axes` (keepdims), with the mean and 1/std. */
function standardize(n: NodeCtx, x: Symbol, axes: number[], eps: number): { y: Symbol; mean: Symbol; invStd: Symbol } {
  const mean = n.op("mean", { data: x, axis: axes, keepdims: true });
  const centered = bop(n, "sub", x, mean);
  const variance = n.op("mean", { data: n.op("square", { data: centered }), axis: axes, keepdims: true });
  const invStd = n.op("rsqrt", { data: n.op("_plus_scalar", { data: variance, scalar: eps }) });
  return { y: bop(n, "mul", centered, invStd), mean, invStd };
}

/** A per-channel (C,) vector shaped to broadcast against (N, C, spatial…). */
function channelVector(n: NodeCtx, v: Symbol, rank: number): Symbol {
  const c = n.symFullShape(v);
  return reshape(n, v, [c[0], ...new Array<number>(rank - 2).fill(1)]);
}

const batchNorm: Mapper = (n) => {
  const eps = n.float("epsilon", 1e-5);
  if (n.opset >= 14 && n.int("training_mode", 0) !== 0) n.unsupported("training_mode (batch statistics)");
  if (n.opset < 7 && n.int("is_test", 0) === 0 && n.node.outputs.length > 1) n.unsupported("training outputs");
  if (n.opset < 9 && n.int("spatial", 1) === 0) n.unsupported("spatial=0");
  const r = n.rank(0);
  const asAux = (i: number): boolean => {
    if (n.isConst(i)) return true;
    const s = n.in(i);
    return s.outputs[0].node.isVariable;
  };
  if (asAux(3) && asAux(4) && r >= 2)
    return [n.op("BatchNorm", { data: n.in(0), gamma: n.in(1), beta: n.in(2), moving_mean: n.in(3), moving_var: n.in(4), eps, fix_gamma: false, use_global_stats: true, axis: 1 })];
  const x = n.in(0);
  const v = (i: number): Symbol => channelVector(n, n.in(i), r);
  const inv = n.op("rsqrt", { data: n.op("_plus_scalar", { data: v(4), scalar: eps }) });
  const y = bop(n, "mul", bop(n, "sub", x, v(3)), bop(n, "mul", inv, v(1)));
  return [bop(n, "add", y, v(2))];
};

const instanceNorm: Mapper = (n) => {
  const r = n.rank(0);
  const axes = Array.from({ length: r - 2 }, (_, i) => i + 2);
  const { y } = standardize(n, n.in(0), axes, n.float("epsilon", 1e-5));
  return [bop(n, "add", bop(n, "mul", y, channelVector(n, n.in(1), r)), channelVector(n, n.in(2), r))];
};

const layerNorm: Mapper = (n) => {
  const r = n.rank(0);
  const axis = normAxis(n, n.int("axis", -1), r);
  const axes = Array.from({ length: r - axis }, (_, i) => i + axis);
  const x = n.in(0);
  const { y, mean, invStd } = standardize(n, x, axes, n.float("epsilon", 1e-5));
  let z = bop(n, "mul", y, n.in(1));
  if (n.has(2)) z = bop(n, "add", z, n.in(2));
  return [z, mean, invStd];
};

const groupNorm: Mapper = (n) => {
  const xs = n.fullShape(0);
  const [N, C] = xs;
  const G = n.int("num_groups") ?? n.fail("has no num_groups");
  if (C % G !== 0) n.fail(`${C} channels do not split into ${G} groups`);
  const grouped = reshape(n, n.in(0), [N, G, (C / G) * xs.slice(2).reduce((a, b) => a * b, 1)]);
  const { y } = standardize(n, grouped, [2], n.float("epsilon", 1e-5));
  const back = reshape(n, y, xs);
  const perGroup = n.fullShape(1)[0] === G && G !== C;
  const vec = (i: number): Symbol => {
    if (!perGroup) return channelVector(n, n.in(i), xs.length);
    // Opset 18: scale and bias per group: repeat each over its channels.
    const g = reshape(n, n.in(i), [G, 1]);
    const rep = n.op("broadcast_to", { data: g, shape: [G, C / G] });
    return reshape(n, rep, [C, ...new Array<number>(xs.length - 2).fill(1)]);
  };
  return [bop(n, "add", bop(n, "mul", back, vec(1)), vec(2))];
};

const rmsNorm: Mapper = (n) => {
  const r = n.rank(0);
  const axis = normAxis(n, n.int("axis", -1), r);
  const axes = Array.from({ length: r - axis }, (_, i) => i + axis);
  const x = n.in(0);
  const ms = n.op("mean", { data: n.op("square", { data: x }), axis: axes, keepdims: true });
  const inv = n.op("rsqrt", { data: n.op("_plus_scalar", { data: ms, scalar: n.float("epsilon", 1e-5) }) });
  return [bop(n, "mul", bop(n, "mul", x, inv), n.in(1))];
};

const lpNorm: Mapper = (n) => {
  const r = n.rank(0);
  const axis = normAxis(n, n.int("axis", -1), r);
  const p = n.int("p", 2);
  const x = n.in(0);
  let norm: Symbol;
  if (p === 1) norm = n.op("sum", { data: n.op("abs", { data: x }), axis: [axis], keepdims: true });
  else if (p === 2) norm = n.op("sqrt", { data: n.op("sum", { data: n.op("square", { data: x }), axis: [axis], keepdims: true }) });
  else return n.unsupported(`p=${p}`);
  // A zero norm gives 0, not NaN (as ONNX's reference): divide by 1 there.
  const safe = n.op("elemwise_add", { lhs: norm, rhs: n.op("_equal_scalar", { data: norm, scalar: 0 }) });
  return [bop(n, "div", x, safe)];
};

const meanVarianceNorm: Mapper = (n) => {
  const r = n.rank(0);
  const axes = (n.ints("axes") ?? [0, 2, 3]).map((a) => normAxis(n, a, r));
  const x = n.in(0);
  const mean = n.op("mean", { data: x, axis: axes, keepdims: true });
  const meanSq = n.op("mean", { data: n.op("square", { data: x }), axis: axes, keepdims: true });
  const variance = n.op("elemwise_sub", { lhs: meanSq, rhs: n.op("square", { data: mean }) });
  const std = n.op("_plus_scalar", { data: n.op("sqrt", { data: variance }), scalar: 1e-9 });
  return [bop(n, "div", bop(n, "sub", x, mean), std)];
};

const lrn: Mapper = (n) => {
  const xs = n.fullShape(0);
  const size = n.int("size") ?? n.fail("has no size");
  const alpha = n.float("alpha", 1e-4);
  const beta = n.float("beta", 0.75);
  const bias = n.float("bias", 1);
  const x = n.in(0);
  const C = xs[1];
  const lo = Math.floor((size - 1) / 2);
  const hi = Math.ceil((size - 1) / 2);
  const before = xs.map((_, i) => (i === 1 ? lo : 0));
  const after = xs.map((_, i) => (i === 1 ? hi : 0));
  const sq = padSymbol(n, n.op("square", { data: x }), xs, before, after, "constant", 0);
  let acc: Symbol | undefined;
  for (let k = 0; k < size; k++) {
    const part = n.op("slice_axis", { data: sq, axis: 1, begin: k, end: k + C });
    acc = acc ? n.op("elemwise_add", { lhs: acc, rhs: part }) : part;
  }
  const denom = n.op("_power_scalar", { data: n.op("_plus_scalar", { data: n.op("_mul_scalar", { data: acc!, scalar: alpha / size }), scalar: bias }), scalar: beta });
  return [n.op("elemwise_div", { lhs: x, rhs: denom })];
};

defineMappings({
  BatchNormalization: batchNorm,
  InstanceNormalization: instanceNorm,
  LayerNormalization: layerNorm,
  GroupNormalization: groupNorm,
  RMSNormalization: rmsNorm,
  LpNormalization: lpNorm,
  MeanVarianceNormalization: meanVarianceNorm,
  LRN: lrn,
});
