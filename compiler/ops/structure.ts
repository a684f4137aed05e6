/** Structural ops: identity-like nodes, constants, casts, sums, and the loss helpers. */
import { defineOp, singleOutput } from "./registry.js";
import { P } from "./params.js";
import { Tensor } from "./tensor.js";
import { sameShape } from "./rules.js";
import { E, num, cast } from "../te/expr.js";
import type { ComputeCtx, StageBody } from "../te/stage.js";

/** out = in at the same index (identity-like ops). */
const copyCompute = (ctx: ComputeCtx): StageBody[] => [{ kind: "map", value: ctx.inputs[0].at(ctx.index()) }];
/** out = a constant. */
const constCompute = (value: number) => (): StageBody[] => [{ kind: "map", value: num(value) }];

const identityForward = (_p: unknown, [x]: Tensor[]): Tensor[] => [x.clone()];

export const BlockGrad = defineOp({
  name: "BlockGrad",
  aliases: ["stop_gradient"],
  doc: "Identity forward; stops the gradient (zero) flowing back to its input.",
  params: {},
  inputs: ["data"],
  ...singleOutput,
  pattern: "elemwise",
  inferShape: (ctx) => sameShape(ctx),
  gradient: () => [null],
  compute: copyCompute,
  forward: identityForward,
});

export const identity = defineOp({
  name: "_copy",
  aliases: ["identity"],
  doc: "Identity: copies its input.",
  params: {},
  inputs: ["data"],
  ...singleOutput,
  pattern: "elemwise",
  inferShape: (ctx) => sameShape(ctx),
  gradient: (g) => [g.ograd()],
  compute: copyCompute,
  forward: identityForward,
});

const normalization = P.enum(["null", "batch", "valid"] as const, "null", "How the gradient is divided: not at all, by batch size, or by the count of valid elements.");

export const MakeLoss = defineOp({
  name: "MakeLoss",
  aliases: ["make_loss"],
  doc: "Marks its input as a loss: identity forward, gradient grad_scale (normalized) regardless of the head gradient.",
  params: {
    grad_scale: P.float(1),
    valid_thresh: P.float(0, "With normalization 'valid', elements above this count as valid."),
    normalization,
  },
  inputs: ["data"],
  ...singleOutput,
  isLoss: true,
  pattern: "elemwise",
  inferShape: (ctx) => sameShape(ctx),
  gradient: (g) => [g.op1("_backward_MakeLoss", [g.input(0)], g.params)],
  compute: copyCompute,
  forward: identityForward,
});

export const backwardMakeLoss = defineOp({
  name: "_backward_MakeLoss",
  params: MakeLoss.params,
  inputs: ["data"],
  ...singleOutput,
  pattern: "elemwise",
  inferShape: (ctx) => sameShape(ctx),
  compute: (ctx, p) => [{ kind: "map", value: num(p.normalization === "batch" ? p.grad_scale / ctx.inputs[0].shape[0] : p.grad_scale) }],
  // 'valid' needs a count of the elements above valid_thresh: a reduction, then a broadcast.
  decompose: (d, p) => {
    if (p.normalization !== "valid") return undefined;
    const x = d.input(0);
    const count = d.op1("sum", [d.op1("_greater_scalar", [x], { scalar: p.valid_thresh })]);
    const scale = d.op1("_rdiv_scalar", [d.op1("_maximum_scalar", [count], { scalar: 1 })], { scalar: p.grad_scale });
    return [d.op1("broadcast_like", [d.op1("Reshape", [scale], { shape: d.inputShape(0).map(() => 1) }), x])];
  },
  forward: (p, [x]) => {
    let scale = p.grad_scale;
    if (p.normalization === "batch") scale /= x.shape[0];
    else if (p.normalization === "valid") {
      let valid = 0;
      for (const v of x.data) if (v > p.valid_thresh) valid++;
      scale /= Math.max(valid, 1);
    }
    return [Tensor.full(x.shape, scale)];
  },
});

export const zerosLike = defineOp({
  name: "zeros_like",
  doc: "Zeros of the input's shape and type.",
  params: {},
  inputs: ["data"],
  ...singleOutput,
  pattern: "elemwise",
  inferShape: (ctx) => sameShape(ctx),
  gradient: () => [null],
  compute: constCompute(0),
  forward: (_p, [x]) => [Tensor.zeros(x.shape)],
});

export const onesLike = defineOp({
  name: "ones_like",
  doc: "Ones of the input's shape and type.",
  params: {},
  inputs: ["data"],
  ...singleOutput,
  pattern: "elemwise",
  inferShape: (ctx) => sameShape(ctx),
  gradient: () => [null],
  compute: constCompute(1),
  forward: (_p, [x]) => [Tensor.full(x.shape, 1)],
});

const constantParams = {
  shape: P.tuple([], "Output shape; 0 marks a dim inferred from the consumers."),
  dtype: P.dtype("float32"),
  ctx: P.str(""),
};

function constantOp<const N extends string, const A extends string>(name: N, value: number, aliases: A[]) {
  return defineOp({
    name,
    aliases,
    doc: `A constant array of ${value}s.`,
    params: constantParams,
    inputs: [],
    ...singleOutput,
    pattern: "elemwise",
    inferShape: (ctx, p) => {
      // A shape of zeros means "unknown" to MXNet: leave it to the consumers.
      if (p.shape.length > 0) ctx.setOut(0, p.shape);
    },
    inferType: (ctx, p) => ctx.setOut(0, p.dtype),
    gradient: () => [],
    compute: constCompute(value),
    forward: (_p, _in, ctx) => [Tensor.full(ctx.outputShape(0), value)],
  });
}

export const zeros = constantOp("_zeros", 0, ["zeros"]);
export const ones = constantOp("_ones", 1, ["ones"]);

export const Cast = defineOp({
  name: "Cast",
  aliases: ["cast"],
  doc: "Converts to another dtype (float → int truncates toward zero).",
  params: { dtype: P.dtype.required() },
  inputs: ["data"],
  ...singleOutput,
  pattern: "elemwise",
  inferShape: (ctx) => sameShape(ctx),
  inferType: (ctx, p) => ctx.setOut(0, p.dtype),
  gradient: (g) => [g.op1("_backward_Cast", [g.ograd(), g.input(0)])],
  compute: (ctx, p) => [{ kind: "map", value: cast(p.dtype, ctx.inputs[0].at(ctx.index())) }],
  forward: (p, [x]) => [p.dtype.startsWith("float") ? x.clone() : castToInt(x, p.dtype)],
});

function castToInt(x: Tensor, dtype: string): Tensor {
  const bits: Record<string, [number, number]> = { uint8: [0, 256], int8: [-128, 256], int32: [-(2 ** 31), 2 ** 32], int64: [-(2 ** 63), 2 ** 64] };
  const [lo, span] = bits[dtype];
  return x.map((v) => {
    const t = Math.trunc(v);
    // In range: exact (the wrap arithmetic below loses low bits near 2^63 in float64).
    if (t >= lo && t < lo + span) return t;
    return ((((t - lo) % span) + span) % span) + lo;
  });
}

export const backwardCast = defineOp({
  name: "_backward_Cast",
  doc: "The gradient of Cast: the head gradient, cast back to the input's type.",
  params: {},
  inputs: ["ograd", "data"],
  ...singleOutput,
  pattern: "elemwise",
  inferShape: (ctx) => sameShape(ctx),
  inferType: (ctx) => ctx.setOut(0, ctx.in(1)),
  compute: (ctx) => [{ kind: "map", value: cast(ctx.outputs[0].dtype, ctx.inputs[0].at(ctx.index())) }],
  forward: (_p, [og]) => [og.clone()],
});

export const addN = defineOp({
  name: "add_n",
  aliases: ["ElementWiseSum"],
  doc: "Sums any number of arrays of one shape.",
  params: { num_args: P.int.required() },
  inputs: [],
  variadic: { countParam: "num_args" },
  ...singleOutput,
  pattern: "elemwise",
  inferShape: (ctx) => sameShape(ctx),
  gradient: (g) => g.node.inputs.map(() => g.ograd()),
  compute: (ctx) => {
    const i = ctx.index();
    return [{ kind: "map", value: ctx.inputs.map((t) => t.at(i)).reduce((a, b) => E.add(a, b)) }];
  },
  forward: (_p, xs) => {
    const out = xs[0].clone();
    for (const x of xs.slice(1)) for (let i = 0; i < out.size; i++) out.data[i] += x.data[i];
    return [out];
  },
});
