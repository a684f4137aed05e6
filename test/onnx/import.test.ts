/**
 * ONNX import: one error listing every unsupported op, errors naming the node, parameters and
 * aux states of a small CNN checked against values computed by hand in this file, constant
 * folding of shape subgraphs, static graph inputs, and ONNX scalars.
 */
import { expect } from "chai";
import { fromONNX } from "../../runtime/onnx_import.js";
import { OnnxUnsupportedError } from "../../compiler/onnx/errors.js";
import { importOnnx } from "../../compiler/onnx/importer.js";
import { reference, cpu } from "../../runtime/context.js";
import { nd } from "../../runtime/nd.js";
import "../../runtime/executor/reference.js";
import "../../runtime/executor/compiled_binder.js";
import { buildModel, TensorSpec } from "./model_builder.js";
import { expectError } from "../helpers/expect_error.js";

function opsOf(json: string): string[] {
  return (JSON.parse(json) as { nodes: { op: string }[] }).nodes.map((n) => n.op).filter((o) => o !== "null");
}

describe("onnx/import", () => {
  it("lists every unsupported op and feature in one error, with node names", () => {
    const bytes = buildModel({
      nodes: [
        { op: "Relu", inputs: ["x"], outputs: ["a"], name: "relu1" },
        { op: "FooBar", inputs: ["a"], outputs: ["b"], name: "foo_a" },
        { op: "NonMaxSuppression", inputs: ["a", "a"], outputs: ["c"], name: "nms" },
        { op: "FooBar", inputs: ["c"], outputs: ["d"], name: "foo_b" },
        { op: "Thing", domain: "com.example", inputs: ["x"], outputs: ["e"], name: "custom" },
        { op: "MaxPool", inputs: ["x"], outputs: ["f"], name: "dilated_pool", attrs: { kernel_shape: { ints: [2, 2] }, dilations: { ints: [2, 2] } } },
        { op: "Add", inputs: ["d", "e"], outputs: ["g"], name: "add_after" },
      ],
      inputs: [{ name: "x", dims: [1, 1, 6, 6] }],
      outputs: [{ name: "g" }, { name: "f" }],
    });
    let err: unknown;
    try {
      importOnnx(bytes);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(OnnxUnsupportedError);
    const u = err as OnnxUnsupportedError;
    expect(u.items.map((i) => `${i.opType}@${i.nodeName}`)).to.deep.equal([
      "FooBar@foo_a",
      "NonMaxSuppression@nms",
      "FooBar@foo_b",
      "com.example:Thing@custom",
      "MaxPool@dilated_pool",
    ]);
    for (const part of ["5 nodes", "FooBar: foo_a, foo_b", "NonMaxSuppression: nms", "com.example:Thing: custom", "MaxPool: dilated_pool (dilations"])
      expect(u.message).to.include(part);
    // Nodes downstream of unsupported ones (add_after) are not reported again.
    expect(u.message).to.not.include("add_after");
  });

  it("names the node and op in mapping errors", () => {
    const reshapeNonConst = buildModel({
      nodes: [{ op: "Reshape", inputs: ["x", "s"], outputs: ["y"], name: "my_reshape" }],
      inputs: [{ name: "x", dims: [2, 3] }, { name: "s", type: 7, dims: [1] }],
      outputs: [{ name: "y" }],
    });
    expectError(() => importOnnx(reshapeNonConst), "ONNX node my_reshape (Reshape)", 'input 1 (shape, "s") must be a constant');
    const badConv = buildModel({
      nodes: [{ op: "Conv", inputs: ["x", "w"], outputs: ["y"], name: "conv_bad" }],
      inputs: [{ name: "x", dims: [1, 3, 5, 5] }],
      outputs: [{ name: "y" }],
      initializers: [{ name: "w", dims: [2, 4, 3, 3], values: new Array(72).fill(0) }],
    });
    expectError(() => importOnnx(badConv), "ONNX node conv_bad (Conv)", "Convolution", "[2,4,3,3]", "[2,3,3,3]");
  });

  it("imports a small CNN: parameters, aux states and values match a hand computation", () => {
    const convW = [1, 0, -1, 2, 0, -2, 1, 0, -1, 0.5, 0.5, 0.5, 0, 0, 0, -0.5, -0.5, -0.5];
    const fcW = Array.from({ length: 3 * 8 }, (_, i) => ((i * 7) % 5) / 5 - 0.4);
    const init: TensorSpec[] = [
      { name: "conv.w", dims: [2, 1, 3, 3], values: convW, raw: true },
      { name: "conv.b", dims: [2], values: [0.1, -0.2] },
      { name: "bn.scale", dims: [2], values: [1.5, 0.5] },
      { name: "bn.bias", dims: [2], values: [0, 0.25] },
      { name: "bn.mean", dims: [2], values: [0.2, -0.1] },
      { name: "bn.var", dims: [2], values: [4, 0.25] },
      { name: "fc.w", dims: [3, 8], values: fcW },
      { name: "fc.b", dims: [3], values: [0.01, 0.02, 0.03] },
    ];
    const bytes = buildModel({
      nodes: [
        { op: "Conv", inputs: ["x", "conv.w", "conv.b"], outputs: ["c"], attrs: { pads: { ints: [1, 1, 1, 1] } } },
        { op: "BatchNormalization", inputs: ["c", "bn.scale", "bn.bias", "bn.mean", "bn.var"], outputs: ["bn"], attrs: { epsilon: { f: 1e-3 } } },
        { op: "Relu", inputs: ["bn"], outputs: ["r"] },
        { op: "MaxPool", inputs: ["r"], outputs: ["p"], attrs: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } } },
        { op: "Flatten", inputs: ["p"], outputs: ["f"] },
        { op: "Gemm", inputs: ["f", "fc.w", "fc.b"], outputs: ["g"], attrs: { transB: { i: 1 } } },
        { op: "Softmax", inputs: ["g"], outputs: ["y"], attrs: { axis: { i: 1 } } },
      ],
      inputs: [{ name: "x", dims: ["N", 1, 4, 4] }],
      outputs: [{ name: "y" }],
      initializers: init,
      opset: 13,
    });
    const x = Array.from({ length: 16 }, (_, i) => Math.sin(i) * 2);
    // By hand: conv (pad 1) → BN (inference) → relu → 2×2 max pool → FC → softmax.
    const conv = (f: number, r: number, c: number): number => {
      let s = [0.1, -0.2][f];
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 3; j++) {
          const rr = r + i - 1;
          const cc = c + j - 1;
          if (rr >= 0 && rr < 4 && cc >= 0 && cc < 4) s += convW[f * 9 + i * 3 + j] * x[rr * 4 + cc];
        }
      return s;
    };
    const act = (f: number, r: number, c: number): number => {
      const bn = ((conv(f, r, c) - [0.2, -0.1][f]) / Math.sqrt([4, 0.25][f] + 1e-3)) * [1.5, 0.5][f] + [0, 0.25][f];
      return Math.max(bn, 0);
    };
    const pooled: number[] = [];
    for (let f = 0; f < 2; f++)
      for (let r = 0; r < 2; r++)
        for (let c = 0; c < 2; c++) pooled.push(Math.max(act(f, 2 * r, 2 * c), act(f, 2 * r, 2 * c + 1), act(f, 2 * r + 1, 2 * c), act(f, 2 * r + 1, 2 * c + 1)));
    const logits = [0, 1, 2].map((o) => pooled.reduce((s, v, k) => s + v * fcW[o * 8 + k], [0.01, 0.02, 0.03][o]));
    const z = logits.map((l) => Math.exp(l - Math.max(...logits)));
    const want = z.map((v) => v / z.reduce((a, b) => a + b, 0));

    const m = fromONNX(bytes, { inputShapes: { x: [1, 1, 4, 4] } });
    expect(Object.keys(m.argParams).sort()).to.deep.equal(["bn.bias", "bn.scale", "conv.b", "conv.w", "fc.b", "fc.w"]);
    expect(Object.keys(m.auxParams).sort()).to.deep.equal(["bn.mean", "bn.var"]);
    expect(m.inputs.map((i) => [i.name, i.shape])).to.deep.equal([["x", [1, 1, 4, 4]]]);
    expect(m.argParams["conv.w"].toArray()).to.deep.equal(convW);
    expect(opsOf(m.symbol.toJSON())).to.deep.equal(["Convolution", "BatchNorm", "relu", "Pooling", "Reshape", "FullyConnected", "softmax"]);
    for (const ctx of [reference(), cpu()]) {
      const exe = m.symbol.simpleBind({ ctx, shapes: { x: [1, 1, 4, 4] }, gradReq: "null", ...(ctx.deviceType === "cpu" ? { compile: { backend: "interpret" as const } } : {}) });
      exe.copyParamsFrom(m.argParams, m.auxParams);
      const got = exe.forward(false, { x })[0].toArray();
      got.forEach((v, i) => expect(v).to.be.closeTo(want[i], 1e-5));
    }
  });

  it("folds shape subgraphs (Shape → Gather → Concat → Reshape) into constants", () => {
    const bytes = buildModel({
      nodes: [
        { op: "Shape", inputs: ["x"], outputs: ["s"] },
        { op: "Constant", inputs: [], outputs: ["zero"], attrs: { value: { t: { dims: [], type: 7, values: [0] } } } },
        { op: "Gather", inputs: ["s", "zero"], outputs: ["n"] },
        { op: "Unsqueeze", inputs: ["n", "axes"], outputs: ["n1"] },
        { op: "Concat", inputs: ["n1", "minus1"], outputs: ["target"], attrs: { axis: { i: 0 } } },
        { op: "Reshape", inputs: ["x", "target"], outputs: ["y"], name: "flat" },
      ],
      inputs: [{ name: "x", dims: [2, 3, 4] }],
      outputs: [{ name: "y" }],
      initializers: [
        { name: "axes", dims: [1], type: 7, values: [0] },
        { name: "minus1", dims: [1], type: 7, values: [-1], raw: true },
      ],
      opset: 13,
    });
    const m = importOnnx(bytes);
    expect(opsOf(m.symbol.toJSON())).to.deep.equal(["Reshape"]);
    expect(m.symbol.listArguments()).to.deep.equal(["x"]);
    expect(Object.keys(m.argParams)).to.deep.equal([]);
    expect(m.symbol.inferShape({ x: [2, 3, 4] })[1]).to.deep.equal([[2, 12]]);
  });

  it("folds graph inputs given as static values, and only those an op needs as constants", () => {
    const bytes = buildModel({
      nodes: [
        { op: "Add", inputs: ["x", "b"], outputs: ["a"] },
        { op: "Reshape", inputs: ["a", "shape"], outputs: ["y"] },
      ],
      inputs: [{ name: "x", dims: [2, 3] }, { name: "b", dims: [2, 3] }, { name: "shape", type: 7, dims: [2] }],
      outputs: [{ name: "y" }],
    });
    const m = fromONNX(bytes, { staticInputs: { shape: nd.array([3, 2], { dtype: "int64" }), b: nd.zeros([2, 3]) } });
    expect(m.foldedInputs).to.deep.equal(["shape"]);
    expect(m.symbol.listArguments()).to.deep.equal(["x", "b"]);
    const exe = m.symbol.simpleBind({ ctx: reference(), shapes: { x: [2, 3], b: [2, 3] } });
    const y = exe.forward(false, { x: [1, 2, 3, 4, 5, 6], b: [1, 1, 1, 1, 1, 1] })[0];
    expect(y.shape).to.deep.equal([3, 2]);
    expect(y.toArray()).to.deep.equal([2, 3, 4, 5, 6, 7]);
  });

  it("marks ONNX scalars, which Kiln holds as shape (1,)", () => {
    const bytes = buildModel({
      nodes: [{ op: "ReduceSum", inputs: ["x"], outputs: ["y"], attrs: { keepdims: { i: 0 } } }],
      inputs: [{ name: "x", dims: [2, 2] }],
      outputs: [{ name: "y", dims: [] }],
    });
    const m = importOnnx(bytes);
    expect(m.outputs).to.deep.equal([{ name: "y", scalar: true }]);
    const exe = m.symbol.simpleBind({ ctx: reference(), shapes: { x: [2, 2] } });
    expect(exe.forward(false, { x: [1, 2, 3, 4] })[0].toArray()).to.deep.equal([10]);
  });
});
