import { expect } from "chai";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sym, withNameManager } from "../../index.js";

describe("MXNet symbol JSON", () => {
  it("writes MXNet's layout: field order, string attrs, arg_nodes, node_row_ptr with hidden outputs, heads, version", () =>
    withNameManager(() => {
      const data = sym.Variable("data");
      const conv = sym.Convolution({ data, kernel: [3, 3], num_filter: 8, pad: [1, 1], name: "conv" });
      const bn = sym.BatchNorm({ data: conv, name: "bn", eps: 1e-5 });
      const act = sym.Activation({ data: bn, act_type: "relu", name: "relu" });
      const doc = JSON.parse(act.toJSON());
      expect(Object.keys(doc)).to.deep.equal(["nodes", "arg_nodes", "node_row_ptr", "heads", "attrs"]);
      expect(doc.attrs).to.deep.equal({ mxnet_version: ["int", 10901] });
      expect(doc.nodes.map((n: { name: string }) => n.name)).to.deep.equal([
        "data",
        "conv_weight",
        "conv_bias",
        "conv",
        "bn_gamma",
        "bn_beta",
        "bn_moving_mean",
        "bn_moving_var",
        "bn",
        "relu",
      ]);
      expect(Object.keys(doc.nodes[3])).to.deep.equal(["op", "name", "attrs", "inputs"]);
      expect(doc.nodes[3].attrs).to.deep.equal({ kernel: "(3, 3)", num_filter: "8", pad: "(1, 1)" });
      expect(doc.nodes[8].attrs).to.deep.equal({ eps: "1e-05" });
      expect(doc.nodes[8].inputs).to.deep.equal([
        [3, 0, 0],
        [4, 0, 0],
        [5, 0, 0],
        [6, 0, 1],
        [7, 0, 1],
      ]);
      expect(Object.keys(doc.nodes[0])).to.deep.equal(["op", "name", "inputs"]);
      expect(doc.arg_nodes).to.deep.equal([0, 1, 2, 4, 5, 6, 7]);
      // BatchNorm has three outputs (two hidden): the row pointer counts them.
      expect(doc.node_row_ptr).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 11, 12]);
      expect(doc.heads).to.deep.equal([[9, 0, 0]]);
      expect(act.toJSON()).to.contain('"attrs": {"act_type": "relu"}, \n');
    }));

  it("round-trips: fromJSON(toJSON(s)) lists and infers the same, and writes the same text", () =>
    withNameManager(() => {
      const data = sym.Variable("data", { shape: [0, 20], lr_mult: 2 });
      const fc = sym.FullyConnected({ data, num_hidden: 5, name: "fc", attr: { note: "x" } });
      const out = sym.Group([sym.SoftmaxOutput({ data: fc, name: "sm" }), sym.BlockGrad({ data: fc, name: "bg" })]);
      const back = sym.fromJSON(out.toJSON());
      expect(back.listArguments()).to.deep.equal(out.listArguments());
      expect(back.listOutputs()).to.deep.equal(out.listOutputs());
      expect(back.attrDict()).to.deep.equal(out.attrDict());
      expect(back.inferShape({ data: [4, 20] })).to.deep.equal(out.inferShape({ data: [4, 20] }));
      expect(back.toJSON()).to.equal(out.toJSON());
    }));

  it("save and load through a file", () =>
    withNameManager(() => {
      const dir = mkdtempSync(join(tmpdir(), "kiln-json-"));
      const s = sym.Activation({ data: sym.Variable("x"), act_type: "tanh", name: "t" });
      s.save(join(dir, "t-symbol.json"));
      expect(readFileSync(join(dir, "t-symbol.json"), "utf8")).to.equal(s.toJSON());
      expect(sym.load(join(dir, "t-symbol.json")).toJSON()).to.equal(s.toJSON());
    }));

  it("reads legacy keys: param/attr, two-element inputs, no node_row_ptr, 0.8 hidden keys", () => {
    const legacy = {
      nodes: [
        { op: "null", param: {}, name: "data", inputs: [], backward_source_id: -1, attr: { ctx_group: "stage1", lr_mult: "0.2" } },
        { op: "null", param: {}, name: "fc_weight", inputs: [], backward_source_id: -1 },
        { op: "null", param: {}, name: "fc_bias", inputs: [], backward_source_id: -1 },
        { op: "FullyConnected", param: { num_hidden: "3", no_bias: "False" }, name: "fc", inputs: [[0, 0], [1, 0], [2, 0]], backward_source_id: -1 },
        { op: "_Plus", param: {}, name: "p", inputs: [[3, 0], [3, 0]], backward_source_id: -1 },
      ],
      arg_nodes: [0, 1, 2],
      heads: [[4, 0]],
    };
    const s = sym.fromJSON(JSON.stringify(legacy));
    expect(s.getInternals().get("data").listAttr()).to.deep.equal({ __ctx_group__: "stage1", __lr_mult__: "0.2" });
    expect(s.graph().nodes[4].op!.name).to.equal("elemwise_add");
    expect(s.inferShape({ data: [2, 7] })[1]).to.deep.equal([[2, 3]]);
  });

  it("upgrades 0.8 BatchNorm without aux inputs", () => {
    const legacy = {
      nodes: [
        { op: "null", param: {}, name: "data", inputs: [] },
        { op: "null", param: {}, name: "bn_gamma", inputs: [] },
        { op: "null", param: {}, name: "bn_beta", inputs: [] },
        { op: "BatchNorm", param: { eps: "0.001", fix_gamma: "True" }, name: "bn", inputs: [[0, 0], [1, 0], [2, 0]] },
      ],
      arg_nodes: [0, 1, 2],
      heads: [[3, 0]],
    };
    const s = sym.fromJSON(JSON.stringify(legacy));
    expect(s.listAuxiliaryStates()).to.deep.equal(["bn_moving_mean", "bn_moving_var"]);
  });

  it("fails clearly on malformed input and unknown ops, naming the node", () => {
    expect(() => sym.fromJSON("{ not json")).to.throw(/symbol JSON is malformed/);
    expect(() => sym.fromJSON(JSON.stringify({ nodes: [] }))).to.throw(/"nodes" and "heads"/);
    const unknown = { nodes: [{ op: "null", name: "x", inputs: [] }, { op: "FancyOp", name: "fancy1", inputs: [[0, 0, 0]] }], heads: [[1, 0, 0]] };
    expect(() => sym.fromJSON(JSON.stringify(unknown))).to.throw(/node 1 \(fancy1\): unknown operator "FancyOp"/);
    const forward = { nodes: [{ op: "Activation", name: "a", attrs: { act_type: "relu" }, inputs: [[1, 0, 0]] }], heads: [[0, 0, 0]] };
    expect(() => sym.fromJSON(JSON.stringify(forward))).to.throw(/node 0 \(a\): input 0 refers to node 1, which does not come before it/);
    const badParam = { nodes: [{ op: "null", name: "x", inputs: [] }, { op: "Activation", name: "a", attrs: { act_type: "swish" }, inputs: [[0, 0, 0]] }], heads: [[1, 0, 0]] };
    expect(() => sym.fromJSON(JSON.stringify(badParam))).to.throw(/node 1 \(a\).*act_type/);
    const missing = { nodes: [{ op: "null", name: "x", inputs: [] }, { op: "FullyConnected", name: "fc", inputs: [[0, 0, 0], [0, 0, 0], [0, 0, 0]] }], heads: [[1, 0, 0]] };
    expect(() => sym.fromJSON(JSON.stringify(missing))).to.throw(/fc.*required parameter "num_hidden"/);
  });
});
