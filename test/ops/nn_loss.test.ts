/** Loss ops (SoftmaxOutput, regression outputs): forward values and hand-computed gradients. */
import { expect } from "chai";
import { sym, Symbol, reference, withNameManager, InferenceError } from "../../index.js";
import type { GradReq } from "../../index.js";
import { checkForward } from "../helpers/op_check.js";
import { checkComputes } from "../helpers/compute_check.js";
import { gradientCheckedByHand } from "./coverage.test.js";

for (const op of ["SoftmaxOutput", "LinearRegressionOutput", "LogisticRegressionOutput", "MAERegressionOutput"]) gradientCheckedByHand.add(op);

const data = (): Symbol => sym.Variable("data");
const smx = (row: number[]): number[] => {
  const e = row.map(Math.exp);
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};
const close = (got: number[], want: number[], tol = 1e-12): void => {
  expect(got.length, "length").to.equal(want.length);
  got.forEach((g, i) => expect(Math.abs(g - want[i]), `[${i}]: got ${g}, want ${want[i]}`).to.be.below(tol));
};

/** Forward in training and backward without head gradients (checking the compute rules); returns [output, data gradient, label gradient]. */
function runLoss(s: Symbol, shapes: Record<string, number[]>, values: Record<string, number[]>, labelGrad = false): [number[], number[], number[] | undefined] {
  const args = s.listArguments();
  const typeDict = Object.fromEntries(args.map((n) => [n, "float64" as const]));
  const gradReq = Object.fromEntries(args.map((n) => [n, (n === "data" || labelGrad ? "write" : "null") as GradReq]));
  const exe = s.simpleBind({ ctx: reference(), shapes, typeDict, gradReq });
  for (const [k, v] of Object.entries(values)) exe.argDict[k].set(v);
  const out = exe.forward(true)[0].toArray();
  exe.backward();
  // The gradient rows' compute rules against the reference, node by node.
  checkComputes(exe);
  const label = args.find((n) => n !== "data")!;
  return [out, exe.gradDict.data.toArray(), labelGrad ? exe.gradDict[label].toArray() : undefined];
}

const sub = (a: number[], b: number[]): number[] => a.map((v, i) => v - b[i]);
const scale = (a: number[], k: number): number[] => a.map((v) => v * k);

describe("nn: SoftmaxOutput", () => {
  const example = [0.005806628431527065, 0.8617800692577713, 0.11662924976066819, 0.015784052550033668];

  it("reproduces MXNet's example: softmax forward, output − onehot(label) backward", () => {
    const s = sym.SoftmaxOutput({ data: data(), name: "softmax" });
    expect(s.listArguments()).to.deep.equal(["data", "softmax_label"]);
    checkForward(s, { shapes: { data: [1, 4] }, values: { data: [1, 6, 4, 2], softmax_label: [1] }, expected: [example], tol: 1e-12 });
    const [out, grad, labelGrad] = runLoss(s, { data: [1, 4] }, { data: [1, 6, 4, 2], softmax_label: [1] }, true);
    close(out, example);
    close(grad, sub(example, [0, 1, 0, 0]));
    expect(labelGrad).to.deep.equal([0]);
  });

  it("is also called Softmax and auto-names softmax<n>", () => {
    withNameManager(() => {
      const s = sym.Softmax({ data: data() });
      expect(s.name).to.equal("softmax0");
      expect(s.listArguments()).to.deep.equal(["data", "softmax0_label"]);
    });
  });

  const x = [1, 2, 3, 0, -1, 2, 0.5, 0.5, 0];
  const p = [smx(x.slice(0, 3)), smx(x.slice(3, 6)), smx(x.slice(6))];

  it("scales by grad_scale and normalizes by batch or by valid labels", () => {
    const oh = (k: number): number[] => [0, 1, 2].map((j) => (j === k ? 1 : 0));
    const shapes = { data: [3, 3] };
    const values = { data: x, softmax_label: [0, 2, 1] };
    const raw = [...sub(p[0], oh(0)), ...sub(p[1], oh(2)), ...sub(p[2], oh(1))];
    close(runLoss(sym.SoftmaxOutput({ data: data(), grad_scale: 2, name: "softmax" }), shapes, values)[1], scale(raw, 2));
    close(runLoss(sym.SoftmaxOutput({ data: data(), normalization: "batch", name: "softmax" }), shapes, values)[1], scale(raw, 1 / 3));
    // use_ignore zeroes the ignored row; 'valid' divides by the two remaining labels.
    const ignored = { data: x, softmax_label: [0, -1, 1] };
    const want = [...scale(sub(p[0], oh(0)), 0.5), 0, 0, 0, ...scale(sub(p[2], oh(1)), 0.5)];
    close(runLoss(sym.SoftmaxOutput({ data: data(), use_ignore: true, normalization: "valid", name: "softmax" }), shapes, ignored)[1], want);
    // Without use_ignore the row keeps softmax − onehot(nothing) = softmax, but 'valid' still counts it out.
    const kept = [...scale(sub(p[0], oh(0)), 0.5), ...scale(p[1], 0.5), ...scale(sub(p[2], oh(1)), 0.5)];
    close(runLoss(sym.SoftmaxOutput({ data: data(), normalization: "valid", name: "softmax" }), shapes, ignored)[1], kept);
    close(runLoss(sym.SoftmaxOutput({ data: data(), use_ignore: true, ignore_label: 2, name: "softmax" }), shapes, values)[1], [...sub(p[0], oh(0)), 0, 0, 0, ...sub(p[2], oh(1))]);
  });

  it("runs along axis 1 with multi_output (dividing by the spatial size, as MXNet 1.x)", () => {
    // data (1, 3, 2): class scores at positions 0 and 1; labels (1, 2) = [0, 2].
    const d = [1, 0, 2, 1, 3, -1];
    const pos0 = smx([1, 2, 3]);
    const pos1 = smx([0, 1, -1]);
    const out = [pos0[0], pos1[0], pos0[1], pos1[1], pos0[2], pos1[2]];
    const s = sym.SoftmaxOutput({ data: data(), multi_output: true, name: "softmax" });
    expect(s.inferShape({ data: [1, 3, 2] })[0][1]).to.deep.equal([1, 2]);
    const [o, grad] = runLoss(s, { data: [1, 3, 2] }, { data: d, softmax_label: [0, 2] });
    close(o, out);
    close(grad, scale(sub(out, [1, 0, 0, 0, 0, 1]), 1 / 2));
    const valid = sym.SoftmaxOutput({ data: data(), multi_output: true, normalization: "valid", name: "softmax" });
    close(runLoss(valid, { data: [1, 3, 2] }, { data: d, softmax_label: [0, 2] })[1], scale(sub(out, [1, 0, 0, 0, 0, 1]), 1 / 2));
    const batch = sym.SoftmaxOutput({ data: data(), multi_output: true, normalization: "batch", name: "softmax" });
    close(runLoss(batch, { data: [1, 3, 2] }, { data: d, softmax_label: [0, 2] })[1], scale(sub(out, [1, 0, 0, 0, 0, 1]), 1 / 2));
  });

  it("runs along the last axis with preserve_shape", () => {
    const s = sym.SoftmaxOutput({ data: data(), preserve_shape: true, name: "softmax" });
    expect(s.inferShape({ data: [2, 2, 3] })[0][1]).to.deep.equal([2, 2]);
    const out = [...p[0], ...p[1], ...p[2], ...smx([0, 0, 1])];
    const [o, grad] = runLoss(s, { data: [2, 2, 3] }, { data: [...x, 0, 0, 1], softmax_label: [2, 0, 1, 1] });
    close(o, out);
    close(grad, sub(out, [0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 1, 0]));
  });

  it("smooths the target with smooth_alpha and accepts probability labels", () => {
    const s = sym.SoftmaxOutput({ data: data(), smooth_alpha: 0.3, name: "softmax" });
    close(runLoss(s, { data: [1, 4] }, { data: [1, 6, 4, 2], softmax_label: [1] })[1], sub(example, [0.1, 0.7, 0.1, 0.1]));
    const probs = [0.25, 0.25, 0.5, 0];
    const pl = sym.SoftmaxOutput({ data: data(), normalization: "batch", grad_scale: 3, name: "softmax" });
    close(runLoss(pl, { data: [1, 4], softmax_label: [1, 4] }, { data: [1, 6, 4, 2], softmax_label: probs })[1], scale(sub(example, probs), 3));
  });

  it("infers and checks the label shape", () => {
    const s = sym.SoftmaxOutput({ data: data(), name: "sm1" });
    expect(s.inferShape({ data: [5, 10] })[0]).to.deep.equal([[5, 10], [5]]);
    const m = sym.SoftmaxOutput({ data: data(), multi_output: true, name: "sm2" });
    expect(m.inferShape({ data: [2, 3, 4, 5] })[0][1]).to.deep.equal([2, 20]);
    expect(m.inferShape({ data: [2, 3, 4, 5], sm2_label: [2, 4, 5] })[0][1]).to.deep.equal([2, 4, 5]);
    expect(() => m.inferShape({ data: [2, 3, 4, 5], sm2_label: [2, 7] })).to.throw(InferenceError, /sm2.*SoftmaxOutput.*label \[2,7\]/);
    expect(() => s.inferShape({ data: [5, 10], sm1_label: [4] })).to.throw(InferenceError, /sm1.*\[4\].*\[5\]/);
  });
});

describe("nn: regression outputs", () => {
  const d = [0.5, -1, 2, 0, 1, -2];
  const l = [1, -1, 0, 0.5, 3, -1];
  const sig = (v: number): number => 1 / (1 + Math.exp(-v));

  it("LinearRegressionOutput: identity forward, (out − label)·grad_scale/num_output backward", () => {
    const s = sym.LinearRegressionOutput({ data: data(), grad_scale: 3, name: "lro" });
    expect(s.listArguments()).to.deep.equal(["data", "lro_label"]);
    checkForward(s, { shapes: { data: [2, 3] }, values: { data: d, lro_label: l }, expected: [d] });
    const [, grad, lg] = runLoss(s, { data: [2, 3] }, { data: d, lro_label: l }, true);
    close(grad, scale(sub(d, l), 3 / 3));
    expect(lg).to.deep.equal([0, 0, 0, 0, 0, 0]);
    // (n, 1) data takes an (n,) label by default; one output per sample.
    const one = sym.LinearRegressionOutput({ data: data(), name: "lro" });
    expect(one.inferShape({ data: [6, 1] })[0][1]).to.deep.equal([6]);
    close(runLoss(one, { data: [6, 1] }, { data: d, lro_label: l })[1], sub(d, l));
  });

  it("LogisticRegressionOutput: sigmoid forward, (out − label)/num_output backward", () => {
    const s = sym.LogisticRegressionOutput({ data: data(), name: "log" });
    const out = d.map(sig);
    checkForward(s, { shapes: { data: [3, 2] }, values: { data: d, log_label: l }, expected: [out], tol: 1e-12 });
    close(runLoss(s, { data: [3, 2] }, { data: d, log_label: l })[1], scale(sub(out, l), 1 / 2));
  });

  it("MAERegressionOutput: identity forward, sign(out − label)/num_output backward", () => {
    const s = sym.MAERegressionOutput({ data: data(), grad_scale: 2, name: "mae" });
    checkForward(s, { shapes: { data: [1, 6] }, values: { data: d, mae_label: l }, expected: [d] });
    close(runLoss(s, { data: [1, 6] }, { data: d, mae_label: l })[1], sub(d, l).map((v) => (Math.sign(v) * 2) / 6));
  });

  it("infers the label from the data and rejects a label of another size", () => {
    const s = sym.LinearRegressionOutput({ data: data(), name: "lro2" });
    expect(s.inferShape({ data: [4, 3] })[0]).to.deep.equal([[4, 3], [4, 3]]);
    expect(s.inferShape({ data: [4, 3], lro2_label: [4, 3, 1] })[0][1]).to.deep.equal([4, 3, 1]);
    expect(() => s.inferShape({ data: [4, 3], lro2_label: [4, 2] })).to.throw(InferenceError, /lro2.*LinearRegressionOutput.*\[4,2\].*\[4,3\]/);
  });
});
