import { expect } from "chai";
import { sym, withNameManager, NameManager } from "../../index.js";

describe("symbol naming and listing (MXNET.md)", () => {
  it("auto-names nodes per hint and names missing inputs <node>_<input>", () =>
    withNameManager(() => {
      const data = sym.Variable("data");
      const fc1 = sym.FullyConnected({ data, num_hidden: 128, name: "fc1" });
      const act = sym.Activation({ data: fc1, act_type: "relu" });
      expect(act.name).to.equal("activation0");
      const fc2 = sym.FullyConnected({ data: act, num_hidden: 10 });
      expect(fc2.name).to.equal("fullyconnected0");
      const out = sym.SoftmaxOutput({ data: fc2, name: "softmax" });
      expect(out.listArguments()).to.deep.equal([
        "data",
        "fc1_weight",
        "fc1_bias",
        "fullyconnected0_weight",
        "fullyconnected0_bias",
        "softmax_label",
      ]);
      expect(out.listOutputs()).to.deep.equal(["softmax_output"]);
      expect(sym.Activation({ data, act_type: "tanh" }).name).to.equal("activation1");
    }));

  it("copies the node's attributes onto auto-created variables", () =>
    withNameManager(() => {
      const fc = sym.FullyConnected({ data: sym.Variable("data"), num_hidden: 128, name: "fc1" });
      const w = fc.getInternals().get("fc1_weight");
      expect(w.listAttr()).to.deep.equal({ num_hidden: "128" });
    }));

  it("names arithmetic helpers as MXNet does", () =>
    withNameManager(() => {
      const a = sym.Variable("a");
      const b = sym.Variable("b");
      const c = a.plus(b);
      expect(c.name).to.equal("_plus0");
      expect(c.graph().nodes[2].op!.name).to.equal("elemwise_add");
      const d = a.mul(2);
      expect(d.name).to.equal("_mulscalar0");
      expect(d.attr("scalar")).to.equal("2");
      expect(a.minus(b).name).to.equal("_minus0");
      expect(a.div(3).name).to.equal("_divscalar0");
      expect(a.neg().name).to.equal("_mulscalar1");
      expect(a.pow(b).name).to.equal("_power0");
      expect(a.rminus(1).name).to.equal("_rminusscalar0");
    }));

  it("lists MakeLoss(stop_gradient(3*b) + a) arguments as [b, a]", () =>
    withNameManager(() => {
      const a = sym.Variable("a");
      const b = sym.Variable("b");
      const loss = sym.MakeLoss({ data: sym.stop_gradient({ data: b.mul(3) }).plus(a) });
      expect(loss.listArguments()).to.deep.equal(["b", "a"]);
    }));

  it("lists aux states separately and hidden outputs stay hidden", () =>
    withNameManager(() => {
      const bn = sym.BatchNorm({ data: sym.Variable("data"), name: "bn" });
      expect(bn.listArguments()).to.deep.equal(["data", "bn_gamma", "bn_beta"]);
      expect(bn.listAuxiliaryStates()).to.deep.equal(["bn_moving_mean", "bn_moving_var"]);
      expect(bn.listInputs()).to.deep.equal(["data", "bn_gamma", "bn_beta", "bn_moving_mean", "bn_moving_var"]);
      expect(bn.listOutputs()).to.deep.equal(["bn_output"]);
      const bn2 = sym.BatchNorm({ data: sym.Variable("x"), name: "bn2", output_mean_var: true });
      expect(bn2.listOutputs()).to.deep.equal(["bn2_output", "bn2_mean", "bn2_var"]);
    }));

  it("getInternals lists every variable and visible output; get() picks by name or index", () =>
    withNameManager(() => {
      const data = sym.Variable("data");
      const fc1 = sym.FullyConnected({ data, num_hidden: 4, name: "fc1" });
      const act = sym.Activation({ data: fc1, act_type: "relu", name: "relu1" });
      const internals = act.getInternals();
      expect(internals.listOutputs()).to.deep.equal(["data", "fc1_weight", "fc1_bias", "fc1_output", "relu1_output"]);
      expect(internals.get("fc1_output").name).to.equal("fc1");
      expect(internals.get(0).name).to.equal("data");
      expect(() => internals.get("nope")).to.throw(/no output named "nope"/);
      expect(act.getChildren()!.listOutputs()).to.deep.equal(["fc1_output"]);
      expect(data.getChildren()).to.equal(undefined);
    }));

  it("Group collects outputs; a group has no name", () =>
    withNameManager(() => {
      const a = sym.Variable("a");
      const g = sym.Group([a.plus(1), a.mul(2)]);
      expect(g.name).to.equal(undefined);
      expect(g.listOutputs()).to.deep.equal(["_plusscalar0_output", "_mulscalar0_output"]);
    }));

  it("SliceChannel outputs are numbered", () =>
    withNameManager(() => {
      const s = sym.SliceChannel({ data: sym.Variable("x"), num_outputs: 3, name: "slice" });
      expect(s.listOutputs()).to.deep.equal(["slice_output0", "slice_output1", "slice_output2"]);
    }));

  it("attributes: attr, listAttr, attrDict, setAttr and variable options", () =>
    withNameManager(() => {
      const x = sym.Variable("x", { shape: [2, 3], dtype: "float64", lr_mult: 0.5, wd_mult: 2, init: "zeros", attr: { mood: "calm" } });
      expect(x.listAttr()).to.deep.equal({ __shape__: "(2, 3)", __dtype__: "1", __lr_mult__: "0.5", __wd_mult__: "2", __init__: "zeros", mood: "calm" });
      const y = sym.Activation({ data: x, act_type: "relu", name: "act", attr: { group: "g1" } });
      expect(y.attr("group")).to.equal("g1");
      expect(y.attr("act_type")).to.equal("relu");
      y.setAttr({ note: "hello" });
      expect(y.attrDict()).to.deep.equal({
        x: x.listAttr(),
        act: { group: "g1", act_type: "relu", note: "hello" },
      });
      expect(() => y.setAttr({ act_type: "nonsense" })).to.throw(/act_type/);
      expect(y.attr("act_type")).to.equal("relu");
    }));

  it("NameManager prefixes and independent counters", () => {
    const names = withNameManager(() => {
      const act = sym.Activation({ data: sym.Variable("d"), act_type: "relu" });
      return [act.name, ...act.listArguments()];
    }, new NameManager("net1_"));
    // Variables keep their names, as mx.sym.Variable does.
    expect(names).to.deep.equal(["net1_activation0", "d"]);
  });

  it("rejects unknown arguments and non-symbol inputs with a clear error", () =>
    withNameManager(() => {
      const data = sym.Variable("data");
      expect(() => sym.FullyConnected({ data, num_hidden: 3, nmu_hidden: 4 } as never)).to.throw(/unknown argument "nmu_hidden".*num_hidden/);
      expect(() => sym.FullyConnected({ data } as never)).to.throw(/required parameter "num_hidden"/);
      expect(() => sym.FullyConnected({ data: 3, num_hidden: 3 } as never)).to.throw(/must be a Symbol/);
      expect(() => sym.Activation({ data, act_type: "swish" as never })).to.throw(/act_type.*"swish" is not one of/);
    }));
});
