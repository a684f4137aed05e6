/**
 * Optimizers: several fused update steps on tiny arrays against the same steps computed by
 * hand from MXNet's formulas (momentum state, clipping, weight decay and its per-name rules,
 * rescaling, lr multipliers, Adam's bias correction, schedules), on cpu() and reference().
 */
import { expect } from "chai";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { sym, cpu, reference, NDArray, KilnError } from "../../index.js";
import type { Context } from "../../index.js";
import { SGD, NAG, Adam, RMSProp, AdaGrad, Optimizer, create } from "../../runtime/training/optimizer.js";
import { FactorScheduler } from "../../runtime/training/lr_scheduler.js";

const clip = (x: number, b: number | null): number => (b ? Math.max(-b, Math.min(b, x)) : x);

/** Gradients of each step for a weight of 3 and a bias of 2 values. */
const W0 = [0.5, -1.2, 2.0];
const B0 = [0.1, -0.3];
const GW = [
  [1.5, -0.4, 0.2],
  [-0.7, 2.5, 0.9],
  [0.3, 0.3, -3.0],
];
const GB = [
  [0.8, -0.1],
  [0.05, 0.6],
  [-1.2, 0.4],
];

interface Hand {
  /** One element's step: new weight and states from (w, g, states, lr, wd, t). */
  step(w: number, g: number, s: number[], lr: number, wd: number, t: number): [number, number[]];
  nStates: number;
}

/** Runs the optimizer's fused updater for 3 steps; returns weights and states after each. */
function runFused(opt: Optimizer, ctx: Context): { w: number[][]; b: number[][]; states: number[][][] } {
  const weight = new NDArray([3], "float64", ctx).set(W0);
  const bias = new NDArray([2], "float64", ctx).set(B0);
  const gw = new NDArray([3], "float64", ctx);
  const gb = new NDArray([2], "float64", ctx);
  const up = opt.createUpdater([
    { name: "fc_weight", weight, grad: gw },
    { name: "fc_bias", weight: bias, grad: gb },
  ]);
  const out = { w: [] as number[][], b: [] as number[][], states: [] as number[][][] };
  for (let k = 0; k < 3; k++) {
    gw.set(GW[k]);
    gb.set(GB[k]);
    up.update();
    out.w.push(weight.toArray());
    out.b.push(bias.toArray());
    out.states.push(up.states.fc_weight.map((s) => s.toArray()));
  }
  return out;
}

/** The same three steps by hand: `lrAt(t)` the scheduled rate of step t, multipliers by name. */
function runHand(h: Hand, lrAt: (t: number) => number, wd: number, mult: { lrW: number; lrB: number; wdW: number; wdB: number }) {
  let w = [...W0];
  let b = [...B0];
  let sw = W0.map(() => new Array<number>(h.nStates).fill(0));
  let sb = B0.map(() => new Array<number>(h.nStates).fill(0));
  const out = { w: [] as number[][], b: [] as number[][], states: [] as number[][][] };
  for (let k = 0; k < 3; k++) {
    const t = k + 1;
    const rw = w.map((x, i) => h.step(x, GW[k][i], sw[i], lrAt(t) * mult.lrW, wd * mult.wdW, t));
    const rb = b.map((x, i) => h.step(x, GB[k][i], sb[i], lrAt(t) * mult.lrB, wd * mult.wdB, t));
    w = rw.map((r) => r[0]);
    sw = rw.map((r) => r[1]);
    b = rb.map((r) => r[0]);
    sb = rb.map((r) => r[1]);
    out.w.push(w);
    out.b.push(b);
    out.states.push(Array.from({ length: h.nStates }, (_, j) => sw.map((s) => s[j])));
  }
  return out;
}

const close = (got: number[][], want: number[][], what: string, tol = 1e-12): void => {
  got.forEach((row, k) =>
    row.forEach((v, i) => expect(Math.abs(v - want[k][i]) <= tol * Math.max(1, Math.abs(want[k][i])), `${what} step ${k + 1}[${i}]: got ${v}, want ${want[k][i]}`).to.equal(true)),
  );
};

function compare(make: () => Optimizer, h: Hand, lrAt: (t: number) => number, wd: number, mult = { lrW: 1, lrB: 1, wdW: 1, wdB: 1 }): void {
  const want = runHand(h, lrAt, wd, mult);
  for (const ctx of [reference(), cpu()] as Context[]) {
    const got = runFused(make(), ctx);
    close(got.w, want.w, `${ctx} weight`);
    close(got.b, want.b, `${ctx} bias`);
    got.states.forEach((st, k) => close(st, want.states[k], `${ctx} states after step ${k + 1}`));
  }
}

const RESCALE = 0.5;
const NAMES = ["fc_weight", "fc_bias"];

describe("optimizer: fused updates against MXNet's formulas", () => {
  it("SGD with momentum, weight decay (0 for the bias by name), rescale, clipping and lr_mult", () => {
    const h: Hand = {
      nStates: 1,
      step: (w, g, [m], lr, wd) => {
        const mom = 0.9 * m - lr * wd * w - lr * clip(RESCALE * g, 0.6);
        return [w + mom, [mom]];
      },
    };
    const make = () => new SGD({ learningRate: 0.1, momentum: 0.9, wd: 0.01, rescaleGrad: RESCALE, clipGradient: 0.6, paramIdx2Name: NAMES, lrMult: { fc_bias: 2 } });
    compare(make, h, () => 0.1, 0.01, { lrW: 1, lrB: 2, wdW: 1, wdB: 0 });
  });

  it("plain SGD with a FactorScheduler: the rate changes between steps without recompiling", () => {
    const h: Hand = { nStates: 0, step: (w, g, _s, lr, wd) => [(1 - lr * wd) * w - lr * RESCALE * g, []] };
    const make = () => new SGD({ learningRate: 0.2, wd: 0.05, rescaleGrad: RESCALE, lrScheduler: new FactorScheduler({ step: 1, factor: 0.5 }) });
    compare(make, h, (t) => 0.2 * 0.5 ** (t - 1), 0.05);
    const opt = make();
    const w = new NDArray([3], "float32", cpu()).set(W0);
    const up = opt.createUpdater([{ name: "w_weight", weight: w, grad: new NDArray([3], "float32", cpu()).set(GW[0]) }]);
    up.update();
    const exe = up.executor;
    up.update();
    up.update();
    expect(up.executor).to.equal(exe);
    expect(opt.numUpdate).to.equal(3);
    expect(opt.learningRate).to.equal(0.05);
  });

  it("NAG", () => {
    const h: Hand = {
      nStates: 1,
      step: (w, g, [m], lr, wd) => {
        // MXNet's NAGMomKernel.
        const mm = 0.9 * m;
        const d = lr * (clip(RESCALE * g, 1) + wd * w);
        return [w - mm + 1.9 * (mm - d), [mm - d]];
      },
    };
    compare(() => new NAG({ learningRate: 0.05, momentum: 0.9, wd: 0.02, rescaleGrad: RESCALE, clipGradient: 1, paramIdx2Name: NAMES }), h, () => 0.05, 0.02, { lrW: 1, lrB: 1, wdW: 1, wdB: 0 });
  });

  it("Adam with its bias correction lr·sqrt(1−β2^t)/(1−β1^t)", () => {
    const [b1, b2, eps] = [0.9, 0.999, 1e-8];
    const h: Hand = {
      nStates: 2,
      step: (w, g, [m, v], lr, wd, t) => {
        const gr = clip(RESCALE * g + wd * w, 0.4);
        const m1 = b1 * m + (1 - b1) * gr;
        const v1 = b2 * v + (1 - b2) * gr * gr;
        const lrT = (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
        return [w - (lrT * m1) / (Math.sqrt(v1) + eps), [m1, v1]];
      },
    };
    compare(() => new Adam({ learningRate: 0.01, wd: 0.1, rescaleGrad: RESCALE, clipGradient: 0.4 }), h, () => 0.01, 0.1);
  });

  it("RMSProp, plain and centered (with clip_weights)", () => {
    const plain: Hand = {
      nStates: 1,
      step: (w, g, [n], lr, wd) => {
        const gr = RESCALE * g + wd * w;
        const n1 = 0.1 * gr * gr + 0.9 * n;
        return [w - lr * (gr / Math.sqrt(n1 + 1e-8)), [n1]];
      },
    };
    compare(() => new RMSProp({ learningRate: 0.01, wd: 0.1, rescaleGrad: RESCALE }), plain, () => 0.01, 0.1);
    const centered: Hand = {
      nStates: 3,
      step: (w, g, [n, gm, d], lr, wd) => {
        const gr = RESCALE * g + wd * w;
        const n1 = 0.1 * gr * gr + 0.9 * n;
        const g1 = 0.1 * gr + 0.9 * gm;
        const d1 = 0.8 * d - (lr * gr) / Math.sqrt(n1 - g1 * g1 + 1e-8);
        return [Math.max(-1.9, Math.min(1.9, w + d1)), [n1, g1, d1]];
      },
    };
    compare(() => new RMSProp({ learningRate: 0.01, wd: 0.1, gamma2: 0.8, centered: true, clipWeights: 1.9, rescaleGrad: RESCALE }), centered, () => 0.01, 0.1);
  });

  it("AdaGrad", () => {
    const h: Hand = {
      nStates: 1,
      step: (w, g, [hist], lr, wd) => {
        const gr = clip(RESCALE * g, 0.5);
        const h1 = hist + gr * gr;
        return [w + (gr / Math.sqrt(h1 + 1e-7) + w * wd) * -lr, [h1]];
      },
    };
    compare(() => new AdaGrad({ learningRate: 0.1, wd: 0.01, rescaleGrad: RESCALE, clipGradient: 0.5 }), h, () => 0.1, 0.01);
  });

  it("takes __lr_mult__ / __wd_mult__ from the symbol's variables", () => {
    const w = sym.Variable("fc1_weight", { lr_mult: 0.5, wd_mult: 3 });
    const net = sym.FullyConnected({ data: sym.Variable("data"), weight: w, num_hidden: 2, name: "fc1" });
    const opt = new SGD({ wd: 0.1, sym: net, paramIdx2Name: net.listArguments().filter((n) => n !== "data") });
    expect(opt.lrMultOf("fc1_weight")).to.equal(0.5);
    expect(opt.wdOf("fc1_weight")).to.be.closeTo(0.3, 1e-15);
    expect(opt.wdOf("fc1_bias")).to.equal(0);
  });

  it("saves and restores its states: a resumed run continues exactly", () => {
    const dir = mkdtempSync(join(tmpdir(), "kiln-opt-"));
    const grads = [GW[0], GW[1], GW[2], GW[0]];
    const run = (split: boolean): number[] => {
      const make = () => new Adam({ learningRate: 0.05 });
      const w = new NDArray([3], "float32", cpu()).set(W0);
      const g = new NDArray([3], "float32", cpu());
      let up = make().createUpdater([{ name: "x_weight", weight: w, grad: g }]);
      grads.forEach((gv, k) => {
        if (split && k === 2) {
          up.saveStates(join(dir, "adam.states"));
          up = make().createUpdater([{ name: "x_weight", weight: w, grad: g }]);
          up.loadStates(join(dir, "adam.states"));
          expect(up.t).to.equal(2);
        }
        g.set(gv);
        up.update();
      });
      return w.toArray();
    };
    expect(run(true)).to.deep.equal(run(false));
  });

  it("create: by name, with MXNet's snake_case options", () => {
    const o = create("SGD", { learning_rate: 0.3, momentum: 0.9, clip_gradient: 5, rescale_grad: 0.25 });
    expect(o).to.be.instanceOf(SGD);
    expect(o.opName).to.equal("sgd_mom_update");
    expect(o.learningRate).to.equal(0.3);
    expect(o.clipGradient).to.equal(5);
    expect(o.rescaleGrad).to.equal(0.25);
    expect(create("rmsprop", { centered: true }).opName).to.equal("rmspropalex_update");
    expect(create("adam").learningRate).to.equal(0.001);
    expect(() => create("lbfgs")).to.throw(KilnError, /unknown optimizer "lbfgs"/);
  });

  it("rejects a gradient of another shape, naming the parameter", () => {
    const opt = new SGD();
    const weight = new NDArray([3], "float32", cpu());
    expect(() => opt.createUpdater([{ name: "fc_weight", weight, grad: new NDArray([4], "float32", cpu()) }])).to.throw(KilnError, /fc_weight/);
  });
});
