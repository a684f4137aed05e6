/**
 * ONNX export (compiler/onnx/export): the shared MNIST models with their trained weights,
 * ResNet-18 with seeded ones (fix_gamma BatchNorms included) and a small graph using every
 * emitter are exported, imported back with fromONNX, and run on the reference executor: the
 * outputs must match the original symbol's. Where onnxruntime-node is installed (an optional
 * dependency) ONNX Runtime runs the same files and must agree too. Unsupported ops and bad
 * calls fail with one error that names them.
 */
import { expect } from "chai";
import { sym, nd, reference, cpu, NDArray, Symbol } from "../../index.js";
import { toONNX, exportedOps, OnnxExportError, OnnxExportUnsupportedError } from "../../compiler/onnx/export/index.js";
import type { ParamValue } from "../../compiler/onnx/export/index.js";
import { fromONNX } from "../../runtime/onnx_import.js";
import { decodeModel } from "../../compiler/onnx/proto.js";
import { loadParams, loadSymbolFile } from "../executor/model_compare.js";

type Params = { args: Record<string, NDArray>; aux: Record<string, NDArray> };

function seeded(n: number, seed: number, lo: number, hi: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), lo + ((hi - lo) * s) / 4294967296));
}

/** Seeded parameters for every argument but the inputs in `shapes` and labels (weights with variance 1/fan_in). */
function seededParams(net: Symbol, shapes: Record<string, number[]>): Params {
  const [argShapes, , auxShapes] = net.inferShape(shapes);
  const out: Params = { args: {}, aux: {} };
  let k = 100;
  const make = (name: string, shape: number[]): NDArray => {
    const size = shape.reduce((a, b) => a * b, 1);
    const fan = size / Math.max(1, shape[0]);
    const [lo, hi] = name.endsWith("_weight") ? [-Math.sqrt(3 / fan), Math.sqrt(3 / fan)] : name.endsWith("_gamma") || name.endsWith("_var") ? [0.5, 1.5] : [-0.2, 0.2];
    return nd.array(Array.from(seeded(size, ++k, lo, hi)), { shape });
  };
  net.listArguments().forEach((name, i) => {
    if (!(name in shapes) && !name.endsWith("_label")) out.args[name] = make(name, argShapes[i]);
  });
  net.listAuxiliaryStates().forEach((name, i) => (out.aux[name] = make(name, auxShapes[i])));
  return out;
}

/** Every output of `net` on the reference executor. */
function runReference(net: Symbol, p: { args: Record<string, NDArray>; aux: Record<string, NDArray> }, inputs: Record<string, Float32Array>, shapes: Record<string, number[]>): Float64Array[] {
  const exe = net.simpleBind({ ctx: reference(), shapes, gradReq: "null" });
  exe.copyParamsFrom(p.args, p.aux, true);
  for (const [k, v] of Object.entries(inputs)) exe.argDict[k].set(v);
  exe.forward(false);
  return exe.outputs.map((o) => o.toFloat64());
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).to.equal(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function scaleOf(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return Math.max(1, m);
}

/** Exports, imports back, runs both on the reference executor; returns the exported bytes. */
function roundTrip(net: Symbol, p: Params, shapes: Record<string, number[]>, what: string): Uint8Array {
  const inputs = Object.fromEntries(Object.entries(shapes).map(([k, s], i) => [k, seeded(s.reduce((a, b) => a * b, 1), 7 + i, -1, 1)]));
  const bytes = toONNX(net, p.args, p.aux, { shapes, opset: 13 });
  const r = fromONNX(bytes);
  expect(r.inputs.map((i) => i.name)).to.deep.equal(Object.keys(shapes));
  const want = runReference(net, p, inputs, shapes);
  const got = runReference(r.symbol, { args: r.argParams, aux: r.auxParams }, inputs, shapes);
  expect(got.length, `${what}: outputs`).to.equal(want.length);
  want.forEach((w, i) => {
    const d = maxAbsDiff(got[i], w);
    expect(d, `${what} output ${i}: max |diff| ${d}`).to.be.at.most(1e-6 * scaleOf(w));
  });
  return bytes;
}

interface OrtLike {
  InferenceSession: { create(b: Uint8Array): Promise<{ inputNames: string[]; outputNames: string[]; run(f: Record<string, unknown>): Promise<Record<string, { data: ArrayLike<number> }>> }> };
  Tensor: new (t: "float32", d: Float32Array, dims: number[]) => unknown;
}

async function tryOrt(): Promise<OrtLike | undefined> {
  const name = "onnxruntime-node";
  try {
    const m = (await import(name)) as OrtLike & { default?: OrtLike };
    return m.InferenceSession ? m : m.default;
  } catch {
    return undefined;
  }
}

/** ONNX Runtime on the exported file against the reference executor on the original symbol. */
async function checkOrt(ort: OrtLike, net: Symbol, p: Params, shapes: Record<string, number[]>, what: string): Promise<void> {
  const inputs = Object.fromEntries(Object.entries(shapes).map(([k, s], i) => [k, seeded(s.reduce((a, b) => a * b, 1), 7 + i, -1, 1)]));
  const session = await ort.InferenceSession.create(toONNX(net, p.args, p.aux, { shapes }));
  const feeds = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, new ort.Tensor("float32", v, shapes[k])]));
  const out = await session.run(feeds);
  const want = runReference(net, p, inputs, shapes);
  session.outputNames.forEach((name, i) => {
    const d = maxAbsDiff(out[name].data, want[i]);
    expect(d, `${what} output ${i} (${name}) on ONNX Runtime: max |diff| ${d}`).to.be.at.most(1e-4 * scaleOf(want[i]));
  });
}

/** A small graph with every emitter and the features each covers. */
function everyEmitter(): { net: Symbol; shapes: Record<string, number[]> } {
  const x = sym.Variable("data");
  const c1 = sym.Convolution({ data: x, kernel: [3, 3], num_filter: 4, stride: [2, 2], pad: [1, 1], name: "c1" });
  const c2 = sym.Convolution({ data: c1, kernel: [1, 1], num_filter: 4, num_group: 2, no_bias: true, name: "c2" });
  const bn = sym.BatchNorm({ data: c2, fix_gamma: false, eps: 1e-3, name: "bn" });
  const bnFixed = sym.BatchNorm({ data: c1, fix_gamma: true, name: "bnf" });
  const sum = sym.add_n({ data: [sym.Activation({ data: bn, act_type: "softrelu", name: "sr" }), sym.Activation({ data: bnFixed, act_type: "softsign", name: "ss" }), sym.sigmoid({ data: c1, name: "sg" })], name: "sum3" });
  const avg = sym.Pooling({ data: sum, kernel: [3, 3], stride: [2, 2], pad: [1, 1], pool_type: "avg", count_include_pad: false, name: "avg" });
  const avgPad = sym.Pooling({ data: sum, kernel: [3, 3], stride: [2, 2], pad: [1, 1], pool_type: "avg", name: "avgpad" });
  const maxFull = sym.Pooling({ data: sym.Activation({ data: sum, act_type: "tanh", name: "th" }), kernel: [2, 2], stride: [2, 2], pool_type: "max", pooling_convention: "full", name: "maxfull" });
  const glob = sym.Pooling({ data: sum, kernel: [1, 1], global_pool: true, pool_type: "max", name: "gmax" });
  const added = sym.broadcast_add({ lhs: sym.elemwise_add({ lhs: avg, rhs: avgPad, name: "add2" }), rhs: glob, name: "badd" });
  const drop = sym.Dropout({ data: added, p: 0.5, name: "drop" });
  const fcFlat = sym.FullyConnected({ data: drop, num_hidden: 6, name: "fc_flat" });
  const seq = sym.Reshape({ data: maxFull, shape: [0, 4, -1], name: "seq" });
  const fc3 = sym.FullyConnected({ data: seq, num_hidden: 5, flatten: false, name: "fc3" });
  const fc3nb = sym.FullyConnected({ data: seq, num_hidden: 3, flatten: false, no_bias: true, name: "fc3nb" });
  const sm = sym.softmax({ data: fc3, axis: 1, temperature: 2, name: "sm_t" });
  const lsm = sym.log_softmax({ data: fc3nb, name: "lsm" });
  const so = sym.SoftmaxOutput({ data: sym.relu({ data: fcFlat, name: "r" }), name: "so" });
  const so4 = sym.SoftmaxOutput({ data: added, name: "so4" });
  const soMulti = sym.SoftmaxOutput({ data: added, multi_output: true, name: "som" });
  return { net: sym.Group([so, sm, lsm, so4, soMulti]), shapes: { data: [2, 3, 13, 13] } };
}

describe("onnx/export", function () {
  this.timeout(60000);

  it("round-trips the shared MNIST models with their trained weights", () => {
    for (const [model, epoch] of [["mnist", "0035"], ["lenet", "0001"]]) {
      const p = loadParams(model, epoch);
      const bytes = roundTrip(loadSymbolFile(model), p, { data: [3, 1, 28, 28] }, model);
      const m = decodeModel(bytes);
      expect(m.irVersion).to.equal(7);
      expect(m.opsets.get("")).to.equal(13);
      expect(m.producerName).to.equal("kiln");
      expect(m.graph.initializers.map((t) => t.name).sort()).to.deep.equal(Object.keys(p.args).sort());
      const ops = m.graph.nodes.map((n) => n.opType);
      expect(ops).to.include.members(["Conv", "MaxPool", "Gemm", model === "mnist" ? "Tanh" : "Relu", "Flatten"]);
    }
  });

  it("round-trips ResNet-18 (seeded weights; fix_gamma writes a scale of ones; the label is dropped)", () => {
    const net = loadSymbolFile("resnet-18");
    const shapes = { data: [1, 3, 32, 32] };
    const p = seededParams(net, shapes);
    const bytes = roundTrip(net, p, shapes, "resnet-18");
    const m = decodeModel(bytes);
    expect(m.graph.inputs.map((i) => i.name)).to.deep.equal(["data"]);
    expect(m.graph.outputs.map((o) => o.name)).to.deep.equal(["softmax_output"]);
    expect(m.graph.outputs[0].shape!.map((d) => d.dimValue)).to.deep.equal([1, 1000]);
    const inits = new Set(m.graph.initializers.map((t) => t.name));
    // bn_data has fix_gamma=True: its gamma is not written, a constant of ones is.
    expect(inits.has("bn_data_gamma")).to.equal(false);
    const fixed = m.graph.initializers.find((t) => t.name === "bn_data_gamma_fixed")!;
    expect(fixed.dims).to.deep.equal([3]);
    expect(Array.from(new Float32Array(new Uint8Array(fixed.rawData!).buffer))).to.deep.equal([1, 1, 1]);
    expect(inits.has("bn0_moving_var")).to.equal(true);
    const count = (op: string): number => m.graph.nodes.filter((n) => n.opType === op).length;
    expect(count("Conv")).to.equal(21);
    expect(count("BatchNormalization")).to.equal(19);
    expect(count("Add")).to.equal(8);
    expect(count("GlobalAveragePool")).to.equal(1);
    expect(count("Softmax")).to.equal(1);
  });

  it("round-trips a graph using every emitter (grouped conv, pools, flatten=False, temperature, SoftmaxOutput variants)", () => {
    const { net, shapes } = everyEmitter();
    const p = seededParams(net, shapes);
    const bytes = roundTrip(net, p, shapes, "every emitter");
    const ops = new Set(decodeModel(bytes).graph.nodes.map((n) => n.opType));
    for (const op of ["Conv", "BatchNormalization", "Softplus", "Softsign", "Sigmoid", "Sum", "AveragePool", "MaxPool", "GlobalMaxPool", "Add", "Identity", "Gemm", "MatMul", "Transpose", "Div", "Softmax", "LogSoftmax", "Reshape", "Relu", "Tanh"])
      expect(ops.has(op), op).to.equal(true);
  });

  it("agrees with ONNX Runtime where onnxruntime-node is installed", async function () {
    const ort = await tryOrt();
    if (!ort) return this.skip();
    for (const [model, epoch] of [["mnist", "0035"], ["lenet", "0001"]]) await checkOrt(ort, loadSymbolFile(model), loadParams(model, epoch), { data: [3, 1, 28, 28] }, model);
    const resnet = loadSymbolFile("resnet-18");
    await checkOrt(ort, resnet, seededParams(resnet, { data: [2, 3, 32, 32] }), { data: [2, 3, 32, 32] }, "resnet-18");
    const { net, shapes } = everyEmitter();
    await checkOrt(ort, net, seededParams(net, shapes), shapes, "every emitter");
  });

  it("lists every unsupported op and feature in one error", () => {
    const x = sym.Variable("data");
    const a = sym.LeakyReLU({ data: x, act_type: "leaky", name: "leaky1" });
    const b = sym.Pooling({ data: a, kernel: [2, 2], pool_type: "sum", name: "sumpool" });
    const c = sym.Pooling({ data: b, kernel: [3, 3], stride: [2, 2], pool_type: "avg", pooling_convention: "full", name: "avgfull" });
    const d = sym.Dropout({ data: c, p: 0.3, mode: "always", name: "dropalways" });
    const e = sym.LeakyReLU({ data: d, act_type: "elu", name: "elu1" });
    let err: unknown;
    try {
      toONNX(e, {}, {}, { shapes: { data: [1, 2, 9, 9] } });
    } catch (caught) {
      err = caught;
    }
    expect(err).to.be.instanceOf(OnnxExportUnsupportedError);
    const items = (err as OnnxExportUnsupportedError).items;
    expect(items.map((i) => i.nodeName)).to.deep.equal(["leaky1", "sumpool", "avgfull", "dropalways", "elu1"]);
    const msg = (err as Error).message;
    expect(msg).to.contain("LeakyReLU: leaky1, elu1");
    expect(msg).to.contain("sumpool (pool_type sum)");
    expect(msg).to.contain("avgfull ('full' convention average");
    expect(msg).to.contain("dropalways (mode 'always'");
    expect(msg).to.contain("export writes: ");
    expect(exportedOps()).to.include.members(["Convolution", "Pooling", "FullyConnected", "BatchNorm", "SoftmaxOutput"]);
  });

  it("fails clearly on a missing parameter, a wrong shape, an unknown input or an unsupported opset", () => {
    const net = loadSymbolFile("lenet");
    const p = loadParams("lenet", "0001");
    const shapes = { data: [1, 1, 28, 28] };
    const { hybridsequential0_conv0_weight: _w, ...missing } = p.args;
    expect(() => toONNX(net, missing, {}, { shapes })).to.throw(OnnxExportError, /no value for parameter "hybridsequential0_conv0_weight"/);
    const wrong: Record<string, ParamValue> = { ...p.args, hybridsequential0_conv0_bias: nd.array([1, 2], { shape: [2], ctx: cpu() }) };
    expect(() => toONNX(net, wrong, {}, { shapes })).to.throw(OnnxExportError, /has shape \(2\), the graph needs \(5\)/);
    expect(() => toONNX(net, p.args, {}, { shapes: { ...shapes, image: [1] } })).to.throw(OnnxExportError, /"image", which is not an input/);
    expect(() => toONNX(net, p.args, {}, { shapes, opset: 9 })).to.throw(OnnxExportError, /opset 9 is not supported/);
    // A flat typed array works as a parameter value (its shape comes from inference).
    const flat = { ...p.args, hybridsequential0_conv0_bias: new Float32Array(p.args.hybridsequential0_conv0_bias.toFloat64()) };
    expect(toONNX(net, flat, {}, { shapes }).length).to.be.greaterThan(1000);
  });
});
