/**
 * Optimizer update ops (MXNet's src/operator/optimizer_op-inl.h): sgd_update, sgd_mom_update,
 * nag_mom_update, adam_update, rmsprop_update, rmspropalex_update, and adagrad_update (MXNet's
 * AdaGrad on dense arrays: `_sparse_adagrad_update`'s kernel plus the Python optimizer's weight
 * decay). Output 0 is the new weight (MXNet writes it with out=weight); the optimizer states
 * (momentum, Adam's mean/var, …) are mutated inputs, so they are aux states of a symbol, and
 * their new values are hidden outputs that a training forward pass writes back (the BatchNorm
 * mechanism: `writeAux` in decompose, `ctx.writeAux` in the reference).
 *
 * Kiln additions, both off by default so that MXNet JSON reads and writes unchanged:
 * - `dynamic_lr`: two more inputs, 1-element arrays `lr_array` and `rescale_array`, multiply
 *   `lr` and `rescale_grad`. A learning-rate schedule then changes an array, not a compile-time
 *   constant, and the compiled update runs every step without recompiling.
 * - `inplace_weight`: `weight` is mutated too (an aux state) and gets the new weight after a
 *   training forward pass: what a fused optimizer step over the executor's own arrays needs.
 *
 * One formula per op, written once over a small algebra (`Alg`) and instantiated for float64
 * numbers (the reference) and for tensor expressions (compute), so the two cannot drift apart;
 * the op tests check both against steps computed by hand from MXNet's kernels.
 */
import { defineOp } from "./registry.js";
import type { ShapeCtx } from "./registry.js";
import { P, ParamSchema, ParamValues } from "./params.js";
import { Tensor } from "./tensor.js";
import { ShapeError } from "../base/errors.js";
import { shapeToBracket } from "../base/shape.js";
import { E, Expr, int, num } from "../te/expr.js";
import type { ComputeCtx, StageBody } from "../te/stage.js";

/** Arithmetic the update formulas need, over numbers or expressions. */
interface Alg<T> {
  c(x: number): T;
  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  mul(a: T, b: T): T;
  div(a: T, b: T): T;
  sqrt(a: T): T;
  /** MXNet's clip::Map(x, bound): bound if x > bound, −bound if x < −bound, else x. */
  clip(a: T, bound: number): T;
}

const numAlg: Alg<number> = {
  c: (x) => x,
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  sqrt: Math.sqrt,
  clip: (a, b) => (a > b ? b : a < -b ? -b : a),
};

const exprAlg: Alg<Expr> = {
  c: num,
  add: E.add,
  sub: E.sub,
  mul: E.mul,
  div: E.div,
  sqrt: (a) => E.fn("sqrt", a),
  clip: (a, b) => E.select(E.gt(a, b), b, E.select(E.lt(a, -b), -b, a)),
};

/** One element's inputs: weight, gradient, states, and the effective lr and rescale factor. */
interface UpdateIn<T> {
  w: T;
  g: T;
  s: T[];
  lr: T;
  rescale: T;
}

/** The new weight and the new states, in the op's state order. */
interface UpdateOut<T> {
  w: T;
  s: T[];
}

type Rule<V> = <T>(A: Alg<T>, x: UpdateIn<T>, p: V) => UpdateOut<T>;

/** Parameters every update op shares (MXNet's), plus Kiln's two switches. */
const common = {
  lr: P.float.required("Learning rate"),
  wd: P.float(0, "Weight decay: adds wd·weight to the gradient."),
  rescale_grad: P.float(1, "Rescale gradient to grad = rescale_grad*grad."),
  clip_gradient: P.float(-1, "Clip gradient to the range of [-clip_gradient, clip_gradient]. If clip_gradient < 0, gradient clipping is turned off."),
  dynamic_lr: P.bool(false, "Kiln: also take 1-element inputs lr_array and rescale_array, which multiply lr and rescale_grad."),
  inplace_weight: P.bool(false, "Kiln: write the new weight back into `weight` (then an aux state) in a training forward pass."),
};
type Common = ParamValues<typeof common>;

const lazy = { lazy_update: P.bool(true, "Lazy updates for row_sparse gradients (Kiln's arrays are dense: ignored).") };

/** clip(x) when clip_gradient ≥ 0 (MXNet's kernels test `clip_gradient >= 0`), else x. */
function clipGrad<T>(A: Alg<T>, x: T, p: Common): T {
  return p.clip_gradient >= 0 ? A.clip(x, p.clip_gradient) : x;
}

const HYPER_INPUTS = ["lr_array", "rescale_array"] as const;

function updateOp<const N extends string, S extends ParamSchema, const St extends string>(
  name: N,
  doc: string,
  extra: S,
  states: readonly St[],
  rule: Rule<ParamValues<S> & Common>,
) {
  const params = { ...common, ...extra } as typeof common & S;
  type V = ParamValues<typeof params>;
  const base = ["weight", "grad", ...states] as ("weight" | "grad" | St)[];
  const nState = states.length;
  const stateInputs = states.map((_, k) => 2 + k);

  const inferShape = (ctx: ShapeCtx, p: V): void => {
    const arrays = base.map((_, i) => i);
    const s = arrays.map((i) => ctx.in(i)).find((x) => x !== undefined) ?? ctx.out(0);
    if (s === undefined) return;
    for (const i of arrays) ctx.setIn(i, s);
    for (let o = 0; o <= nState; o++) ctx.setOut(o, s);
    if (p.dynamic_lr) for (const i of [base.length, base.length + 1]) ctx.setIn(i, [1]);
  };

  return defineOp({
    name,
    doc,
    params,
    inputs: [...base, ...HYPER_INPUTS],
    activeInputs: (p: V) => (p.dynamic_lr ? [...base, ...HYPER_INPUTS] : base),
    mutableInputs: (p: V) => (p.inplace_weight ? [0, ...stateInputs] : stateInputs),
    outputNames: () => ["output", ...states],
    numVisibleOutputs: () => 1,
    pattern: "broadcast",
    inferShape,
    // The new weight and states as the node's own outputs, written back after the pass.
    decompose: (d, p: V) => {
      if (p.inplace_weight) d.writeAux(0, d.node.entry(0));
      stateInputs.forEach((i, k) => d.writeAux(i, d.node.entry(1 + k)));
      return undefined;
    },
    compute: (ctx: ComputeCtx, pv: V): StageBody[] => {
      const p = pv as unknown as ParamValues<S> & Common;
      const i = ctx.index();
      const scalar = (slot: number): Expr => ctx.inputs[slot].at([int(0)]);
      const n = base.length;
      const x: UpdateIn<Expr> = {
        w: ctx.inputs[0].at(i),
        g: ctx.inputs[1].at(i),
        s: stateInputs.map((slot) => ctx.inputs[slot].at(i)),
        lr: p.dynamic_lr ? E.mul(num(p.lr), scalar(n)) : num(p.lr),
        rescale: p.dynamic_lr ? E.mul(num(p.rescale_grad), scalar(n + 1)) : num(p.rescale_grad),
      };
      const out = rule(exprAlg, x, p);
      return [out.w, ...out.s].map((value) => ({ kind: "map" as const, value }));
    },
    forward: (pv: V, inputs: Tensor[], ctx) => {
      const p = pv as unknown as ParamValues<S> & Common;
      const [w, g] = inputs;
      const n = base.length;
      for (let k = 1; k < n; k++)
        if (inputs[k].size !== w.size)
          throw new ShapeError(`${name}: ${base[k]} has shape ${shapeToBracket(inputs[k].shape)}, weight has ${shapeToBracket(w.shape)}`);
      const lr = p.lr * (p.dynamic_lr ? inputs[n].data[0] : 1);
      const rescale = p.rescale_grad * (p.dynamic_lr ? inputs[n + 1].data[0] : 1);
      const newW = new Tensor(w.shape);
      const newS = states.map(() => new Tensor(w.shape));
      for (let e = 0; e < w.size; e++) {
        const out = rule(numAlg, { w: w.data[e], g: g.data[e], s: stateInputs.map((slot) => inputs[slot].data[e]), lr, rescale }, p);
        newW.data[e] = out.w;
        out.s.forEach((v, k) => (newS[k].data[e] = v));
      }
      if (p.inplace_weight) ctx.writeAux(0, newW);
      stateInputs.forEach((slot, k) => ctx.writeAux(slot, newS[k]));
      return [newW, ...newS];
    },
  });
}

export const sgdUpdate = updateOp(
  "sgd_update",
  "SGD: weight = (1 − lr·wd)·weight − lr·clip(rescale_grad·grad).",
  lazy,
  [],
  (A, { w, g, lr, rescale }, p) => ({
    w: A.sub(A.mul(A.sub(A.c(1), A.mul(lr, A.c(p.wd))), w), A.mul(lr, clipGrad(A, A.mul(rescale, g), p))),
    s: [],
  }),
);

export const sgdMomUpdate = updateOp(
  "sgd_mom_update",
  "SGD with momentum: mom = momentum·mom − lr·wd·weight − lr·clip(rescale_grad·grad); weight += mom.",
  { momentum: P.float(0, "The decay rate of momentum estimates at each epoch."), ...lazy },
  ["mom"],
  (A, { w, g, s: [mom], lr, rescale }, p) => {
    const m = A.sub(A.sub(A.mul(A.c(p.momentum), mom), A.mul(A.mul(lr, A.c(p.wd)), w)), A.mul(lr, clipGrad(A, A.mul(rescale, g), p)));
    return { w: A.add(w, m), s: [m] };
  },
);

export const nagMomUpdate = updateOp(
  "nag_mom_update",
  "Nesterov momentum: m = momentum·mom; d = lr·(clip(rescale_grad·grad) + wd·weight); weight += −m + (momentum+1)·(m − d); mom = m − d.",
  { momentum: P.float(0, "The decay rate of momentum estimates at each epoch.") },
  ["mom"],
  (A, { w, g, s: [mom], lr, rescale }, p) => {
    const m = A.mul(A.c(p.momentum), mom);
    const d = A.mul(lr, A.add(clipGrad(A, A.mul(rescale, g), p), A.mul(A.c(p.wd), w)));
    const next = A.sub(m, d);
    return { w: A.add(A.sub(w, m), A.mul(A.c(p.momentum + 1), next)), s: [next] };
  },
);

export const adamUpdate = updateOp(
  "adam_update",
  "Adam (bias correction is the optimizer's, folded into lr): g = clip(rescale_grad·grad + wd·weight); mean = β1·mean + (1−β1)·g; var = β2·var + (1−β2)·g²; weight −= lr·mean/(√var + ε).",
  {
    beta1: P.float(0.9, "The decay rate for the 1st moment estimates."),
    beta2: P.float(0.999, "The decay rate for the 2nd moment estimates."),
    epsilon: P.float(1e-8, "A small constant for numerical stability."),
    ...lazy,
  },
  ["mean", "var"],
  (A, { w, g, s: [mean, v], lr, rescale }, p) => {
    const gr = clipGrad(A, A.add(A.mul(rescale, g), A.mul(A.c(p.wd), w)), p);
    const m1 = A.add(A.mul(A.c(p.beta1), mean), A.mul(A.c(1 - p.beta1), gr));
    const v1 = A.add(A.mul(A.c(p.beta2), v), A.mul(A.mul(A.c(1 - p.beta2), gr), gr));
    return { w: A.sub(w, A.div(A.mul(lr, m1), A.add(A.sqrt(v1), A.c(p.epsilon)))), s: [m1, v1] };
  },
);

const clipWeights = { clip_weights: P.float(-1, "Clip weights to [-clip_weights, clip_weights]; off when < 0.") };
const clipW = <T>(A: Alg<T>, w: T, p: { clip_weights: number }): T => (p.clip_weights >= 0 ? A.clip(w, p.clip_weights) : w);

export const rmspropUpdate = updateOp(
  "rmsprop_update",
  "RMSProp (Tieleman & Hinton): g = clip(rescale_grad·grad + wd·weight); n = (1−γ1)·g² + γ1·n; weight −= lr·g/√(n + ε).",
  { gamma1: P.float(0.95, "The decay rate of momentum estimates."), epsilon: P.float(1e-8, "A small constant for numerical stability."), ...clipWeights },
  ["n"],
  (A, { w, g, s: [n], lr, rescale }, p) => {
    const gr = clipGrad(A, A.add(A.mul(rescale, g), A.mul(A.c(p.wd), w)), p);
    const n1 = A.add(A.mul(A.mul(A.c(1 - p.gamma1), gr), gr), A.mul(A.c(p.gamma1), n));
    return { w: clipW(A, A.sub(w, A.mul(lr, A.div(gr, A.sqrt(A.add(n1, A.c(p.epsilon)))))), p), s: [n1] };
  },
);

export const rmspropalexUpdate = updateOp(
  "rmspropalex_update",
  "Centered RMSProp (Graves 2013): n = (1−γ1)·g² + γ1·n; g' = (1−γ1)·g + γ1·g'; delta = γ2·delta − lr·g/√(n − g'² + ε); weight += delta.",
  {
    gamma1: P.float(0.95, "Decay rate."),
    gamma2: P.float(0.9, "Decay rate."),
    epsilon: P.float(1e-8, "A small constant for numerical stability."),
    ...clipWeights,
  },
  ["n", "g", "delta"],
  (A, { w, g, s: [n, gAvg, delta], lr, rescale }, p) => {
    const gr = clipGrad(A, A.add(A.mul(rescale, g), A.mul(A.c(p.wd), w)), p);
    const n1 = A.add(A.mul(A.mul(A.c(1 - p.gamma1), gr), gr), A.mul(A.c(p.gamma1), n));
    const g1 = A.add(A.mul(A.c(1 - p.gamma1), gr), A.mul(A.c(p.gamma1), gAvg));
    const d1 = A.sub(A.mul(A.c(p.gamma2), delta), A.div(A.mul(lr, gr), A.sqrt(A.add(A.sub(n1, A.mul(g1, g1)), A.c(p.epsilon)))));
    return { w: clipW(A, A.add(w, d1), p), s: [n1, g1, d1] };
  },
);

export const adagradUpdate = updateOp(
  "adagrad_update",
  "AdaGrad on dense arrays: g = clip(rescale_grad·grad); history += g²; weight −= lr·(g/√(history + ε) + wd·weight).",
  { epsilon: P.float(1e-7, "Added to the history under the square root.") },
  ["history"],
  (A, { w, g, s: [h], lr, rescale }, p) => {
    const gr = clipGrad(A, A.mul(rescale, g), p);
    const h1 = A.add(h, A.mul(gr, gr));
    return { w: A.sub(w, A.mul(lr, A.add(A.div(gr, A.sqrt(A.add(h1, A.c(p.epsilon)))), A.mul(A.c(p.wd), w)))), s: [h1] };
  },
);

/** The update ops by MXNet optimizer state layout, for runtime/training/optimizer.ts. */
export const UPDATE_OPS = {
  sgd_update: { states: [] as string[] },
  sgd_mom_update: { states: ["mom"] },
  nag_mom_update: { states: ["mom"] },
  adam_update: { states: ["mean", "var"] },
  rmsprop_update: { states: ["n"] },
  rmspropalex_update: { states: ["n", "g", "delta"] },
  adagrad_update: { states: ["history"] },
} as const;
