/** norm: L1 or L2 norm over axes (MXNet's NormParam; two axes give the Frobenius norm). */
import { defineOp, singleOutput } from "../registry.js";
import { P } from "../params.js";
import { sameShape } from "../rules.js";
import { ParamError } from "../../base/errors.js";
import { reducedMask, reducedShape, reduceShapeRule, reduceTensor, expandTo } from "./axes.js";
import { reduceBody, resultIndexOf } from "./indexing.js";
import { E, v } from "../../te/expr.js";
import { signFn } from "../unary/special_math.js";

const normParams = {
  ord: P.int(2, "Order of the norm: 1 or 2"),
  axis: P.tuple.optional("The axis or axes to reduce; None reduces all"),
  out_dtype: P.dtype.optional("The data type of the output"),
  keepdims: P.bool(false, "Keep the reduced axes as dims of size one"),
};

function checkOrd(ord: number): void {
  if (ord !== 1 && ord !== 2) throw new ParamError(`norm: ord=${ord} is not supported (only 1 and 2)`);
}

export const norm = defineOp({
  name: "norm",
  doc: "L2 (ord=2, default) or L1 (ord=1) norm over the given axes.",
  params: normParams,
  inputs: ["data"],
  ...singleOutput,
  pattern: "reduce",
  inferShape: (ctx, p) => {
    checkOrd(p.ord);
    reduceShapeRule(ctx, (ndim) => reducedMask(ndim, p.axis, false), p.keepdims);
  },
  inferType: (ctx, p) => {
    if (p.out_dtype === null) ctx.sameType();
    else ctx.setOut(0, p.out_dtype);
  },
  gradient: (g) => [g.op1("_backward_norm", [g.ograd(), g.input(0), g.output(0)], { ord: g.params.ord, axis: g.params.axis, keepdims: g.params.keepdims })],
  compute: (ctx, p) => {
    checkOrd(p.ord);
    const mask = reducedMask(ctx.inputs[0].shape.length, p.axis, false);
    return [
      p.ord === 1
        ? reduceBody(ctx, mask, p.keepdims, "sum", (x) => E.fn("abs", x))
        : reduceBody(ctx, mask, p.keepdims, "sum", (x) => E.mul(x, x), E.fn("sqrt", v("acc"))),
    ];
  },
  forward: (p, [x]) => {
    checkOrd(p.ord);
    const mask = reducedMask(x.ndim, p.axis, false);
    const r = p.ord === 1 ? reduceTensor(x, mask, 0, (a, v) => a + Math.abs(v)) : reduceTensor(x, mask, 0, (a, v) => a + v * v).map(Math.sqrt);
    return [r.reshape(reducedShape(x.shape, mask, p.keepdims))];
  },
});

export const backwardNorm = defineOp({
  name: "_backward_norm",
  doc: "Gradient of norm: ograd·x/norm (ord 2) or ograd·sign(x) (ord 1).",
  params: normParams,
  inputs: ["ograd", "data", "output"],
  ...singleOutput,
  pattern: "broadcast",
  inferShape: (ctx) => sameShape(ctx, [1], [0]),
  inferType: (ctx) => ctx.sameType([1], [0]),
  compute: (ctx, p) => {
    const [og, x, y] = ctx.inputs;
    const mask = reducedMask(x.shape.length, p.axis, false);
    const i = ctx.index();
    const g = og.at(resultIndexOf(i, mask, p.keepdims, og.shape));
    const xi = x.at(i);
    return [{ kind: "map", value: p.ord === 1 ? E.mul(g, signFn.e(xi)) : E.div(E.mul(g, xi), y.at(resultIndexOf(i, mask, p.keepdims, y.shape))) }];
  },
  forward: (p, [og, x, y]) => {
    const mask = reducedMask(x.ndim, p.axis, false);
    const g = expandTo(og, x.shape, mask);
    const n = expandTo(y, x.shape, mask);
    return [x.map((v, i) => (p.ord === 1 ? g[i] * signFn.f(v) : (g[i] * v) / n[i]))];
  },
});
