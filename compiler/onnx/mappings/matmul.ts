/**
 * Gemm and MatMul. Gemm becomes FullyConnected when it is a dense layer (alpha = beta = 1,
 * A not transposed, a bias of shape (N,) or none), so real models keep Kiln's FC kernels and
 * parameter layout; otherwise dot with transposes, scaling and a broadcast add. MatMul follows
 * numpy: 1-D operands gain and lose a dim, batch dims broadcast, 3-D+ pairs use batch_dot.
 */
import { Symbol } from "../../symbol/symbol.js";
import type { NodeCtx } from "../node_ctx.js";
import { defineMappings, Mapper } from "./registry.js";
import { out, reshape, broadcastDims, broadcastTo, size } from "./util.js";

const gemm: Mapper = (n) => {
  const alpha = n.float("alpha", 1);
  const beta = n.float("beta", 1);
  const transA = n.int("transA", 0) !== 0;
  const transB = n.int("transB", 0) !== 0;
  const a = n.in(0);
  const bShape = n.fullShape(1);
  const N = transB ? bShape[0] : bShape[1];
  const hasC = n.has(2) && beta !== 0;
  const cShape = hasC ? n.shape(2) : undefined;
  const denseBias = !hasC || (cShape !== undefined && ((cShape.length === 1 && cShape[0] === N) || (cShape.length === 2 && cShape[0] === 1 && cShape[1] === N)));
  if (alpha === 1 && (beta === 1 || !hasC) && !transA && denseBias) {
    let w: Symbol;
    if (transB) w = n.in(1);
    else if (n.isConst(1)) {
      // Store the weight as FullyConnected's (N, K) once, at import.
      const t = n.konst(1, "B");
      const [K] = bShape;
      const v = new Float64Array(t.values.length);
      for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) v[j * K + k] = t.values[k * N + j];
      w = n.constSym({ dims: [N, K], onnxType: t.onnxType, dtype: t.dtype, values: v }, `${n.node.inputs[1]}_T`);
    } else w = n.op("transpose", { data: n.in(1) });
    const bias = hasC ? (cShape!.length === 2 ? reshape(n, n.in(2), [N]) : n.in(2)) : undefined;
    return [n.op("FullyConnected", { data: a, weight: w, bias, num_hidden: N, no_bias: !hasC, flatten: false })];
  }
  let y = n.op("dot", { lhs: a, rhs: n.in(1), transpose_a: transA, transpose_b: transB });
  if (alpha !== 1) y = n.op("_mul_scalar", { data: y, scalar: alpha });
  if (hasC) {
    let c = n.in(2);
    if (beta !== 1) c = n.op("_mul_scalar", { data: c, scalar: beta });
    y = n.op("broadcast_add", { lhs: y, rhs: c });
  }
  return [y];
};

function matmulCore(n: NodeCtx, a: Symbol, b: Symbol, as: number[], bs: number[]): Symbol {
  if (bs.length === 2) return n.op("dot", { lhs: a, rhs: b });
  const batchA = as.slice(0, -2);
  const batchB = bs.slice(0, -2);
  const batch = broadcastDims(n, batchA, batchB);
  const [M, K] = as.slice(-2);
  const N = bs[bs.length - 1];
  const B = size(batch);
  const a3 = reshape(n, broadcastTo(n, a, as, [...batch, M, K]), [B, M, K]);
  const b3 = reshape(n, broadcastTo(n, b, bs, [...batch, K, N]), [B, K, N]);
  const y = n.op("batch_dot", { lhs: a3, rhs: b3 });
  return reshape(n, y, [...batch, M, N]);
}

const matmul: Mapper = (n) => {
  let as = n.fullShape(0);
  let bs = n.fullShape(1);
  let a = n.in(0);
  let b = n.in(1);
  const aVec = as.length === 1;
  const bVec = bs.length === 1;
  if (aVec) {
    as = [1, as[0]];
    a = reshape(n, a, as);
  }
  if (bVec) {
    bs = [bs[0], 1];
    b = reshape(n, b, bs);
  }
  let y = matmulCore(n, a, b, as, bs);
  if (aVec || bVec) {
    const ys = n.symFullShape(y);
    const keep = ys.filter((_, i) => !((aVec && i === ys.length - 2) || (bVec && i === ys.length - 1)));
    y = n.op("Reshape", { data: y, shape: keep.length ? keep : [1] });
    return [out(y, keep.length === 0)];
  }
  return [y];
};

defineMappings({ Gemm: gemm, MatMul: matmul });
