/**
 * `_length_mask`: keeps the data at positions along `axis` below their row's length and puts
 * `value` elsewhere. It is what softmax/log_softmax with use_length decompose into around their
 * reductions (−∞ before the max, 0 before the sum and on the result); the length of a row is
 * truncated toward zero exactly as the softmax rows read it, so lengths beyond the axis keep
 * everything and negative or NaN lengths keep nothing. Internal: no gradient (it only appears
 * in graphs rewritten after differentiation).
 */
import { defineOp, singleOutput } from "../registry.js";
import { P } from "../params.js";
import { ShapeError } from "../../base/errors.js";
import { shapeToBracket } from "../../base/shape.js";
import { E, Expr, int } from "../../te/expr.js";
import { axisOf, splitAtAxis } from "./common.js";

/** The length input's shape for data `d`: the data without `axis`, or (1,) for 1-D data. */
export function lengthShape(d: readonly number[], axis: number): number[] {
  return d.length === 1 ? [1] : d.filter((_, i) => i !== axis);
}

export const lengthMask = defineOp({
  name: "_length_mask",
  doc: "data where the position along `axis` is below trunc(length) of its row, else `value` (softmax's use_length masking).",
  params: {
    axis: P.int(-1, "The axis the lengths run along."),
    value: P.float(0, "The value of masked positions."),
  },
  inputs: ["data", "length"],
  ...singleOutput,
  pattern: "broadcast",
  inferShape: (ctx, p) => {
    const d = ctx.in(0) ?? ctx.out(0);
    if (d === undefined) return;
    ctx.setIn(0, d);
    ctx.setOut(0, d);
    ctx.setIn(1, lengthShape(d, axisOf(p.axis, d, "_length_mask")));
  },
  // The length may have any type; the output has the data's.
  inferType: (ctx) => {
    const t = ctx.in(0) ?? ctx.out(0);
    ctx.setIn(0, t);
    ctx.setOut(0, t);
  },
  compute: (ctx, p) => {
    const [x, length] = ctx.inputs;
    const i = ctx.index();
    const axis = axisOf(p.axis, x.shape, "_length_mask");
    const at: Expr[] = x.shape.length === 1 ? [int(0)] : i.filter((_, d) => d !== axis);
    const keep = E.lt(i[axis], E.fn("trunc", length.at(at)));
    return [{ kind: "map", value: E.select(keep, x.at(i), p.value) }];
  },
  forward: (p, [x, length]) => {
    const axis = axisOf(p.axis, x.shape, "_length_mask");
    const [outer, n, inner] = splitAtAxis(x.shape, axis);
    if (length.size !== outer * inner) throw new ShapeError(`length ${shapeToBracket(length.shape)} does not fit data ${shapeToBracket(x.shape)} along axis ${p.axis}`);
    const out = x.clone();
    for (let o = 0; o < outer; o++)
      for (let k = 0; k < inner; k++) {
        const len = Math.trunc(length.data[o * inner + k]);
        for (let j = 0; j < n; j++) if (!(j < len)) out.data[(o * n + j) * inner + k] = p.value;
      }
    return [out];
  },
});
