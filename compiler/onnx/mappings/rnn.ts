/**
 * LSTM, GRU and RNN, unrolled over the (static) sequence: the input projection for all time
 * steps is one FullyConnected, each step adds the recurrent FullyConnected and applies the
 * gate activations. ONNX's gate orders are kept as they are in the weights (LSTM i,o,f,c —
 * MXNet's fused RNN uses i,f,c,o; GRU z,r,h), since the mapping slices the gates itself.
 * Peepholes, clip, input_forget, linear_before_reset, reverse and bidirectional directions
 * and layout 1 are supported; per-batch sequence_lens shorter than the sequence are not.
 */
import { Symbol } from "../../symbol/symbol.js";
import type { NodeCtx } from "../node_ctx.js";
import { defineMappings, Mapper } from "./registry.js";
import { reshape } from "./util.js";

type Act = (x: Symbol) => Symbol;

function activation(n: NodeCtx, name: string, alpha: number | undefined, beta: number | undefined): Act {
  const s = (x: Symbol, k: number): Symbol => n.op("_mul_scalar", { data: x, scalar: k });
  switch (name.toLowerCase()) {
    case "sigmoid":
      return (x) => n.op("sigmoid", { data: x });
    case "tanh":
      return (x) => n.op("tanh", { data: x });
    case "relu":
      return (x) => n.op("relu", { data: x });
    case "softsign":
      return (x) => n.op("softsign", { data: x });
    case "softplus":
      return (x) => n.op("Activation", { data: x, act_type: "softrelu" });
    case "hardsigmoid":
      return (x) => n.op("hard_sigmoid", { data: x, alpha: alpha ?? 0.2, beta: beta ?? 0.5 });
    case "leakyrelu":
      return (x) => n.op("LeakyReLU", { data: x, act_type: "leaky", slope: alpha ?? 0.01 });
    case "elu":
      return (x) => n.op("LeakyReLU", { data: x, act_type: "elu", slope: alpha ?? 1 });
    case "thresholdedrelu":
      return (x) => n.op("broadcast_mul", { lhs: x, rhs: n.op("_greater_scalar", { data: x, scalar: alpha ?? 1 }) });
    case "scaledtanh":
      return (x) => s(n.op("tanh", { data: s(x, beta ?? 1) }), alpha ?? 1);
    case "affine":
      return (x) => n.op("_plus_scalar", { data: s(x, alpha ?? 1), scalar: beta ?? 0 });
  }
  return n.unsupported(`activation ${name}`);
}

interface RnnSetup {
  seq: number;
  batch: number;
  hidden: number;
  dirs: number;
  layout: number;
  /** The input as (seq, batch, input). */
  x: Symbol;
  /** Activations per direction: `perDir` functions each. */
  acts: Act[][];
  clip: number | undefined;
}

function setup(n: NodeCtx, perDir: number, defaults: string[]): RnnSetup {
  const layout = n.int("layout", 0);
  const xs = n.fullShape(0);
  const [seq, batch] = layout === 0 ? [xs[0], xs[1]] : [xs[1], xs[0]];
  const direction = n.str("direction", "forward");
  if (!["forward", "reverse", "bidirectional"].includes(direction)) n.fail(`unknown direction ${direction}`);
  const dirs = direction === "bidirectional" ? 2 : 1;
  const hidden = n.int("hidden_size") ?? n.fullShape(2)[2];
  if (n.has(4)) {
    const lens = n.constInts(4, "sequence_lens");
    if (lens.some((l) => l !== seq)) n.unsupported("sequence_lens shorter than the sequence");
  }
  const names = n.strings("activations") ?? [...defaults, ...(dirs === 2 ? defaults : [])];
  const alphas = n.floats("activation_alpha") ?? [];
  const betas = n.floats("activation_beta") ?? [];
  if (names.length !== perDir * dirs) n.fail(`${names.length} activations for ${dirs} direction(s) of ${perDir}`);
  const acts = Array.from({ length: dirs }, (_, d) => names.slice(d * perDir, (d + 1) * perDir).map((a, k) => activation(n, a, alphas[d * perDir + k], betas[d * perDir + k])));
  let x = n.in(0);
  if (layout !== 0) x = n.op("transpose", { data: x, axes: [1, 0, 2] });
  const clip = n.float("clip");
  return { seq, batch, hidden, dirs, layout, x, acts, clip };
}

/** Row `d` of a (dirs, …) input, without its leading dim. */
function dirSlice(n: NodeCtx, i: number, d: number): Symbol {
  const s = n.fullShape(i);
  return reshape(n, n.op("slice_axis", { data: n.in(i), axis: 0, begin: d, end: d + 1 }), s.slice(1));
}

const part = (n: NodeCtx, x: Symbol, k: number, h: number, axis = 1): Symbol => n.op("slice_axis", { data: x, axis, begin: k * h, end: (k + 1) * h });
const add = (n: NodeCtx, a: Symbol, b: Symbol): Symbol => n.op("elemwise_add", { lhs: a, rhs: b });
const mul = (n: NodeCtx, a: Symbol, b: Symbol): Symbol => n.op("elemwise_mul", { lhs: a, rhs: b });
const fc = (n: NodeCtx, data: Symbol, weight: Symbol, bias: Symbol | undefined, hidden: number): Symbol =>
  n.op("FullyConnected", { data, weight, bias, num_hidden: hidden, no_bias: bias === undefined, flatten: false });

/** The input projection of every step, (seq, batch, gates·hidden), with both biases added. */
function inputProjection(n: NodeCtx, s: RnnSetup, d: number, gates: number, biasUpTo: number): Symbol[] {
  const G = gates * s.hidden;
  let bias: Symbol | undefined;
  if (n.has(3)) {
    const b = dirSlice(n, 3, d);
    const wb = n.op("slice_axis", { data: b, axis: 0, begin: 0, end: G });
    const rb = n.op("slice_axis", { data: b, axis: 0, begin: G, end: G + biasUpTo * s.hidden });
    // Rb of the gates the step adds itself (GRU's h with linear_before_reset) stays out.
    bias = biasUpTo === gates ? add(n, wb, rb) : add(n, wb, n.op("Concat", { data: [rb, n.op("_zeros", { shape: [(gates - biasUpTo) * s.hidden], dtype: n.dtype(0) })], dim: 0 }));
  }
  const xs = n.symFullShape(s.x);
  const flat = reshape(n, s.x, [s.seq * s.batch, xs[2]]);
  const proj = reshape(n, fc(n, flat, dirSlice(n, 1, d), bias, G), [s.seq, s.batch, G]);
  return Array.from({ length: s.seq }, (_, t) => reshape(n, n.op("slice_axis", { data: proj, axis: 0, begin: t, end: t + 1 }), [s.batch, G]));
}

function initial(n: NodeCtx, s: RnnSetup, i: number, d: number): Symbol {
  if (n.has(i)) return dirSlice(n, i, d);
  return n.op("_zeros", { shape: [s.batch, s.hidden], dtype: n.dtype(0) });
}

function clipped(n: NodeCtx, s: RnnSetup, x: Symbol): Symbol {
  return s.clip === undefined ? x : n.op("clip", { data: x, a_min: -s.clip, a_max: s.clip });
}

/** Runs `step` over time for each direction and assembles Y (seq, dirs, batch, H) and the last states. */
function unroll(n: NodeCtx, s: RnnSetup, states: number, step: (d: number, t: number, prev: Symbol[]) => Symbol[], init: (d: number) => Symbol[]): Symbol[] {
  const direction = n.str("direction", "forward");
  const ys: Symbol[][] = [];
  const last: Symbol[][] = [];
  for (let d = 0; d < s.dirs; d++) {
    const reverse = direction === "reverse" || d === 1;
    let st = init(d);
    const hs: Symbol[] = new Array<Symbol>(s.seq);
    for (let k = 0; k < s.seq; k++) {
      const t = reverse ? s.seq - 1 - k : k;
      st = step(d, t, st);
      hs[t] = st[0];
    }
    ys.push(hs);
    last.push(st);
  }
  const H = s.hidden;
  const perStep = Array.from({ length: s.seq }, (_, t) => reshape(n, s.dirs === 1 ? ys[0][t] : n.op("Concat", { data: ys.map((h) => h[t]), dim: 0 }), [1, s.dirs, s.batch, H]));
  let y = s.seq === 1 ? perStep[0] : n.op("Concat", { data: perStep, dim: 0 });
  if (s.layout !== 0) y = n.op("transpose", { data: y, axes: [2, 0, 1, 3] });
  const outs = [y];
  for (let k = 0; k < states; k++) {
    const parts = last.map((st) => reshape(n, st[k], [1, s.batch, H]));
    let z = parts.length === 1 ? parts[0] : n.op("Concat", { data: parts, dim: 0 });
    if (s.layout !== 0) z = n.op("transpose", { data: z, axes: [1, 0, 2] });
    outs.push(z);
  }
  return outs;
}

const lstm: Mapper = (n) => {
  const s = setup(n, 3, ["Sigmoid", "Tanh", "Tanh"]);
  const H = s.hidden;
  const inputForget = n.int("input_forget", 0) !== 0;
  const proj = Array.from({ length: s.dirs }, (_, d) => inputProjection(n, s, d, 4, 4));
  const rec = Array.from({ length: s.dirs }, (_, d) => dirSlice(n, 2, d));
  const peep = Array.from({ length: s.dirs }, (_, d) => (n.has(7) ? dirSlice(n, 7, d) : undefined));
  const pv = (d: number, k: number): Symbol => reshape(n, part(n, peep[d]!, k, H, 0), [1, H]);
  const bmul = (a: Symbol, b: Symbol): Symbol => n.op("broadcast_mul", { lhs: a, rhs: b });
  const outs = unroll(
    n,
    s,
    2,
    (d, t, [h, c]) => {
      const [f, g, act] = s.acts[d];
      const gates = add(n, proj[d][t], fc(n, h, rec[d], undefined, 4 * H));
      // ONNX gate order in W, R and B: input, output, forget, cell.
      let i = part(n, gates, 0, H);
      let o = part(n, gates, 1, H);
      let fg = part(n, gates, 2, H);
      const cc = part(n, gates, 3, H);
      if (peep[d]) {
        i = n.op("broadcast_add", { lhs: i, rhs: bmul(c, pv(d, 0)) });
        fg = n.op("broadcast_add", { lhs: fg, rhs: bmul(c, pv(d, 2)) });
      }
      const it = f(clipped(n, s, i));
      const ft = inputForget ? n.op("_rminus_scalar", { data: it, scalar: 1 }) : f(clipped(n, s, fg));
      const ct = g(clipped(n, s, cc));
      const cNew = add(n, mul(n, ft, c), mul(n, it, ct));
      if (peep[d]) o = n.op("broadcast_add", { lhs: o, rhs: bmul(cNew, pv(d, 1)) });
      const ot = f(clipped(n, s, o));
      return [mul(n, ot, act(cNew)), cNew];
    },
    (d) => [initial(n, s, 5, d), initial(n, s, 6, d)],
  );
  return outs;
};

const gru: Mapper = (n) => {
  const s = setup(n, 2, ["Sigmoid", "Tanh"]);
  const H = s.hidden;
  const lbr = n.int("linear_before_reset", 0) !== 0;
  const proj = Array.from({ length: s.dirs }, (_, d) => inputProjection(n, s, d, 3, lbr ? 2 : 3));
  const rec = Array.from({ length: s.dirs }, (_, d) => dirSlice(n, 2, d));
  const rbH = Array.from({ length: s.dirs }, (_, d) => (lbr && n.has(3) ? part(n, dirSlice(n, 3, d), 5, H, 0) : undefined));
  return unroll(
    n,
    s,
    1,
    (d, t, [h]) => {
      const [f, g] = s.acts[d];
      const x = proj[d][t];
      const rzr = part(n, rec[d], 0, 2 * H, 0);
      const rh = part(n, rec[d], 2, H, 0);
      const hzr = fc(n, h, rzr, undefined, 2 * H);
      // ONNX gate order: update (z), reset (r), hidden (h).
      const z = f(clipped(n, s, add(n, part(n, x, 0, H), part(n, hzr, 0, H))));
      const r = f(clipped(n, s, add(n, part(n, x, 1, H), part(n, hzr, 1, H))));
      const recH = lbr ? mul(n, r, fc(n, h, rh, rbH[d], H)) : fc(n, mul(n, r, h), rh, undefined, H);
      const ht = g(clipped(n, s, add(n, part(n, x, 2, H), recH)));
      // (1 - z) ⊙ ĥ + z ⊙ h = ĥ + z ⊙ (h − ĥ)
      return [add(n, ht, mul(n, z, n.op("elemwise_sub", { lhs: h, rhs: ht })))];
    },
    (d) => [initial(n, s, 5, d)],
  );
};

const rnn: Mapper = (n) => {
  const s = setup(n, 1, ["Tanh"]);
  const proj = Array.from({ length: s.dirs }, (_, d) => inputProjection(n, s, d, 1, 1));
  const rec = Array.from({ length: s.dirs }, (_, d) => dirSlice(n, 2, d));
  return unroll(
    n,
    s,
    1,
    (d, t, [h]) => [s.acts[d][0](clipped(n, s, add(n, proj[d][t], fc(n, h, rec[d], undefined, s.hidden))))],
    (d) => [initial(n, s, 5, d)],
  );
};

defineMappings({ LSTM: lstm, GRU: gru, RNN: rnn });
