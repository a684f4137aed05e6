/**
 * Index maps of broadcasting for compute rules: where an output element of a broadcast reads
 * its (right-aligned, NumPy-style) input, and which dims a reduction back to an input sums.
 */
import { Expr, int } from "../../te/expr.js";
import { Shape } from "../../base/shape.js";

/**
 * The index into an input of shape `inShape` (rank ≤ the output's) read at output index
 * `outIndex`: dims align from the right, and a dim of size 1 is read at 0.
 */
export function broadcastIndex(outIndex: readonly Expr[], inShape: Shape): Expr[] {
  const lead = outIndex.length - inShape.length;
  if (lead < 0) throw new Error(`broadcastIndex: input rank ${inShape.length} exceeds output rank ${outIndex.length}`);
  return inShape.map((d, k) => (d === 1 ? int(0) : outIndex[k + lead]));
}

/**
 * Dims of `from` (a broadcast shape) that summing down to `to` reduces: the leading dims
 * `to` lacks, and those where `to` has 1 and `from` does not.
 */
export function broadcastReducedDims(from: Shape, to: Shape): boolean[] {
  const lead = from.length - to.length;
  if (lead < 0) throw new Error(`cannot sum shape (${from.join(",")}) down to the higher rank (${to.join(",")})`);
  return from.map((d, i) => i < lead || (to[i - lead] === 1 && d !== 1));
}
