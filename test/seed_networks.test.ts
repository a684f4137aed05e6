import { expect } from "chai";
import { Symbol, reference, nd, withNameManager } from "../index.js";
import type { DType } from "../index.js";
import { smallClassifier, inceptionResNetV2, stackedLSTM, regressionLoss, fillRandom } from "../examples/seed_networks.js";
import { checkGradient, rng } from "./helpers/op_check.js";

const byName = (net: Symbol, shapes: Record<string, number[]>): Record<string, number[]> => {
  const [args] = net.inferShape(shapes);
  return Object.fromEntries(net.listArguments().map((n, i) => [n, args[i]]));
};

describe("seed networks", () => {
  describe("small classifier", () => {
    it("infers shapes at 3×160×160", () => {
      const net = withNameManager(() => smallClassifier());
      const [args, outs, aux] = net.inferShape({ data: [8, 3, 160, 160] });
      expect(outs).to.deep.equal([[8, 12]]);
      expect(args).to.have.length(1 + 2 + 6 * 2 + 3 * 2 + 1);
      expect(aux).to.deep.equal([[3], [3]]);
      const s = byName(net, { data: [8, 3, 160, 160] });
      expect(s.conv1_weight).to.deep.equal([32, 3, 3, 3]);
      expect(s.conv3_weight).to.deep.equal([64, 32, 3, 3]);
      expect(s.conv6_weight).to.deep.equal([96, 96, 3, 3]);
      // 160 → 4 poolings → 10 → two unpadded 3×3 convolutions → 6: 96·6·6 features.
      expect(s.fc1_weight).to.deep.equal([256, 96 * 6 * 6]);
      expect(s.fc2_weight).to.deep.equal([32, 256]);
      expect(s.fc3_weight).to.deep.equal([12, 32]);
      expect(s.softmax_label).to.deep.equal([8]);
    });

    it("runs forward and backward on reference() (80×80 input, the smallest the head accepts)", () => {
      const net = withNameManager(() => smallClassifier());
      const exe = net.simpleBind({ ctx: reference(), shapes: { data: [2, 3, 80, 80] }, gradReq: "write" });
      fillRandom(exe, 3, 12);
      const [prob] = exe.forward(true);
      expect(prob.shape).to.deep.equal([2, 12]);
      const p = prob.toArray();
      for (const row of [p.slice(0, 12), p.slice(12)]) expect(Math.abs(row.reduce((a, b) => a + b, 0) - 1)).to.be.below(1e-5);
      exe.backward();
      // SoftmaxOutput's gradient: Σ over classes of (p − onehot) is 0 for each sample, so the fc3 bias gradient sums to 0.
      const gb = exe.gradDict.fc3_bias.toArray();
      expect(Math.abs(gb.reduce((a, b) => a + b, 0))).to.be.below(1e-5);
      for (const name of ["conv1_weight", "fc1_weight", "bn_data_beta"]) {
        const g = exe.gradDict[name].toArray();
        expect(g.every(Number.isFinite), name).to.equal(true);
        expect(g.some((v) => v !== 0), `${name} has a nonzero gradient`).to.equal(true);
      }
      // fix_gamma: the data BatchNorm's gamma gets no gradient.
      expect(exe.gradDict.bn_data_gamma.toArray().every((v) => v === 0)).to.equal(true);
    });
  });

  describe("Inception-ResNet-v2", () => {
    it("infers (batch, classes) and has the arguments of MXNet's script", () => {
      const net = withNameManager(() => inceptionResNetV2());
      const [args, outs, aux] = net.inferShape({ data: [2, 3, 299, 299] });
      expect(outs).to.deep.equal([[2, 1000]]);
      // 244 conv+BatchNorm units (weight, bias, gamma, beta each), data, FC weight and bias, softmax_label.
      expect(args).to.have.length(244 * 4 + 4);
      expect(aux).to.have.length(244 * 2);
      const names = net.listArguments();
      expect(names[0]).to.equal("data");
      expect(names[names.length - 1]).to.equal("softmax_label");
      expect(args[names.length - 3]).to.deep.equal([1000, 1536]);
      // The stem's first conv and the last 1×1 conv to 1536 channels.
      expect(args[1]).to.deep.equal([32, 3, 3, 3]);
      expect(args[names.length - 7]).to.deep.equal([1536, 2080, 1, 1]);
    });
  });

  describe("stacked LSTM", () => {
    it("infers the MXNet shapes for audio_data (128, 49, 75)", () => {
      const net = withNameManager(() => stackedLSTM());
      expect(net.listArguments()).to.deep.equal([
        "audio_data",
        "lstm1_i2h_weight",
        "lstm1_i2h_bias",
        "lstm1_h2h_weight",
        "lstm1_h2h_bias",
        "lstm2_i2h_weight",
        "lstm2_i2h_bias",
        "lstm2_h2h_weight",
        "lstm2_h2h_bias",
      ]);
      const [args, outs, aux] = net.inferShape({ audio_data: [128, 49, 75] });
      expect(args).to.deep.equal([[128, 49, 75], [1024, 75], [1024], [1024, 256], [1024], [1024, 256], [1024], [1024, 256], [1024]]);
      expect(outs).to.deep.equal([[128, 512]]);
      expect(aux).to.deep.equal([]);
    });

    it("runs forward and backward at batch 2 over 49 steps", () => {
      const net = withNameManager(() => stackedLSTM());
      const exe = net.simpleBind({ ctx: reference(), shapes: { audio_data: [2, 49, 75] }, gradReq: "write" });
      fillRandom(exe, 5);
      const [out] = exe.forward(true);
      expect(out.shape).to.deep.equal([2, 512]);
      // Both halves are LSTM outputs h = σ(o)·tanh(c), inside (−1, 1).
      expect(out.toArray().every((v) => Math.abs(v) < 1)).to.equal(true);
      exe.backward(nd.ones([2, 512], { ctx: reference() }));
      for (const name of ["audio_data", "lstm1_i2h_weight", "lstm2_h2h_bias"]) {
        const g = exe.gradDict[name].toArray();
        expect(g.every(Number.isFinite) && g.some((v) => v !== 0), name).to.equal(true);
      }
    });

    it("gradients agree with finite differences (3 hidden, 2 steps)", () => {
      const net = withNameManager(() => stackedLSTM({ seqLen: 2, numHidden: 3, dtype: "float64" }));
      checkGradient(net, { shapes: { audio_data: [2, 2, 4] }, seed: 17 });
    });
  });

  describe("regression loss", () => {
    it("gives the gradients of Σ (W·x + b − label)²", () => {
      const net = withNameManager(() => regressionLoss());
      expect(net.listArguments()).to.deep.equal(["data", "fc_weight", "fc_bias", "label"]);
      expect(net.listOutputs()).to.deep.equal(["loss_output", "pred_output"]);
      const typeDict: Record<string, DType> = { data: "float64", fc_weight: "float64", fc_bias: "float64", label: "float64" };
      const exe = net.simpleBind({ ctx: reference(), shapes: { data: [32, 2], label: [32, 1] }, gradReq: "write", typeDict });
      const r = rng(23);
      const x = Array.from({ length: 64 }, () => 2 * r() - 1);
      const label = Array.from({ length: 32 }, () => 2 * r() - 1);
      const W = [0.3, -0.7];
      const b = 0.1;
      exe.argDict.data.set(x);
      exe.argDict.label.set(label);
      exe.argDict.fc_weight.set(W);
      exe.argDict.fc_bias.set([b]);
      const [loss, pred] = exe.forward(true);
      // The head gradient of the BlockGrad output reaches nothing; the loss output ignores its own.
      exe.backward([nd.ones([32, 1], { ctx: reference() }), nd.ones([32, 1], { ctx: reference() })]);

      const y = label.map((_, i) => W[0] * x[2 * i] + W[1] * x[2 * i + 1] + b);
      const resid = y.map((v, i) => v - label[i]);
      const close = (got: number[], want: number[]) => got.forEach((g, i) => expect(Math.abs(g - want[i]), `[${i}] ${g} vs ${want[i]}`).to.be.below(1e-12));
      close(pred.toArray(), y);
      close(loss.toArray(), resid.map((e) => e * e));
      // d/dW Σ e² = Σ 2e·x, d/db = Σ 2e, d/dlabel = −2e, d/dx = 2e·W.
      close(exe.gradDict.fc_weight.toArray(), [0, 1].map((j) => resid.reduce((s, e, i) => s + 2 * e * x[2 * i + j], 0)));
      close(exe.gradDict.fc_bias.toArray(), [resid.reduce((s, e) => s + 2 * e, 0)]);
      close(exe.gradDict.label.toArray(), resid.map((e) => -2 * e));
      close(exe.gradDict.data.toArray(), resid.flatMap((e) => [2 * e * W[0], 2 * e * W[1]]));
    });
  });
});
