/**
 * Index maps of reductions for compute rules: which input element a reduction point reads,
 * and where an input element finds its result (to broadcast a result or its gradient back).
 */
import { Expr, int, v } from "../../te/expr.js";
import type { Axis, ComputeCtx, ReduceOp, StageBody } from "../../te/stage.js";
import { Shape, shapeToBracket } from "../../base/shape.js";
import { ShapeError } from "../../base/errors.js";

/** The rank of a reduction's result: the input's with keepdims, else its kept dims (at least 1). */
function resultRank(mask: readonly boolean[], keepdims: boolean): number {
  return keepdims ? mask.length : Math.max(1, mask.filter((m) => !m).length);
}

/**
 * The input index of a reduction point: reduced dims (mask) take the reduction axes in order,
 * kept dims the output index (at the same dim with keepdims, else in order).
 */
export function reductionInputIndex(out: readonly Expr[], axes: readonly Axis[], mask: readonly boolean[], keepdims: boolean): Expr[] {
  if (out.length !== resultRank(mask, keepdims)) throw new ShapeError(`reduction result of rank ${out.length} does not match the reduced dims of a rank-${mask.length} input`);
  let r = 0;
  let k = 0;
  return mask.map((m, d) => (m ? v(axes[r++].name) : keepdims ? out[d] : out[k++]));
}

/**
 * A reduce body of input 0 over the masked dims: op over value(x[…]), then post(acc). For
 * argmax/argmin the result is the flat index over the reduced dims (in order).
 */
export function reduceBody(
  ctx: ComputeCtx,
  mask: readonly boolean[],
  keepdims: boolean,
  op: ReduceOp,
  value: (x: Expr) => Expr = (x) => x,
  post?: Expr,
): StageBody {
  const x = ctx.inputs[0];
  if (x.shape.length !== mask.length) throw new ShapeError(`reduction mask of rank ${mask.length} for input ${shapeToBracket(x.shape)}`);
  const axes = ctx.axes(...x.shape.filter((_, d) => mask[d]));
  const index = reductionInputIndex(ctx.index(), axes, mask, keepdims);
  return { kind: "reduce", op, axes, value: value(x.at(index)), ...(post ? { post } : {}) };
}

/**
 * Where input element `xIndex` finds its reduction result, in a result of shape `result`
 * (made with these mask and keepdims): reduced dims at 0, or dropped.
 */
export function resultIndexOf(xIndex: readonly Expr[], mask: readonly boolean[], keepdims: boolean, result: Shape): Expr[] {
  if (result.length !== resultRank(mask, keepdims))
    throw new ShapeError(`reduction result ${shapeToBracket(result)} does not match the reduced dims of a rank-${mask.length} input`);
  if (keepdims) return xIndex.map((e, d) => (mask[d] ? int(0) : e));
  const kept = xIndex.filter((_, d) => !mask[d]);
  return kept.length ? kept : [int(0)];
}
