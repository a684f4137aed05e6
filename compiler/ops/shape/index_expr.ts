/**
 * Index expressions shared by the compute rules of the shape, indexing and linalg rows: the
 * index maps of views and strided boxes, integer comparisons, and turning a loaded index
 * value into a safe position (MXNet's clip/wrap). All index arithmetic goes through `ix`, so
 * that static shapes fold into short expressions.
 */
import { Expr, call, cast, int, ix } from "../../te/expr.js";
import { Shape } from "../../base/shape.js";

/**
 * The input index of a row-major view (Reshape, Flatten, expand_dims, squeeze): the element at
 * `outIndex` of `outShape` is the element with the same flat offset in `inShape`. The dims are
 * cut into groups whose sizes agree (the points where the reshape splits), and each group is
 * flattened and unflattened on its own, so that expand_dims or a Flatten of trailing dims needs
 * no division at all on the dims it leaves alone. Size-1 dims carry index 0.
 */
export function viewIndex(outIndex: readonly Expr[], outShape: Shape, inShape: Shape): Expr[] {
  const outDims = outShape.map((_, d) => d).filter((d) => outShape[d] !== 1);
  const inDims = inShape.map((_, d) => d).filter((d) => inShape[d] !== 1);
  const inIndex: Expr[] = inShape.map(() => int(0));
  const mismatch = (): Error => new Error(`view of (${inShape.join(",")}) as (${outShape.join(",")}): the sizes differ`);
  let o = 0;
  let i = 0;
  while (o < outDims.length && i < inDims.length) {
    // Grow a group on both sides until the sizes meet.
    const og = [outDims[o++]];
    const ig = [inDims[i++]];
    let po = outShape[og[0]];
    let pi = inShape[ig[0]];
    while (po !== pi) {
      if (po < pi) {
        if (o >= outDims.length) throw mismatch();
        og.push(outDims[o++]);
        po *= outShape[og[og.length - 1]];
      } else {
        if (i >= inDims.length) throw mismatch();
        ig.push(inDims[i++]);
        pi *= inShape[ig[ig.length - 1]];
      }
    }
    const flat = ix.flatten(
      og.map((d) => outIndex[d]),
      og.map((d) => outShape[d]),
    );
    ix.unflatten(flat, ig.map((d) => inShape[d])).forEach((e, k) => (inIndex[ig[k]] = e));
  }
  if (o < outDims.length || i < inDims.length) throw mismatch();
  return inIndex;
}

/** Integer comparison and logic (1 or 0), on index expressions: numbers become int constants. */
export const cmp = {
  lt: (a: Expr, b: Expr | number): Expr => call("lt", a, typeof b === "number" ? int(b) : b),
  le: (a: Expr, b: Expr | number): Expr => call("le", a, typeof b === "number" ? int(b) : b),
  ge: (a: Expr, b: Expr | number): Expr => call("ge", a, typeof b === "number" ? int(b) : b),
  eq: (a: Expr, b: Expr | number): Expr => call("eq", a, typeof b === "number" ? int(b) : b),
  /** The conjunction of conditions; undefined when there are none (always true). */
  all(conds: readonly Expr[]): Expr | undefined {
    return conds.length === 0 ? undefined : conds.reduce((a, b) => call("and", a, b));
  },
};

/**
 * A loaded index value as a position in [0, n): truncated toward zero (as MXNet reads float
 * indices), then clipped to the ends or wrapped around. 'raise' cannot raise inside a kernel:
 * the reference executor reports out-of-range indices, and the kernel clips, so that it never
 * reads out of bounds.
 */
export function indexFromValue(value: Expr, n: number, mode: "clip" | "wrap" | "raise"): Expr {
  const j = cast("int64", value);
  if (n === 1) return int(0);
  if (mode === "wrap") {
    // ((j mod n) + n) mod n is right whether the target's mod is floor-style or C's truncating %.
    return call("imod", call("add", call("imod", j, int(n)), int(n)), int(n));
  }
  return call("max", call("min", j, int(n - 1)), int(0));
}

/** The strided box an element of a slice comes from: begin + i·step per dim. */
export function boxIndex(outIndex: readonly Expr[], begin: readonly number[], step: readonly number[]): Expr[] {
  return outIndex.map((i, d) => ix.add(begin[d], ix.mul(i, step[d])));
}

/**
 * The adjoint of `boxIndex` as a guarded map: for a position `index` of the full array, the
 * condition that it lies on the box's grid (undefined: always) and the box index it has there.
 * `boxShape` is the slice's output shape, `shape` the full array's.
 */
export function onBox(
  index: readonly Expr[],
  begin: readonly number[],
  step: readonly number[],
  boxShape: Shape,
  shape: Shape,
): { cond: Expr | undefined; at: Expr[] } {
  const conds: Expr[] = [];
  const at = index.map((i, d) => {
    const s = Math.abs(step[d]);
    // Distance from begin in the walking direction: non-negative on the box.
    const t = step[d] > 0 ? ix.sub(i, begin[d]) : ix.sub(begin[d], i);
    const tMin = step[d] > 0 ? -begin[d] : begin[d] - (shape[d] - 1);
    const tMax = step[d] > 0 ? shape[d] - 1 - begin[d] : begin[d];
    if (tMin < 0) conds.push(cmp.ge(t, 0));
    if (tMax > (boxShape[d] - 1) * s) conds.push(cmp.le(t, (boxShape[d] - 1) * s));
    // The guard keeps t non-negative where the modulo and division matter.
    if (s > 1) conds.push(cmp.eq(ix.mod(t, s), 0));
    return ix.div(t, s);
  });
  return { cond: cmp.all(conds), at };
}
