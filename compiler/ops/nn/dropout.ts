/**
 * Dropout and its internal gradient op.
 *
 * As in MXNet, the hidden `mask` output is stored already scaled: 1/(1−p) where an element
 * is kept and 0 where it is dropped, so out = data·mask and the gradient is ograd·mask.
 * With `axes`, the mask has size 1 along those axes and is broadcast (variational dropout).
 * Outside training (and with mode 'training') the op is the identity and the mask is ones.
 * Pattern: opaque (it draws random numbers and has a hidden output).
 *
 * For code generation Dropout decomposes: where it does not drop (inference under mode
 * 'training', or p = 0) into a copy and a mask of ones; where it drops, into a mask from
 * `_random_uniform` (Philox, seeded by the executor) and a broadcast multiply.
 */
import { defineOp } from "../registry.js";
import { P, ParamValues } from "../params.js";
import { Tensor, broadcastTo } from "../tensor.js";
import { ParamError, ShapeError } from "../../base/errors.js";
import { Shape, shapeToBracket } from "../../base/shape.js";
import { sameShape } from "../rules.js";
import { E, int } from "../../te/expr.js";
import { randomStream } from "../random.js";

const dropoutParams = {
  p: P.float(0.5, "Fraction of the input that gets dropped out during training."),
  mode: P.enum(["always", "training"] as const, "training", "Whether to drop only in training or always."),
  axes: P.tuple([], "Axes along which one mask value is shared."),
  cudnn_off: P.bool.optional("Turn off cuDNN (ignored by Kiln); MXNet's default is False."),
};
type DropoutParams = ParamValues<typeof dropoutParams>;

function maskShape(p: DropoutParams, data: Shape): number[] {
  const m = [...data];
  for (const a of p.axes) {
    const ax = a < 0 ? a + data.length : a;
    if (ax < 0 || ax >= data.length) throw new ShapeError(`axes ${JSON.stringify(p.axes)} out of range for data ${shapeToBracket(data)}`);
    m[ax] = 1;
  }
  return m;
}

function checkP(p: DropoutParams): void {
  if (!(p.p >= 0 && p.p <= 1)) throw new ParamError(`p must be in [0, 1], got ${p.p}`);
}

export const Dropout = defineOp({
  name: "Dropout",
  doc: "Training: out = data·mask with mask ∈ {0, 1/(1−p)}, kept with probability 1−p; inference: identity (unless mode='always').",
  params: dropoutParams,
  inputs: ["data"],
  outputNames: () => ["output", "mask"],
  numVisibleOutputs: () => 1,
  pattern: "opaque",
  inferShape: (ctx, p) => {
    checkP(p);
    sameShape(ctx, [0], [0]);
    const d = ctx.in(0);
    if (d !== undefined) ctx.setOut(1, maskShape(p, d));
  },
  gradient: (g) => [g.op1("_backward_Dropout", [g.ograd(), g.output(1)], g.params)],
  decompose: (d, p) => {
    checkP(p);
    const drops = p.p !== 0 && (p.mode === "always" || d.isTrain);
    const mshape = maskShape(p, d.inputShape(0));
    if (!drops) return [d.op1("_copy", [d.input(0)]), d.op1("_ones", [], { shape: mshape, dtype: d.inputType(0) })];
    // mask = [u < 1−p]/(1−p) with u from Philox (compiler/ops/random.ts), one stream per node.
    const keep = 1 - p.p;
    const u = d.op1("_random_uniform", [d.randomSeed()], { shape: mshape, stream: randomStream(d.node.name), dtype: d.inputType(0) });
    const kept = d.op1("_lesser_scalar", [u], { scalar: keep });
    const mask = keep > 0 ? d.op1("_mul_scalar", [kept], { scalar: 1 / keep }) : d.op1("_mul_scalar", [kept], { scalar: 0 });
    return [d.op1("broadcast_mul", [d.input(0), mask]), mask];
  },
  forward: (p, [x], ctx) => {
    checkP(p);
    const mshape = maskShape(p, x.shape);
    const active = p.mode === "always" || ctx.isTrain;
    if (!active || p.p === 0) return [x.clone(), Tensor.full(mshape, 1)];
    const keep = 1 - p.p;
    const mask = Tensor.zeros(mshape);
    for (let i = 0; i < mask.size; i++) mask.data[i] = ctx.random() < keep ? 1 / keep : 0;
    const full = broadcastTo(mask, x.shape);
    return [x.map((v, i) => v * full.data[i]), mask];
  },
});

export const backwardDropout = defineOp({
  name: "_backward_Dropout",
  doc: "Gradient of Dropout: ograd · mask (the mask already holds 1/(1−p) for kept elements).",
  params: dropoutParams,
  inputs: ["ograd", "mask"],
  outputNames: () => ["output"],
  numVisibleOutputs: () => 1,
  pattern: "broadcast",
  inferShape: (ctx) => ctx.setOut(0, ctx.in(0)),
  // ograd · mask, the mask broadcast along its size-1 (shared) axes.
  compute: (ctx) => {
    const [og, mask] = ctx.inputs;
    const i = ctx.index();
    return [{ kind: "map", value: E.mul(og.at(i), mask.at(i.map((x, d) => (mask.shape[d] === 1 ? int(0) : x)))) }];
  },
  forward: (_p, [og, mask]) => {
    const full = broadcastTo(mask, og.shape);
    return [og.map((v, i) => v * full.data[i])];
  },
});
