/**
 * Optimizer update ops against one step transcribed from MXNet's kernels
 * (src/operator/optimizer_op-inl.h): the new weight (output 0) and the new states (written
 * back into the mutated inputs in a training forward pass), on the reference executor and,
 * through checkForward, the compiled pipeline; plus Kiln's dynamic_lr / inplace_weight.
 */
import { expect } from "chai";
import { sym, Symbol, reference, cpu } from "../../index.js";
import type { Context } from "../../index.js";
import { checkForward, rng } from "../helpers/op_check.js";
import * as optimizerOps from "../../compiler/ops/optimizer.js";
import { requireComputes } from "./compute_coverage.test.js";

requireComputes(optimizerOps);

type P = Record<string, number>;
const clip = (x: number, b: number): number => (x > b ? b : x < -b ? -b : x);

/** One element's step as MXNet's kernels write it; returns [new weight, ...new states]. */
function mxnetStep(op: string, p: P, w: number, g: number, s: number[]): number[] {
  const { lr, wd, rescale_grad: rg, clip_gradient: cg } = p;
  switch (op) {
    case "sgd_update":
      return [cg >= 0 ? (1 - lr * wd) * w - lr * clip(rg * g, cg) : (1 - lr * wd) * w - lr * rg * g];
    case "sgd_mom_update": {
      const mom = cg >= 0 ? p.momentum * s[0] - lr * wd * w - lr * clip(rg * g, cg) : p.momentum * s[0] - lr * wd * w - lr * rg * g;
      return [w + mom, mom];
    }
    case "nag_mom_update": {
      const m = p.momentum * s[0];
      const gg = (cg >= 0 ? clip(rg * g, cg) : rg * g) + wd * w;
      const out = w - m + (p.momentum + 1) * (m - lr * gg);
      return [out, m - lr * gg];
    }
    case "adam_update": {
      let gr = g * rg + w * wd;
      if (cg >= 0) gr = clip(gr, cg);
      const mean = p.beta1 * s[0] + (1 - p.beta1) * gr;
      const v = p.beta2 * s[1] + (1 - p.beta2) * gr * gr;
      return [w - (lr * mean) / (Math.sqrt(v) + p.epsilon), mean, v];
    }
    case "rmsprop_update": {
      let gr = rg * g + wd * w;
      if (cg >= 0) gr = clip(gr, cg);
      const n = (1 - p.gamma1) * (gr * gr) + p.gamma1 * s[0];
      let out = w - lr * (gr / Math.sqrt(n + p.epsilon));
      if (p.clip_weights >= 0) out = clip(out, p.clip_weights);
      return [out, n];
    }
    case "rmspropalex_update": {
      let gr = rg * g + wd * w;
      if (cg >= 0) gr = clip(gr, cg);
      const n = (1 - p.gamma1) * gr * gr + p.gamma1 * s[0];
      const gm = (1 - p.gamma1) * gr + p.gamma1 * s[1];
      const delta = p.gamma2 * s[2] - (lr * gr) / Math.sqrt(n - gm * gm + p.epsilon);
      const out = p.clip_weights >= 0 ? clip(w + delta, p.clip_weights) : w + delta;
      return [out, n, gm, delta];
    }
    case "adagrad_update": {
      // _sparse_adagrad_update's kernel plus the Python optimizer's dense weight decay.
      let gr = g * rg;
      if (cg >= 0) gr = clip(gr, cg);
      const h = s[0] + gr * gr;
      return [w - lr * (gr / Math.sqrt(h + p.epsilon) + wd * w), h];
    }
  }
  throw new Error(op);
}

interface Case {
  op: string;
  states: string[];
  params: P;
  /** Range of initial state values (second moments must stay positive). */
  stateRange?: [number, number][];
}

const BASE = { lr: 0.1, wd: 0.01, rescale_grad: 0.5 };
const CASES: Case[] = [
  { op: "sgd_update", states: [], params: { ...BASE, clip_gradient: 0.3 } },
  { op: "sgd_update", states: [], params: { ...BASE, clip_gradient: -1 } },
  { op: "sgd_mom_update", states: ["mom"], params: { ...BASE, clip_gradient: 0.3, momentum: 0.9 } },
  { op: "sgd_mom_update", states: ["mom"], params: { ...BASE, clip_gradient: -1, momentum: 0.5 } },
  { op: "nag_mom_update", states: ["mom"], params: { ...BASE, clip_gradient: 0.3, momentum: 0.9 } },
  { op: "nag_mom_update", states: ["mom"], params: { ...BASE, clip_gradient: -1, momentum: 0.9 } },
  { op: "adam_update", states: ["mean", "var"], params: { ...BASE, clip_gradient: 0.2, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, stateRange: [[-1, 1], [0, 1]] },
  { op: "adam_update", states: ["mean", "var"], params: { ...BASE, clip_gradient: -1, beta1: 0.8, beta2: 0.99, epsilon: 1e-3 }, stateRange: [[-1, 1], [0, 1]] },
  { op: "rmsprop_update", states: ["n"], params: { ...BASE, clip_gradient: 0.2, gamma1: 0.95, epsilon: 1e-8, clip_weights: 0.4 }, stateRange: [[0, 1]] },
  { op: "rmsprop_update", states: ["n"], params: { ...BASE, clip_gradient: -1, gamma1: 0.9, epsilon: 1e-6, clip_weights: -1 }, stateRange: [[0, 1]] },
  {
    op: "rmspropalex_update",
    states: ["n", "g", "delta"],
    params: { ...BASE, clip_gradient: 0.2, gamma1: 0.95, gamma2: 0.9, epsilon: 1e-8, clip_weights: 0.5 },
    stateRange: [[1, 2], [-0.5, 0.5], [-0.1, 0.1]],
  },
  {
    op: "rmspropalex_update",
    states: ["n", "g", "delta"],
    params: { ...BASE, clip_gradient: -1, gamma1: 0.9, gamma2: 0.8, epsilon: 1e-4, clip_weights: -1 },
    stateRange: [[1, 2], [-0.5, 0.5], [-0.1, 0.1]],
  },
  { op: "adagrad_update", states: ["history"], params: { ...BASE, clip_gradient: 0.2, epsilon: 1e-7 }, stateRange: [[0, 1]] },
  { op: "adagrad_update", states: ["history"], params: { ...BASE, clip_gradient: -1, epsilon: 1e-7 }, stateRange: [[0, 1]] },
];

const SHAPE = [2, 3];
const N = 6;

function values(seed: number, range: [number, number] = [-1, 1]): number[] {
  const r = rng(seed);
  return Array.from({ length: N }, () => range[0] + (range[1] - range[0]) * r());
}

/** The update symbol over variables w, g, the states by their own names (and lr/rescale arrays). */
function build(c: Case, extra: Record<string, unknown> = {}): Symbol {
  const inputs: Record<string, unknown> = { weight: sym.Variable("w"), grad: sym.Variable("g") };
  for (const s of c.states) inputs[s] = sym.Variable(`st_${s}`);
  const fns = sym as unknown as Record<string, (a: Record<string, unknown>) => Symbol>;
  return fns[c.op]({ ...inputs, ...c.params, ...extra, name: "upd" });
}

function expected(c: Case, w: number[], g: number[], states: number[][], p: P = c.params): number[][] {
  const out: number[][] = [[], ...c.states.map(() => [])];
  for (let e = 0; e < N; e++) mxnetStep(c.op, p, w[e], g[e], states.map((s) => s[e])).forEach((v, k) => out[k].push(v));
  return out;
}

const close = (got: number[], want: number[], what: string, tol: number): void => {
  expect(got.length, what).to.equal(want.length);
  got.forEach((v, i) => expect(Math.abs(v - want[i]) <= tol * Math.max(1, Math.abs(want[i])), `${what}[${i}]: got ${v}, want ${want[i]}`).to.equal(true));
};

describe("optimizer update ops", () => {
  it("list MXNet's arguments and aux states: weight and grad are arguments, the optimizer states are mutated", () => {
    const s = build(CASES[6]);
    expect(s.listArguments()).to.deep.equal(["w", "g"]);
    expect(s.listAuxiliaryStates()).to.deep.equal(["st_mean", "st_var"]);
    expect(s.listOutputs()).to.deep.equal(["upd_output"]);
    const inplace = build(CASES[6], { dynamic_lr: true, inplace_weight: true });
    expect(inplace.listArguments()).to.deep.equal(["g", "upd_lr_array", "upd_rescale_array"]);
    expect(inplace.listAuxiliaryStates()).to.deep.equal(["w", "st_mean", "st_var"]);
    // Params print as MXNet writes them.
    expect(JSON.parse(s.toJSON()).nodes.find((n: { name: string }) => n.name === "upd").attrs).to.include({ lr: "0.1", beta1: "0.9", clip_gradient: "0.2" });
  });

  CASES.forEach((c, k) => {
    it(`${c.op} (${c.params.clip_gradient >= 0 ? "clipped" : "no clipping"}) matches MXNet's kernel: weight and states`, () => {
      const w = values(10 + k);
      const g = values(20 + k);
      const st = c.states.map((_, i) => values(30 + k + i, c.stateRange?.[i]));
      const want = expected(c, w, g, st);
      const aux = Object.fromEntries(c.states.map((s, i) => [`st_${s}`, st[i]]));
      const symbol = build(c);
      checkForward(symbol, { shapes: { w: SHAPE, g: SHAPE }, values: { w, g }, aux, isTrain: true, expected: [want[0]], tol: 1e-12 });
      // The states (the compiled pipeline's are compared with these inside checkForward).
      const exe = symbol.simpleBind({ ctx: reference(), shapes: { w: SHAPE }, typeDict: { w: "float64", g: "float64" }, gradReq: "null" });
      exe.argDict.w.set(w);
      exe.argDict.g.set(g);
      for (const [n, v] of Object.entries(aux)) exe.auxDict[n].set(v);
      close(exe.forward(true)[0].toArray(), want[0], "weight", 1e-12);
      c.states.forEach((s, i) => close(exe.auxDict[`st_${s}`].toArray(), want[1 + i], s, 1e-12));
      // Inference runs leave the states alone (Kiln writes mutated inputs in training passes only).
      if (c.states.length) {
        exe.auxDict[`st_${c.states[0]}`].set(st[0]);
        exe.forward(false);
        close(exe.auxDict[`st_${c.states[0]}`].toArray(), st[0], `${c.states[0]} after inference`, 0);
      }
    });
  });

  it("run as generated C++ on cpu(): every op in one graph, float32 weights and states", () => {
    const cases = CASES.filter((_, k) => k % 2 === 0);
    const fns = sym as unknown as Record<string, (a: Record<string, unknown>) => Symbol>;
    const nodes = cases.map((c, k) => {
      const inputs: Record<string, unknown> = { weight: sym.Variable(`w${k}`), grad: sym.Variable(`g${k}`) };
      for (const s of c.states) inputs[s] = sym.Variable(`s${k}_${s}`);
      return fns[c.op]({ ...inputs, ...c.params, name: `upd${k}` });
    });
    const exe = sym.Group(nodes).simpleBind({ ctx: cpu(), shapes: Object.fromEntries(cases.map((_, k) => [`w${k}`, SHAPE])), gradReq: "null" });
    const want = cases.map((c, k) => {
      const w = values(40 + k);
      const g = values(50 + k);
      const st = c.states.map((_, i) => values(60 + k + i, c.stateRange?.[i]));
      exe.argDict[`w${k}`].set(w);
      exe.argDict[`g${k}`].set(g);
      c.states.forEach((s, i) => exe.auxDict[`s${k}_${s}`].set(st[i]));
      // float32 inputs: the expected step starts from the stored (rounded) values.
      const f = (a: number[]): number[] => Array.from(Float32Array.from(a));
      return expected(c, f(w), f(g), st.map(f));
    });
    const outs = exe.forward(true);
    cases.forEach((c, k) => {
      close(outs[k].toArray(), want[k][0], `${c.op} weight`, 1e-5);
      c.states.forEach((s, i) => close(exe.auxDict[`s${k}_${s}`].toArray(), want[k][1 + i], `${c.op} ${s}`, 1e-5));
    });
  });

  it("with dynamic_lr and inplace_weight, multiplies lr and rescale_grad by the array inputs and writes the weight back", () => {
    const c = CASES[2]; // sgd_mom_update, clipped
    const w = values(1);
    const g = values(2);
    const mom = values(3);
    const [lrA, rsA] = [0.5, 4];
    const eff = { ...c.params, lr: c.params.lr * lrA, rescale_grad: c.params.rescale_grad * rsA };
    const want = expected(c, w, g, [mom], eff);
    const symbol = build(c, { dynamic_lr: true, inplace_weight: true });
    checkForward(symbol, {
      shapes: { g: SHAPE },
      values: { g, upd_lr_array: [lrA], upd_rescale_array: [rsA] },
      aux: { w, st_mom: mom },
      isTrain: true,
      expected: [want[0]],
      tol: 1e-12,
    });
    for (const ctx of [reference(), cpu()] as Context[]) {
      const exe = symbol.simpleBind({ ctx, shapes: { g: SHAPE }, typeDict: { g: "float64" }, gradReq: "null" });
      exe.argDict.g.set(g);
      exe.argDict.upd_lr_array.set([lrA]);
      exe.argDict.upd_rescale_array.set([rsA]);
      exe.auxDict.w.set(w);
      exe.auxDict.st_mom.set(mom);
      exe.forward(true);
      close(exe.auxDict.w.toArray(), want[0], `${ctx} weight written back`, 1e-12);
      close(exe.auxDict.st_mom.toArray(), want[1], `${ctx} mom`, 1e-12);
      // A second step starts from the written values (and a new lr, no recompilation needed).
      exe.argDict.upd_lr_array.set([1]);
      exe.forward(true);
      const want2 = expected(c, want[0], g, [want[1]], { ...c.params, rescale_grad: c.params.rescale_grad * rsA });
      close(exe.auxDict.w.toArray(), want2[0], `${ctx} weight after step 2`, 1e-12);
    }
  });

  it("rejects a state of another shape, naming it", () => {
    const s = build(CASES[2]);
    expect(() => s.simpleBind({ ctx: reference(), shapes: { w: [2, 3], st_mom: [3, 2] } })).to.throw(/st_mom|mom|Shape inconsistent/);
  });
});
