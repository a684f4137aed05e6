/** Index-driven selection: one_hot and where. */
import { defineOp, singleOutput } from "../registry.js";
import { P } from "../params.js";
import { Tensor } from "../tensor.js";
import { sameShape } from "../rules.js";
import { ShapeError } from "../../base/errors.js";
import { show, toIndex } from "../shape/util.js";
import { cmp } from "../shape/index_expr.js";
import { E, cast, num, select } from "../../te/expr.js";

export const oneHot = defineOp({
  name: "one_hot",
  doc: "One-hot rows: out[..., j] = on_value where j equals the (truncated) index, else off_value; out-of-range indices give all off_value.",
  params: {
    depth: P.int.required("Length of each one-hot row."),
    on_value: P.float(1, "Value at the index."),
    off_value: P.float(0, "Value elsewhere."),
    dtype: P.dtype("float32", "Type of the output."),
  },
  inputs: ["indices"],
  ...singleOutput,
  pattern: "injective",
  inferShape: (ctx, p) => {
    if (p.depth < 1) throw new ShapeError(`one_hot needs depth >= 1, got ${p.depth}`);
    const d = ctx.in(0);
    const o = ctx.out(0);
    if (d) ctx.setOut(0, [...d, p.depth]);
    else if (o) ctx.setOut(0, [...o.slice(0, -1), p.depth]);
    const out = ctx.out(0);
    if (out) ctx.setIn(0, out.slice(0, -1));
  },
  inferType: (ctx, p) => ctx.setOut(0, p.dtype),
  gradient: () => [null],
  // An out-of-range index equals no position of the row, so it gives all off_value.
  compute: (ctx, p) => {
    const i = ctx.index();
    const hit = cmp.eq(cast("int64", ctx.inputs[0].at(i.slice(0, -1))), i[i.length - 1]);
    return [{ kind: "map", value: select(hit, num(p.on_value), num(p.off_value)) }];
  },
  forward: (p, [idx]) => {
    const out = Tensor.full([...idx.shape, p.depth], p.off_value);
    for (let i = 0; i < idx.size; i++) {
      const j = toIndex(idx.data[i]);
      if (j >= 0 && j < p.depth) out.data[i * p.depth + j] = p.on_value;
    }
    return [out];
  },
});

export const where = defineOp({
  name: "where",
  doc: "x where condition is non-zero, else y; condition has x's shape or is 1-D over x's first axis (whole rows).",
  params: {},
  inputs: ["condition", "x", "y"],
  ...singleOutput,
  pattern: "broadcast",
  inferShape: (ctx) => {
    sameShape(ctx, [1, 2], [0]);
    const c = ctx.in(0);
    const t = ctx.in(1);
    if (!c || !t) return;
    if (c.length === t.length) sameShape(ctx, [0, 1, 2], [0]);
    else if (c.length === 1) {
      if (c[0] > 0 && t[0] > 0 && c[0] !== t[0])
        throw new ShapeError(`a 1-D condition ${show(c)} must have the size of x's first dim, x is ${show(t)}`);
      ctx.setIn(0, [t[0]]);
      const n = ctx.in(0)![0];
      ctx.setIn(1, t.map((d, i) => (i === 0 ? n : d)));
      sameShape(ctx, [1, 2], [0]);
    } else throw new ShapeError(`condition ${show(c)} must have the shape of x ${show(t)} or be 1-D of size x.shape[0]`);
  },
  inferType: (ctx) => ctx.sameType([1, 2], [0]),
  gradient: (g) => {
    const og = g.ograd();
    const zero = g.op1("zeros_like", [og]);
    const c = g.input(0);
    return [null, g.op1("where", [c, og, zero]), g.op1("where", [c, zero, og])];
  },
  compute: (ctx) => {
    const [c, x, y] = ctx.inputs;
    const i = ctx.index();
    // A 1-D condition over x's first axis selects whole rows.
    const cond = c.at(c.shape.length === x.shape.length ? i : [i[0]]);
    return [{ kind: "map", value: select(E.ne(cond, 0), x.at(i), y.at(i)) }];
  },
  forward: (_p, [c, x, y]) => {
    const row = c.size === x.size ? 1 : x.size / x.shape[0];
    return [x.map((v, i) => (c.data[Math.floor(i / row)] !== 0 ? v : y.data[i]))];
  },
});
