import { expect } from "chai";
import { sym, reference, nd, withNameManager, NDArray } from "../../index.js";

const ref = reference();
const close = (got: number[], want: number[], tol = 1e-6): void => {
  expect(got.length).to.equal(want.length);
  got.forEach((g, i) => expect(Math.abs(g - want[i]), `[${i}] got ${g} want ${want[i]}`).to.be.below(tol));
};

describe("reference executor", () => {
  it("SoftmaxOutput: forward is softmax, backward is softmax - onehot (MXNET.md example)", () =>
    withNameManager(() => {
      const out = sym.SoftmaxOutput({ data: sym.Variable("x"), name: "softmax" });
      const exe = out.simpleBind({ ctx: ref, shapes: { x: [1, 4] } });
      exe.forward(true, { x: [1, 6, 4, 2], softmax_label: [1] });
      const p = [0.005806628, 0.861780069, 0.116629249, 0.015784052];
      close(exe.outputs[0].toArray(), p);
      exe.backward();
      close(exe.gradDict.x.toArray(), [p[0], p[1] - 1, p[2], p[3]]);
    }));

  it("MakeLoss(BlockGrad(3b) + a): forward [1, 5], grads b = [0, 0], a = [1, 1]", () =>
    withNameManager(() => {
      const a = sym.Variable("a");
      const b = sym.Variable("b");
      const loss = sym.MakeLoss({ data: sym.BlockGrad({ data: b.mul(3) }).plus(a) });
      const exe = loss.simpleBind({ ctx: ref, shapes: { a: [2], b: [2] } });
      exe.forward(true, { a: [1, 2], b: [0, 1] });
      expect(exe.outputs[0].toArray()).to.deep.equal([1, 5]);
      exe.backward();
      expect(exe.gradDict.b.toArray()).to.deep.equal([0, 0]);
      expect(exe.gradDict.a.toArray()).to.deep.equal([1, 1]);
    }));

  it("bind with caller arrays; gradReq write, add and null", () =>
    withNameManager(() => {
      const x = sym.Variable("x");
      const w = sym.Variable("w");
      const y = x.mul(w);
      const args = { x: nd.array([1, 2, 3], { ctx: ref }), w: nd.array([4, 5, 6], { ctx: ref }) };
      const gx = nd.zeros([3], { ctx: ref });
      const gw = nd.full([3], 10, { ctx: ref });
      const exe = y.bind({ ctx: ref, args, argsGrad: { x: gx, w: gw }, gradReq: { x: "write", w: "add" } });
      exe.forward(true);
      exe.backward(nd.ones([3], { ctx: ref }));
      exe.backward(nd.ones([3], { ctx: ref }));
      expect(gx.toArray()).to.deep.equal([4, 5, 6]);
      expect(gw.toArray()).to.deep.equal([12, 14, 16]);
      const exe2 = y.bind({ ctx: ref, args, argsGrad: [null, gw] });
      expect(Object.keys(exe2.gradDict)).to.deep.equal(["w"]);
    }));

  it("forward feeds check shapes with MXNet's message; backward needs head gradients for non-loss outputs", () =>
    withNameManager(() => {
      const y = sym.Variable("data").mul(2);
      const exe = y.simpleBind({ ctx: ref, shapes: { data: [2, 3] } });
      expect(() => exe.forward(false, { data: nd.zeros([3, 2], { ctx: ref }) })).to.throw(
        "Shape not match! Argument data, need: (2,3), received: (3,2)",
      );
      expect(() => exe.forward(false, { dta: [1] })).to.throw(/"dta" is not an argument/);
      expect(() => exe.backward()).to.throw(/forward\(isTrain=true\)/);
      exe.forward(true, { data: [1, 2, 3, 4, 5, 6] });
      expect(() => exe.backward()).to.throw(/_mulscalar0_output is not a loss, so it needs a head gradient of shape \(2,3\)/);
      expect(() => exe.backward(nd.ones([3], { ctx: ref }))).to.throw(/head gradient 0 has shape \(3,\)/);
      // the executor stays usable after errors
      exe.backward(nd.ones([2, 3], { ctx: ref }));
      expect(exe.gradDict.data.toArray()).to.deep.equal([2, 2, 2, 2, 2, 2]);
    }));

  it("needs no head gradient for outputs whose gradient nothing uses (Group of MakeLoss and BlockGrad)", () =>
    withNameManager(() => {
      const x = sym.Variable("x");
      const net = sym.Group([sym.MakeLoss({ data: x.mul(2) }), sym.BlockGrad({ data: x })]);
      const exe = net.simpleBind({ ctx: ref, shapes: { x: [2] } });
      exe.forward(true, { x: [1, 2] });
      exe.backward();
      expect(exe.gradDict.x.toArray()).to.deep.equal([2, 2]);
    }));

  it("dicts, outputDict and bind errors", () =>
    withNameManager(() => {
      const fc = sym.FullyConnected({ data: sym.Variable("data"), num_hidden: 2, name: "fc" });
      const exe = fc.simpleBind({ ctx: ref, shapes: { data: [3, 4] }, gradReq: "null" });
      expect(Object.keys(exe.argDict)).to.deep.equal(["data", "fc_weight", "fc_bias"]);
      expect(exe.gradDict).to.deep.equal({});
      expect(Object.keys(exe.outputDict)).to.deep.equal(["fc_output"]);
      expect(exe.argDict.fc_weight.shape).to.deep.equal([2, 4]);
      expect(() => fc.bind({ ctx: ref, args: { data: nd.zeros([3, 4]) } })).to.throw(/args is missing "fc_weight"/);
      expect(() => fc.bind({ ctx: ref, args: { data: nd.zeros([3, 4]), fc_weight: nd.zeros([2, 5]), fc_bias: nd.zeros([2]) } })).to.throw(
        /Error in operator fc \(FullyConnected\)/,
      );
    }));

  it("reshape shares parameters; copyParamsFrom copies by name", () =>
    withNameManager(() => {
      const fc = sym.FullyConnected({ data: sym.Variable("data"), num_hidden: 2, name: "fc" });
      const exe = fc.simpleBind({ ctx: ref, shapes: { data: [3, 4] } });
      exe.copyParamsFrom({ fc_weight: nd.array([1, 0, 0, 0, 0, 1, 0, 0], { shape: [2, 4] }), fc_bias: nd.array([0.5, -0.5]) });
      expect(() => exe.copyParamsFrom({ other: nd.zeros([1]) })).to.throw(/"other" is not in this executor/);
      exe.copyParamsFrom({ other: nd.zeros([1]) }, {}, true);
      const small = exe.reshape({ data: [1, 4] });
      expect(small.argDict.fc_weight).to.equal(exe.argDict.fc_weight);
      small.forward(false, { data: [1, 2, 3, 4] });
      expect(small.outputs[0].toArray()).to.deep.equal([1.5, 1.5]);
      expect(small.outputs[0].shape).to.deep.equal([1, 2]);
      expect(() => exe.reshape({ data: [3, 5] })).to.throw(/fc_weight would change shape/);
    }));

  it("BatchNorm updates its moving statistics in training only", () =>
    withNameManager(() => {
      const bn = sym.BatchNorm({ data: sym.Variable("x"), name: "bn", fix_gamma: false, momentum: 0.9 });
      const exe = bn.simpleBind({ ctx: ref, shapes: { x: [2, 1] } });
      exe.argDict.bn_gamma.set(1);
      exe.auxDict.bn_moving_var.set(1);
      exe.forward(false, { x: [1, 3] });
      expect(exe.auxDict.bn_moving_mean.toArray()).to.deep.equal([0]);
      exe.forward(true, { x: [1, 3] });
      close(exe.auxDict.bn_moving_mean.toArray(), [0.2]);
      close(exe.auxDict.bn_moving_var.toArray(), [0.9 + 0.1 * 1]);
    }));

  it("NDArray basics on the reference context", () => {
    const a = nd.array([[1, 2], [3, 4]], { ctx: ref, dtype: "int32" });
    expect(a.shape).to.deep.equal([2, 2]);
    a.set([1.7, -2.7, 3, 4]);
    expect(a.toArray()).to.deep.equal([1, -2, 3, 4]);
    const b = a.copyTo(new NDArray([2, 2], "float32"));
    expect(b.toArray()).to.deep.equal([1, -2, 3, 4]);
    expect(() => a.set([1])).to.throw(/needs 4 values, got 1/);
    expect(nd.full([1], 3).asScalar()).to.equal(3);
  });
});
