/**
 * The neural-network rows' decompositions: each rewrite of a single node, bound on the
 * reference executor, must give the original op's reference outputs (hidden ones too), forward
 * and backward rows alike, and fail clearly where a rewrite cannot be compiled yet.
 */
import { expect } from "chai";
import { sym, Symbol, reference } from "../../index.js";
import type { DType } from "../../index.js";
import { makeNode } from "../../compiler/passes/gradient.js";
import type { DecomposeCtx } from "../../compiler/ops/registry.js";
import type { Node, NodeEntry } from "../../compiler/ir/node.js";
import { checkForward, rng } from "../helpers/op_check.js";
import { requireComputes } from "./compute_coverage.test.js";
import * as nnOps from "../../compiler/ops/nn.js";

// Every nn row (and its _backward_ row) lowers through a compute or a decompose.
requireComputes(nnOps);

interface Input {
  name: string;
  shape: number[];
  /** Fixed values; otherwise uniform in `range` (default [-1, 1]). */
  values?: number[];
  range?: [number, number];
}

interface Case {
  op: string;
  params?: Record<string, unknown>;
  inputs: Input[];
  /** The mode the graph is compiled for (default inference). */
  isTrain?: boolean;
  seed?: number;
}

/** The variable a decomposition's random numbers are seeded from (one int64). */
const SEED = "seed";

/** A single node of `c.op` over one variable per input, with its decomposition context. */
export function singleNode(c: Case): { node: Node; original: Symbol; ctx: DecomposeCtx; auxWrites: Map<number, NodeEntry> } {
  const entries = c.inputs.map((i) => sym.Variable(i.name).outputs[0]);
  const node = makeNode(c.op, "n", entries, c.params ?? {});
  const original = new Symbol(Array.from({ length: node.numOutputs }, (_, i) => node.entry(i)));
  const [, outShapes] = original.inferShape(Object.fromEntries(c.inputs.map((i) => [i.name, i.shape])));
  let made = 0;
  const seed = sym.Variable(SEED);
  const auxWrites = new Map<number, NodeEntry>();
  const ctx: DecomposeCtx = {
    node,
    isTrain: c.isTrain ?? false,
    writeAux: (i, e) => {
      expect(node.mutableInputs, `${c.op} writes only its aux states`).to.include(i);
      auxWrites.set(i, e);
    },
    randomSeed: () => seed.outputs[0],
    input: (i) => entries[i],
    inputShape: (i) => c.inputs[i].shape,
    inputType: (): DType => "float64",
    outputShape: (i) => outShapes[i],
    outputType: (): DType => "float64",
    op: (name, inputs, params) => {
      const n = makeNode(name, `n_dec${made++}`, inputs, params);
      return Array.from({ length: n.numOutputs }, (_, i) => n.entry(i));
    },
    op1: (name, inputs, params) => ctx.op(name, inputs, params)[0],
  };
  return { node, original, ctx, auxWrites };
}

/** Applies the op's `decompose` to a single node; undefined where it keeps the node. */
export function decomposeSingle(c: Case): { original: Symbol; decomposed: Symbol | undefined; auxWrites: Map<number, NodeEntry> } {
  const { node, original, ctx, auxWrites } = singleNode(c);
  const outs = node.op!.decompose!(ctx, node.params as never);
  if (outs) expect(outs.length, `${c.op} decomposes into one entry per output`).to.equal(node.numOutputs);
  return { original, decomposed: outs && new Symbol(outs), auxWrites };
}

function valuesOf(c: Case): Record<string, number[]> {
  const r = rng(c.seed ?? 3);
  return Object.fromEntries(
    c.inputs.map((i) => {
      const [lo, hi] = i.range ?? [-1, 1];
      const n = i.shape.reduce((a, b) => a * b, 1);
      return [i.name, i.values ?? Array.from({ length: n }, () => lo + (hi - lo) * r())];
    }),
  );
}

/** Binds a symbol over (some of) the case's inputs (and the seed) in float64 and runs forward. */
function run(s: Symbol, c: Case, values: Record<string, number[]>): number[][] {
  const names = new Set([...s.listArguments(), ...s.listAuxiliaryStates()]);
  const used = [...c.inputs, { name: SEED, shape: [1] }].filter((i) => names.has(i.name));
  const shapes = Object.fromEntries(used.map((i) => [i.name, i.shape]));
  const typeDict = Object.fromEntries(s.listArguments().map((n) => [n, (n === SEED ? "int64" : "float64") as DType]));
  const exe = s.simpleBind({ ctx: reference(), shapes, typeDict, gradReq: "null" });
  for (const i of used) (exe.argDict[i.name] ?? exe.auxDict[i.name]).set(i.name === SEED ? [1234] : values[i.name]);
  return exe.forward(c.isTrain ?? false).map((o) => o.toArray());
}

function expectClose(got: number[], want: number[], what: string, tol = 1e-9): void {
  expect(got.length, `${what}: length`).to.equal(want.length);
  got.forEach((g, k) => {
    const w = want[k];
    const ok = Object.is(g, w) || (Number.isNaN(w) && Number.isNaN(g)) || Math.abs(g - w) <= tol * Math.max(1, Math.abs(w));
    if (!ok) expect.fail(`${what}[${k}]: decomposed ${g}, reference ${w}`);
  });
}

/** The decomposition of `c` must reproduce every output of the original node. */
function checkDecompose(c: Case): void {
  const { original, decomposed } = decomposeSingle(c);
  expect(decomposed, `${c.op} ${JSON.stringify(c.params)} decomposes`).to.not.equal(undefined);
  const values = valuesOf(c);
  const want = run(original, c, values);
  const got = run(decomposed!, c, values);
  want.forEach((w, k) => expectClose(got[k], w, `${c.op} ${JSON.stringify(c.params)} output ${k}`));
}

function keeps(c: Case): void {
  expect(decomposeSingle(c).decomposed, `${c.op} ${JSON.stringify(c.params)} keeps its node`).to.equal(undefined);
}

describe("nn decompositions: softmax and log_softmax", () => {
  const x = (shape: number[]): Input => ({ name: "data", shape, range: [-3, 3] });
  it("rewrites softmax and log_softmax along any axis, with a temperature", () => {
    for (const op of ["softmax", "log_softmax"]) {
      checkDecompose({ op, inputs: [x([3, 4])] });
      checkDecompose({ op, params: { axis: 0 }, inputs: [x([3, 4])] });
      checkDecompose({ op, params: { axis: 1, temperature: 0.7 }, inputs: [x([2, 3, 4])] });
      checkDecompose({ op, params: { temperature: 2.5 }, inputs: [x([5])] });
    }
  });

  it("masks each row beyond its length (lengths clipped, truncated, 0, beyond the axis)", () => {
    const length = { name: "length", shape: [2, 4], values: [0, 1, 2.7, 3, 9, -1, 2, 1] };
    for (const op of ["softmax", "log_softmax"]) {
      checkDecompose({ op, params: { use_length: true, axis: 1 }, inputs: [x([2, 3, 4]), length] });
      checkDecompose({ op, params: { use_length: true }, inputs: [x([2, 3]), { name: "length", shape: [2], values: [2, 3] }] });
    }
  });

  it("rewrites the gradients, with temperature and lengths", () => {
    for (const op of ["_backward_softmax", "_backward_log_softmax"]) {
      const ins = (shape: number[]): Input[] => [{ name: "ograd", shape }, { name: "output", shape, range: [0, 1] }];
      checkDecompose({ op, inputs: ins([3, 4]) });
      checkDecompose({ op, params: { axis: 0, temperature: 0.5 }, inputs: ins([3, 2, 2]) });
      checkDecompose({ op, params: { use_length: true }, inputs: [...ins([3, 4]), { name: "length", shape: [3], values: [1, 4, 0] }] });
    }
  });
});

describe("nn decompositions: _length_mask", () => {
  it("keeps positions below trunc(length) of their row and sets the rest", () => {
    const m = sym._length_mask({ data: sym.Variable("data"), length: sym.Variable("length"), axis: 1, value: -5 });
    checkForward(m, {
      shapes: { data: [2, 3], length: [2] },
      values: { data: [1, 2, 3, 4, 5, 6], length: [1.9, 7] },
      expected: [[1, -5, -5, 4, 5, 6]],
    });
    const along0 = sym._length_mask({ data: sym.Variable("data"), length: sym.Variable("length"), axis: 0 });
    checkForward(along0, { shapes: { data: [2, 2], length: [2] }, values: { data: [1, 2, 3, 4], length: [-1, 2] }, expected: [[0, 2, 0, 4]] });
  });
});

describe("nn decompositions: BatchNorm", () => {
  const ins = (shape: number[], axis = 1): Input[] => {
    const C = [shape[(axis + shape.length) % shape.length]];
    return [
      { name: "data", shape, range: [-2, 2] },
      { name: "gamma", shape: C },
      { name: "beta", shape: C },
      { name: "moving_mean", shape: C },
      { name: "moving_var", shape: C, range: [0.5, 2] },
    ];
  };

  it("normalizes with batch statistics in training (axes, fix_gamma) and outputs mean and inverse std", () => {
    checkDecompose({ op: "BatchNorm", params: { fix_gamma: false }, inputs: ins([3, 2, 2]), isTrain: true });
    checkDecompose({ op: "BatchNorm", params: { axis: -1, eps: 1e-5 }, inputs: ins([2, 3, 2], -1), isTrain: true });
    checkDecompose({ op: "BatchNorm", params: { axis: 0, fix_gamma: false }, inputs: ins([2, 5], 0), isTrain: true });
  });

  it("uses the moving statistics in inference and with use_global_stats", () => {
    checkDecompose({ op: "BatchNorm", params: { fix_gamma: false }, inputs: ins([3, 2, 2]), isTrain: false });
    checkDecompose({ op: "BatchNorm", params: { use_global_stats: true }, inputs: ins([2, 3]), isTrain: true });
    checkDecompose({ op: "BatchNorm", params: { use_global_stats: true, fix_gamma: false, axis: 0 }, inputs: ins([2, 3], 0) });
  });

  it("writes the moving statistics back exactly as the reference does, in training only", () => {
    const c: Case = { op: "BatchNorm", params: { momentum: 0.8, fix_gamma: false }, inputs: ins([4, 3]), isTrain: true };
    const { original, auxWrites } = decomposeSingle(c);
    expect([...auxWrites.keys()].sort()).to.deep.equal([3, 4]);
    const values = valuesOf(c);
    const got = run(new Symbol([auxWrites.get(3)!, auxWrites.get(4)!]), c, values);
    const exe = original.simpleBind({ ctx: reference(), shapes: { data: [4, 3] }, typeDict: { data: "float64" }, gradReq: "null" });
    for (const i of c.inputs) (exe.argDict[i.name] ?? exe.auxDict[i.name]).set(values[i.name]);
    exe.forward(true);
    expectClose(got[0], exe.auxDict.moving_mean.toArray(), "moving_mean");
    expectClose(got[1], exe.auxDict.moving_var.toArray(), "moving_var");
    expect(decomposeSingle({ ...c, isTrain: false }).auxWrites.size).to.equal(0);
    expect(decomposeSingle({ ...c, params: { use_global_stats: true } }).auxWrites.size).to.equal(0);
  });

  it("rewrites the gradient with batch and global statistics", () => {
    const grad = (shape: number[], axis = 1): Input[] => {
      const C = [shape[(axis + shape.length) % shape.length]];
      return [
        { name: "ograd", shape },
        { name: "data", shape, range: [-2, 2] },
        { name: "gamma", shape: C },
        { name: "mean", shape: C },
        { name: "invstd", shape: C, range: [0.5, 2] },
      ];
    };
    checkDecompose({ op: "_backward_BatchNorm", params: { fix_gamma: false }, inputs: grad([3, 2, 2]), isTrain: true });
    checkDecompose({ op: "_backward_BatchNorm", inputs: grad([4, 2]), isTrain: true });
    checkDecompose({ op: "_backward_BatchNorm", params: { axis: -1, fix_gamma: false }, inputs: grad([2, 3, 2], -1), isTrain: true });
    checkDecompose({ op: "_backward_BatchNorm", params: { use_global_stats: true, fix_gamma: false }, inputs: grad([2, 3, 2]), isTrain: true });
  });

});

describe("nn decompositions: Dropout and rrelu", () => {
  const data: Input = { name: "data", shape: [3, 4] };
  it("is a copy and a mask of ones where nothing is dropped", () => {
    checkDecompose({ op: "Dropout", params: { p: 0.3 }, inputs: [data], isTrain: false });
    checkDecompose({ op: "Dropout", params: { p: 0.3, axes: [1] }, inputs: [data], isTrain: false });
    checkDecompose({ op: "Dropout", params: { p: 0 }, inputs: [data], isTrain: true });
    checkDecompose({ op: "Dropout", params: { p: 0, mode: "always" }, inputs: [data], isTrain: true });
  });

  it("draws Dropout masks and rrelu slopes from _random_uniform in training", () => {
    // The compiled generator is not the reference's, so the rewrite is checked by its properties.
    const big: Input = { name: "data", shape: [40, 50], range: [0.5, 1.5] };
    for (const c of [{ op: "Dropout", params: { p: 0.3 }, inputs: [big], isTrain: true }, { op: "Dropout", params: { p: 0.3, mode: "always" }, inputs: [big] }]) {
      const { decomposed } = decomposeSingle(c);
      const x = valuesOf(c).data;
      const [out, mask] = run(decomposed!, c, { data: x });
      expect(mask.every((m) => m === 0 || Math.abs(m - 1 / 0.7) < 1e-12)).to.equal(true);
      expect(mask.filter((m) => m !== 0).length / mask.length).to.be.closeTo(0.7, 0.04);
      out.forEach((o, i) => expect(o).to.equal(x[i] * mask[i]));
    }
    const c: Case = { op: "LeakyReLU", params: { act_type: "rrelu", lower_bound: 0.2, upper_bound: 0.4 }, inputs: [{ name: "data", shape: [30, 20] }], isTrain: true };
    const { decomposed } = decomposeSingle(c);
    const x = valuesOf(c).data;
    const [out, slopes] = run(decomposed!, c, { data: x });
    expect(Math.min(...slopes)).to.be.at.least(0.2);
    expect(Math.max(...slopes)).to.be.below(0.4);
    expect(new Set(slopes).size).to.be.greaterThan(500);
    out.forEach((o, i) => expect(o).to.equal(x[i] > 0 ? x[i] : slopes[i] * x[i]));
  });

  it("keeps rrelu in inference and the other LeakyReLU types in any mode", () => {
    keeps({ op: "LeakyReLU", params: { act_type: "rrelu" }, inputs: [data], isTrain: false });
    keeps({ op: "LeakyReLU", params: { act_type: "elu" }, inputs: [data] });
  });
});

describe("nn decompositions: SoftmaxOutput", () => {
  it("rewrites the forward softmax for every layout", () => {
    const data = (shape: number[]): Input => ({ name: "data", shape, range: [-3, 3] });
    checkDecompose({ op: "SoftmaxOutput", inputs: [data([2, 3, 2]), { name: "label", shape: [2, 3] }] });
    checkDecompose({ op: "SoftmaxOutput", params: { multi_output: true }, inputs: [data([2, 3, 2]), { name: "label", shape: [2, 2] }] });
    checkDecompose({ op: "SoftmaxOutput", params: { preserve_shape: true }, inputs: [data([2, 2, 3]), { name: "label", shape: [2, 2] }] });
  });

  const grad = (shape: number[], label: number[], labelShape: number[], ograd = false): Input[] => [
    { name: "output", shape, range: [0, 1] },
    { name: "label", shape: labelShape, values: label },
    ...(ograd ? [{ name: "ograd", shape }] : []),
  ];

  it("rewrites the 'valid' gradient as a count of kept labels and a broadcast scale", () => {
    const op = "_backward_SoftmaxOutput";
    checkDecompose({ op, params: { normalization: "valid" }, inputs: grad([4, 3], [0, -1, 2.5, -1], [4]) });
    checkDecompose({ op, params: { normalization: "valid", use_ignore: true, grad_scale: 3 }, inputs: grad([4, 3], [0, -1, 2, -1], [4]) });
    checkDecompose({ op, params: { normalization: "valid", use_ignore: true, ignore_label: 1, multi_output: true }, inputs: grad([2, 3, 2], [0, 1, 2, 1], [2, 2]) });
    checkDecompose({ op, params: { normalization: "valid", out_grad: true, smooth_alpha: 0.2 }, inputs: grad([2, 3], [2, 0], [2], true) });
    // Every label ignored: the count is clipped to 1.
    checkDecompose({ op, params: { normalization: "valid", use_ignore: true }, inputs: grad([2, 3], [-1, -1], [2]) });
  });

  it("keeps the one-stage gradient otherwise", () => {
    keeps({ op: "_backward_SoftmaxOutput", params: { normalization: "batch" }, inputs: grad([2, 3], [2, 0], [2]) });
    keeps({ op: "_backward_SoftmaxOutput", params: { normalization: "valid" }, inputs: grad([2, 3], [0.5, 0.5, 0, 0, 0, 1], [2, 3]) });
  });
});

describe("nn decompositions: global max pooling gradient", () => {
  it("routes ograd to the first maximum of each plane through argmax and one_hot", () => {
    // Planes of (2, 2, 2, 3): ties at the maximum, and a plane with nothing above −MAX_VALUE.
    const data = [1, 5, 5, 0, 2, 5, 3, 3, 3, 3, 3, 3, -1, -2, -0.5, -3, -0.5, -4, ...new Array(6).fill(-Infinity)];
    const output = [0, 1, 2, 3].map((pl) => Math.max(-Number.MAX_VALUE, ...data.slice(pl * 6, pl * 6 + 6)));
    const inputs: Input[] = [
      { name: "ograd", shape: [2, 2, 1, 1], values: [10, 20, 30, 40] },
      { name: "data", shape: [2, 2, 2, 3], values: data },
      { name: "output", shape: [2, 2, 1, 1], values: output },
    ];
    checkDecompose({ op: "_backward_Pooling", params: { global_pool: true }, inputs });
    keeps({ op: "_backward_Pooling", params: { global_pool: true, pool_type: "avg" }, inputs });
    keeps({ op: "_backward_Pooling", params: { kernel: [2, 2] }, inputs: [{ name: "ograd", shape: [2, 2, 1, 2] }, inputs[1], { name: "output", shape: [2, 2, 1, 2] }] });
  });
});
