/** BatchNorm (training and global statistics, moving averages, axes) and Dropout (statistics, identity, hand gradient). */
import { expect } from "chai";
import { sym, Symbol, reference, nd, InferenceError } from "../../index.js";
import { checkForward, checkGradient, rng } from "../helpers/op_check.js";
import { checkComputes } from "../helpers/compute_check.js";
import { gradientCheckedByHand } from "./coverage.test.js";

const data = (): Symbol => sym.Variable("data");
const close = (got: number[], want: number[], tol = 1e-12): void => {
  expect(got.length).to.equal(want.length);
  got.forEach((g, i) => expect(Math.abs(g - want[i]), `[${i}]: got ${g}, want ${want[i]}`).to.be.below(tol));
};

describe("nn: BatchNorm", () => {
  const x = [1, 2, 3, 6]; // (2, 2): channel 0 = [1, 3] (mean 2, var 1), channel 1 = [2, 6] (mean 4, var 4)
  const s0 = 1 / Math.sqrt(1 + 1e-3);
  const s1 = 1 / Math.sqrt(4 + 1e-3);

  it("normalizes with batch statistics in training and updates the moving ones", () => {
    const bn = sym.BatchNorm({ data: data(), fix_gamma: false, name: "bn" });
    const exe = bn.simpleBind({ ctx: reference(), shapes: { data: [2, 2] }, typeDict: { data: "float64" } });
    exe.argDict.data.set(x);
    exe.argDict.bn_gamma.set([2, 0.5]);
    exe.argDict.bn_beta.set([1, -1]);
    exe.auxDict.bn_moving_mean.set([0, 0]);
    exe.auxDict.bn_moving_var.set([1, 1]);
    close(exe.forward(true)[0].toArray(), [1 - 2 * s0, -1 - s1, 1 + 2 * s0, -1 + s1]);
    close(exe.auxDict.bn_moving_mean.toArray(), [0.2, 0.4]);
    close(exe.auxDict.bn_moving_var.toArray(), [1.0, 1.3]);
    // Inference afterwards uses (and keeps) the moving statistics.
    const out = exe.forward(false)[0].toArray();
    close(out, [(1 - 0.2) / Math.sqrt(1.001) * 2 + 1, (2 - 0.4) / Math.sqrt(1.301) * 0.5 - 1, (3 - 0.2) / Math.sqrt(1.001) * 2 + 1, (6 - 0.4) / Math.sqrt(1.301) * 0.5 - 1]);
    close(exe.auxDict.bn_moving_mean.toArray(), [0.2, 0.4]);
  });

  it("outputs the batch mean and the inverse std with output_mean_var", () => {
    const bn = sym.BatchNorm({ data: data(), output_mean_var: true, name: "bn" });
    expect(bn.listOutputs()).to.deep.equal(["bn_output", "bn_mean", "bn_var"]);
    checkForward(bn, {
      isTrain: true,
      shapes: { data: [2, 2] },
      values: { data: x, bn_gamma: [5, 5], bn_beta: [0, 0] },
      // fix_gamma (the default) ignores gamma = 5.
      expected: [[-s0, -2 * s1, s0, 2 * s1], [2, 4], [s0, s1]],
    });
  });

  it("uses the moving statistics in inference and with use_global_stats", () => {
    const aux = { bn_moving_mean: [1, -1], bn_moving_var: [4, 0.25] };
    const want = [(1 - 1) / Math.sqrt(4.001) + 0.5, (2 + 1) / Math.sqrt(0.251) - 0.5, (3 - 1) / Math.sqrt(4.001) + 0.5, (6 + 1) / Math.sqrt(0.251) - 0.5];
    const values = { data: x, bn_gamma: [3, 3], bn_beta: [0.5, -0.5] };
    checkForward(sym.BatchNorm({ data: data(), name: "bn" }), { shapes: { data: [2, 2] }, values, aux, expected: [want] });
    const global = sym.BatchNorm({ data: data(), use_global_stats: true, name: "bn" });
    checkForward(global, { isTrain: true, shapes: { data: [2, 2] }, values, aux, expected: [want] });
    const exe = global.simpleBind({ ctx: reference(), shapes: { data: [2, 2] } });
    exe.auxDict.bn_moving_mean.set([1, -1]);
    exe.forward(true);
    expect(exe.auxDict.bn_moving_mean.toArray()).to.deep.equal([1, -1]);
  });

  it("normalizes along another axis (naive statistics)", () => {
    const r = rng(5);
    const v = Array.from({ length: 12 }, () => 4 * r() - 2);
    // data (2, 3, 2) with axis -1: channel = index % 2.
    const want = v.map((t, i) => {
      const ch = v.filter((_, j) => j % 2 === i % 2);
      const mean = ch.reduce((a, b) => a + b, 0) / ch.length;
      const variance = ch.reduce((a, b) => a + (b - mean) ** 2, 0) / ch.length;
      return ((t - mean) / Math.sqrt(variance + 1e-3)) * [2, -1][i % 2] + [0.5, 0.25][i % 2];
    });
    const bn = sym.BatchNorm({ data: data(), axis: -1, fix_gamma: false, name: "bn" });
    checkForward(bn, { isTrain: true, shapes: { data: [2, 3, 2] }, values: { data: v, bn_gamma: [2, -1], bn_beta: [0.5, 0.25] }, expected: [want] });
    expect(bn.inferShape({ data: [2, 3, 2] })[2]).to.deep.equal([[2], [2]]);
  });

  it("lists aux states, infers shapes and types, and reports a bad axis", () => {
    const bn = sym.BatchNorm({ data: data(), name: "bn" });
    expect(bn.listArguments()).to.deep.equal(["data", "bn_gamma", "bn_beta"]);
    expect(bn.listAuxiliaryStates()).to.deep.equal(["bn_moving_mean", "bn_moving_var"]);
    expect(bn.inferShape({ data: [4, 3, 5, 5] })).to.deep.equal([[[4, 3, 5, 5], [3], [3]], [[4, 3, 5, 5]], [[3], [3]]]);
    expect(bn.inferType({ data: "float16" })).to.deep.equal([["float16", "float32", "float32"], ["float16"], ["float32", "float32"]]);
    const bad = sym.BatchNorm({ data: data(), axis: 3, name: "bn7" });
    expect(() => bad.inferShape({ data: [2, 3, 4] })).to.throw(InferenceError, /bn7.*BatchNorm.*axis 3.*\[2,3,4\]/);
  });

  it("has finite-difference gradients (batch statistics, global statistics, axes, fix_gamma)", () => {
    const g = (args: Omit<Parameters<typeof sym.BatchNorm>[0], "data" | "name">, shape: number[], aux?: Record<string, number[]>): void =>
      checkGradient(sym.BatchNorm({ data: data(), name: "bn", ...args }), { shapes: { data: shape }, range: { data: [-2, 2] }, aux });
    g({ fix_gamma: false }, [3, 2, 2]);
    g({ fix_gamma: false, axis: -1 }, [2, 3, 2]);
    g({ fix_gamma: false, axis: 0, eps: 1e-5 }, [2, 5]);
    g({}, [4, 2]);
    g({ use_global_stats: true, fix_gamma: false }, [2, 3, 2], { bn_moving_mean: [0.3, -0.2, 0.1], bn_moving_var: [0.5, 2, 1.5] });
    g({ use_global_stats: true, axis: 2 }, [2, 2, 3], { bn_moving_mean: [0.3, -0.2, 0.1], bn_moving_var: [0.5, 2, 1.5] });
  });

  it("gives gamma a zero gradient with fix_gamma", () => {
    const bn = sym.BatchNorm({ data: data(), name: "bn" });
    const exe = bn.simpleBind({ ctx: reference(), shapes: { data: [3, 2] }, typeDict: { data: "float64" } });
    exe.argDict.data.set([1, 2, 4, 3, 0, 7]);
    exe.argDict.bn_gamma.set([3, 4]);
    exe.forward(true);
    exe.backward(nd.array([[1, 2], [3, 4], [5, 6]], { ctx: reference(), dtype: "float64" }));
    expect(exe.gradDict.bn_gamma.toArray()).to.deep.equal([0, 0]);
    expect(exe.gradDict.bn_beta.toArray()).to.deep.equal([9, 12]);
  });
});

describe("nn: Dropout", () => {
  gradientCheckedByHand.add("Dropout");

  it("is the identity in inference", () => {
    const d = sym.Dropout({ data: data(), p: 0.7, name: "drop" });
    expect(d.listOutputs()).to.deep.equal(["drop_output"]);
    checkForward(d, { shapes: { data: [3, 4] }, values: { data: Array.from({ length: 12 }, (_, i) => i - 5) }, expected: [Array.from({ length: 12 }, (_, i) => i - 5)] });
  });

  it("keeps about 1−p of the elements in training, scaled by 1/(1−p)", () => {
    const d = sym.Dropout({ data: data(), p: 0.3, name: "drop" });
    const exe = d.simpleBind({ ctx: reference(), shapes: { data: [100, 100] }, typeDict: { data: "float64" } });
    exe.argDict.data.set(1);
    const out = exe.forward(true)[0].toArray();
    const kept = out.filter((v) => v !== 0);
    expect(kept.length / out.length).to.be.closeTo(0.7, 0.03);
    expect(new Set(kept)).to.deep.equal(new Set([1 / 0.7]));
    // mode='always' drops in inference too; p=0 never drops.
    const always = sym.Dropout({ data: data(), p: 0.5, mode: "always", name: "drop" }).simpleBind({ ctx: reference(), shapes: { data: [50, 40] } });
    always.argDict.data.set(1);
    expect(always.forward(false)[0].toArray().filter((v) => v === 0).length).to.be.within(800, 1200);
    const none = sym.Dropout({ data: data(), p: 0, name: "drop" }).simpleBind({ ctx: reference(), shapes: { data: [10] } });
    none.argDict.data.set(3);
    expect(none.forward(true)[0].toArray()).to.deep.equal(new Array(10).fill(3));
  });

  it("shares one mask value along `axes`", () => {
    const d = sym.Dropout({ data: data(), p: 0.5, axes: [1], name: "drop" });
    const exe = d.simpleBind({ ctx: reference(), shapes: { data: [50, 40] }, typeDict: { data: "float64" } });
    exe.argDict.data.set(1);
    const out = exe.forward(true)[0].toArray();
    const rows = Array.from({ length: 50 }, (_, r) => new Set(out.slice(r * 40, r * 40 + 40)));
    expect(rows.every((s) => s.size === 1)).to.equal(true);
    const zeroRows = rows.filter((s) => s.has(0)).length;
    expect(zeroRows).to.be.within(10, 40);
    // The gradient broadcasts the shared mask back (its compute rule checked against the reference).
    exe.backward(nd.array(Array.from({ length: 2000 }, (_, i) => Math.cos(i)), { shape: [50, 40], ctx: reference(), dtype: "float64" }));
    checkComputes(exe);
  });

  it("passes ograd·mask/(1−p) back (hand check)", () => {
    const p = 0.4;
    const d = sym.Dropout({ data: data(), p, name: "drop" });
    const exe = d.simpleBind({ ctx: reference(), shapes: { data: [8, 8] }, typeDict: { data: "float64" } });
    const input = Array.from({ length: 64 }, (_, i) => 0.5 + i);
    exe.argDict.data.set(input);
    const out = exe.forward(true)[0].toArray();
    const mask = out.map((o) => (o === 0 ? 0 : 1));
    expect(mask.filter((m) => m === 0).length).to.be.within(8, 45);
    out.forEach((o, i) => expect(o).to.be.closeTo(mask[i] ? input[i] / (1 - p) : 0, 1e-12));
    const head = Array.from({ length: 64 }, (_, i) => Math.sin(i));
    exe.backward(nd.array(head, { shape: [8, 8], ctx: reference(), dtype: "float64" }));
    exe.gradDict.data.toArray().forEach((gv, i) => expect(gv).to.be.closeTo((head[i] * mask[i]) / (1 - p), 1e-14));
    checkComputes(exe);
  });

  it("rejects p outside [0, 1]", () => {
    expect(() => sym.Dropout({ data: data(), p: 1.5, name: "drop3" }).inferShape({ data: [2] })).to.throw(InferenceError, /drop3.*p must be in \[0, 1\]/);
  });
});
