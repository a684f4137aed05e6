/**
 * Index-driven ops composed from Kiln's take, pick, one_hot and constants computed at import:
 * GatherElements and GatherND (flat indices into the flattened data), OneHot, Trilu (a
 * constant mask), CumSum (a product with a constant triangular matrix), and the losses
 * NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (pick along the class axis).
 */
import { Symbol } from "../../symbol/symbol.js";
import type { NodeCtx, MapOutput } from "../node_ctx.js";
import { constTensor, ONNX_TYPE } from "../tensor.js";
import { defineMappings, Mapper } from "./registry.js";
import { normAxis, out, reshape, size, cast } from "./util.js";
import { DType } from "../../base/dtype.js";

const ONNX_OF: Record<DType, number> = { float32: 1, float64: 11, float16: 10, int32: 6, int64: 7, uint8: 2, int8: 3 };

function strides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1] * dims[i + 1];
  return s;
}

/** Negative indices (counting from the end of an axis of size `dim`) made non-negative. */
function wrapNegative(n: NodeCtx, idx: Symbol, dim: number): Symbol {
  const neg = n.op("_lesser_scalar", { data: idx, scalar: 0 });
  return n.op("elemwise_add", { lhs: idx, rhs: n.op("_mul_scalar", { data: neg, scalar: dim }) });
}

const gatherElements: Mapper = (n) => {
  const ds = n.fullShape(0);
  const is = n.fullShape(1);
  const r = ds.length;
  const axis = normAxis(n, n.int("axis", 0), r);
  const st = strides(ds);
  // flat = idx·stride[axis] + Σ_{d≠axis} i_d·stride[d], the second term a constant over the index grid.
  const offsets = new Float64Array(size(is));
  const ist = strides(is);
  for (let f = 0; f < offsets.length; f++) {
    let o = 0;
    for (let d = 0; d < r; d++) if (d !== axis) o += Math.floor(f / ist[d]) % is[d] * st[d];
    offsets[f] = o;
  }
  const idx = cast(n, wrapNegative(n, n.in(1), ds[axis]), "int64");
  const off = n.constSym(constTensor(is, ONNX_TYPE.INT64, offsets), "offsets", true);
  const flat = n.op("elemwise_add", { lhs: n.op("_mul_scalar", { data: idx, scalar: st[axis] }), rhs: off });
  return [n.op("take", { a: reshape(n, n.in(0), [size(ds)]), indices: flat, axis: 0, mode: "clip" })];
};

const gatherND: Mapper = (n) => {
  if (n.int("batch_dims", 0) !== 0) n.unsupported("batch_dims");
  const ds = n.fullShape(0);
  const is = n.fullShape(1);
  const k = is[is.length - 1];
  const lead = ds.slice(0, k);
  const st = strides(lead);
  const idx = cast(n, n.in(1), "int64");
  const dimsConst = n.constSym(constTensor([k], ONNX_TYPE.INT64, lead), "dims", true);
  const stConst = n.constSym(constTensor([k], ONNX_TYPE.INT64, st), "strides", true);
  const neg = n.op("_lesser_scalar", { data: idx, scalar: 0 });
  const wrapped = n.op("broadcast_add", { lhs: idx, rhs: n.op("broadcast_mul", { lhs: neg, rhs: dimsConst }) });
  const flat = n.op("sum", { data: n.op("broadcast_mul", { lhs: wrapped, rhs: stConst }), axis: [is.length - 1], keepdims: false });
  const data = reshape(n, n.in(0), [size(lead), ...ds.slice(k)]);
  const y = n.op("take", { a: data, indices: flat, axis: 0, mode: "clip" });
  const outDims = [...is.slice(0, -1), ...ds.slice(k)];
  return [out(reshape(n, y, outDims.length ? outDims : [1]), outDims.length === 0)];
};

const oneHot: Mapper = (n) => {
  const depth = n.konst(1, "depth").values[0];
  const vals = n.konst(2, "values");
  const r = n.rank(0) + 1;
  const axis = normAxis(n, n.int("axis", -1), r);
  const idx = wrapNegative(n, n.in(0), depth);
  const y = n.op("one_hot", { indices: idx, depth, off_value: vals.values[0], on_value: vals.values[1], dtype: vals.dtype });
  if (axis === r - 1) return [y];
  const perm = Array.from({ length: r - 1 }, (_, i) => i);
  perm.splice(axis, 0, r - 1);
  return [n.op("transpose", { data: y, axes: perm })];
};

const trilu: Mapper = (n) => {
  const xs = n.fullShape(0);
  const k = n.has(1) ? n.konst(1, "k").values[0] : 0;
  const upper = n.int("upper", 1) !== 0;
  const [R, C] = xs.slice(-2);
  const mask = new Float64Array(R * C);
  for (let i = 0; i < R; i++) for (let j = 0; j < C; j++) mask[i * C + j] = (upper ? j - i >= k : j - i <= k) ? 1 : 0;
  const m = n.constSym(constTensor([R, C], ONNX_OF[n.dtype(0)], mask), "mask", true);
  return [n.op("broadcast_mul", { lhs: n.in(0), rhs: m })];
};

const cumSum: Mapper = (n) => {
  const xs = n.fullShape(0);
  const r = xs.length;
  const axis = normAxis(n, n.konst(1, "axis").values[0], r);
  const exclusive = n.int("exclusive", 0) !== 0;
  const reverse = n.int("reverse", 0) !== 0;
  const L = xs[axis];
  // y[..., j] = Σ_i x[..., i]·T[i, j] along the axis moved last.
  const T = new Float64Array(L * L);
  for (let i = 0; i < L; i++)
    for (let j = 0; j < L; j++) {
      const take = reverse ? (exclusive ? i > j : i >= j) : exclusive ? i < j : i <= j;
      T[i * L + j] = take ? 1 : 0;
    }
  const dtype = n.dtype(0);
  const perm = Array.from({ length: r }, (_, i) => i).filter((i) => i !== axis);
  perm.push(axis);
  const x = cast(n, n.in(0), "float64");
  const moved = axis === r - 1 ? x : n.op("transpose", { data: x, axes: perm });
  const movedDims = perm.map((p) => xs[p]);
  const flat = reshape(n, moved, [size(movedDims) / L, L]);
  const tri = n.constSym(constTensor([L, L], ONNX_TYPE.DOUBLE, T), "triangle", true);
  let y = reshape(n, n.op("dot", { lhs: flat, rhs: tri }), movedDims);
  if (axis !== r - 1) y = n.op("transpose", { data: y, axes: perm.map((_, i) => perm.indexOf(i)) });
  return [out(cast(n, y, dtype), n.isScalar(0))];
};

/** The negative log-likelihood of `logProb` (N, C, …) at `target`, with ONNX's weights, ignore_index and reduction. */
function nll(n: NodeCtx, logProb: Symbol, target: Symbol, weightInput: number): MapOutput {
  const reduction = n.str("reduction", "mean");
  if (!["none", "sum", "mean"].includes(reduction)) n.fail(`unknown reduction ${reduction}`);
  const dtype = n.symDType(logProb);
  const ignore = n.int("ignore_index");
  const picked = n.op("pick", { data: logProb, index: target, axis: 1, keepdims: false, mode: "clip" });
  let w: Symbol | undefined = n.has(weightInput) ? n.op("take", { a: n.in(weightInput), indices: target, axis: 0, mode: "clip" }) : undefined;
  if (ignore !== undefined) {
    const keep = cast(n, n.op("_not_equal_scalar", { data: target, scalar: ignore }), dtype);
    w = w ? n.op("elemwise_mul", { lhs: w, rhs: keep }) : keep;
  }
  const loss = n.op("negative", { data: w ? n.op("elemwise_mul", { lhs: picked, rhs: w }) : picked });
  if (reduction === "none") return loss;
  const total = n.op("sum", { data: loss, keepdims: false });
  if (reduction === "sum") return out(total, true);
  const count = w ? n.op("sum", { data: w, keepdims: false }) : undefined;
  const mean = count ? n.op("elemwise_div", { lhs: total, rhs: count }) : n.op("_div_scalar", { data: total, scalar: size(n.symFullShape(picked)) });
  return out(mean, true);
}

const nllLoss: Mapper = (n) => [nll(n, n.in(0), n.in(1), 2)];

const softmaxCrossEntropy: Mapper = (n) => {
  const logProb = n.op("log_softmax", { data: n.in(0), axis: 1 });
  return [nll(n, logProb, n.in(1), 2), logProb];
};

defineMappings({
  GatherElements: gatherElements,
  GatherND: gatherND,
  OneHot: oneHot,
  Trilu: trilu,
  CumSum: cumSum,
  NegativeLogLikelihoodLoss: nllLoss,
  SoftmaxCrossEntropyLoss: softmaxCrossEntropy,
});
