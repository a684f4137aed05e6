import { expect } from "chai";
import { sym, Symbol, reference, nd } from "../../index.js";
import { gradientCheckedByHand } from "./coverage.test.js";
import { checkForward, checkGradient } from "../helpers/op_check.js";
import { expectError } from "../helpers/expect_error.js";
import { requireComputes } from "./compute_coverage.test.js";
import * as indexingOps from "../../compiler/ops/indexing.js";

// Every indexing op (and its _backward_ row) has a compute rule, checked by the tests below.
requireComputes(indexingOps);

function argShapes(s: Symbol, given: Record<string, number[]>, partial = false): Record<string, number[]> {
  const [args] = partial ? s.inferShapePartial(given) : s.inferShape(given);
  return Object.fromEntries(s.listArguments().map((n, i) => [n, args[i]]));
}


const a = (): Symbol => sym.Variable("a");
const idx = (): Symbol => sym.Variable("i");

describe("ops/indexing: take", () => {
  const table = [1, 2, 3, 4, 5, 6]; // [[1, 2], [3, 4], [5, 6]]

  it("gathers rows (MXNet's example) and along other axes", () => {
    checkForward(sym.take({ a: a(), indices: idx() }), {
      shapes: { a: [3, 2], i: [2, 2] },
      values: { a: table, i: [0, 1, 1, 2] },
      expected: [[1, 2, 3, 4, 3, 4, 5, 6]],
      expectedShapes: [[2, 2, 2]],
    });
    // axis 1 of [[1, 2, 3], [4, 5, 6]]; a fractional index truncates.
    checkForward(sym.take({ a: a(), indices: idx(), axis: -1 }), {
      shapes: { a: [2, 3], i: [2] },
      values: { a: table, i: [2, 0.7] },
      expected: [[3, 1, 6, 4]],
    });
  });

  it("clips, wraps or raises on out-of-range indices", () => {
    const f = (mode: "clip" | "wrap", i: number[], want: number[]): void => {
      checkForward(sym.take({ a: a(), indices: idx(), mode }), { shapes: { a: [3, 2], i: [2] }, values: { a: table, i }, expected: [want] });
    };
    f("clip", [-1, 5], [1, 2, 5, 6]);
    f("wrap", [-1, 4], [5, 6, 3, 4]);
    expectError(
      () => checkForward(sym.take({ a: a(), indices: idx(), mode: "raise", name: "tk" }), { shapes: { a: [3, 2], i: [1] }, values: { a: table, i: [3] }, expected: [[0, 0]] }),
      "tk (take)",
      "out of bounds",
    );
  });

  it("infers shapes both ways", () => {
    expect(sym.take({ a: a(), indices: idx(), axis: 1 }).inferShape({ a: [3, 4], i: [2, 5] })[1]).to.deep.equal([[3, 2, 5]]);
    const s = sym.elemwise_add({ lhs: sym.take({ a: a(), indices: idx() }), rhs: sym.Variable("b") });
    expect(argShapes(s, { a: [10, 3], b: [4, 5, 3] })).to.deep.equal({ a: [10, 3], i: [4, 5], b: [4, 5, 3] });
    expectError(() => sym.take({ a: a(), indices: idx(), axis: 2, name: "tk" }).inferShape({ a: [3, 4], i: [2] }), "tk (take)", "axis=2");
  });

  it("scatter-adds its gradient into a", () => {
    checkGradient(sym.take({ a: a(), indices: idx() }), { shapes: { a: [3, 2], i: [4] }, values: { i: [0, 2, 0, 9] }, noGrad: ["i"] });
    checkGradient(sym.take({ a: a(), indices: idx(), axis: 1, mode: "wrap" }), { shapes: { a: [2, 3, 2], i: [2, 2] }, values: { i: [1, -1, 1, 4] }, noGrad: ["i"] });
    checkGradient(sym.take({ a: a(), indices: idx(), axis: -1, mode: "raise" }), { shapes: { a: [2, 3], i: [3] }, values: { i: [2, 0, 2] }, noGrad: ["i"] });
  });
});

describe("ops/indexing: pick", () => {
  const m = [1, 2, 3, 4, 5, 6]; // [[1, 2], [3, 4], [5, 6]]
  it("follows MXNet's examples", () => {
    const f = (axis: number, i: number[], want: number[], keepdims = false, mode: "clip" | "wrap" = "clip"): void => {
      checkForward(sym.pick({ data: a(), index: idx(), axis, keepdims, mode }), { shapes: { a: [3, 2] }, values: { a: m, i }, expected: [want] });
    };
    f(0, [0, 1], [1, 4]);
    f(1, [0, 1, 0], [1, 4, 5]);
    f(-1, [1, 0, 2], [2, 3, 6], true);
    f(1, [-1, 2, 1], [2, 3, 6], false, "wrap");
    expect(sym.pick({ data: a(), index: idx(), axis: 1, keepdims: true }).inferShape({ a: [3, 2] })[0]).to.deep.equal([[3, 2], [3, 1]]);
  });

  it("infers data from the index and output", () => {
    const s = sym.elemwise_add({ lhs: sym.pick({ data: a(), index: idx(), axis: 0 }), rhs: sym.Variable("b") });
    expect(argShapes(s, { a: [5, 0], b: [4] })).to.deep.equal({ a: [5, 4], i: [4], b: [4] });
    expectError(() => sym.pick({ data: a(), index: idx(), name: "pk" }).inferShape({ a: [3, 2], i: [2] }), "pk (pick)", "[2]", "[3]");
  });

  it("sends the gradient to the picked elements", () => {
    checkGradient(sym.pick({ data: a(), index: idx(), axis: 1 }), { shapes: { a: [3, 4] }, values: { i: [0, 3, 7] }, noGrad: ["i"] });
    checkGradient(sym.pick({ data: a(), index: idx(), axis: 0, keepdims: true }), { shapes: { a: [3, 2, 2] }, values: { i: [0, 2, 1, 1] }, noGrad: ["i"] });
    checkGradient(sym.pick({ data: a(), index: idx(), axis: 1, mode: "wrap" }), { shapes: { a: [2, 3, 2] }, values: { i: [-1, 4, 2, -5] }, noGrad: ["i"] });
  });
});

describe("ops/indexing: Embedding", () => {
  it("looks up rows and infers the weight", () => {
    const e = sym.Embedding({ data: sym.Variable("data"), input_dim: 3, output_dim: 2, name: "embed" });
    expect(e.listArguments()).to.deep.equal(["data", "embed_weight"]);
    checkForward(e, {
      shapes: { data: [2, 2] },
      values: { data: [0, 2, 1, 7], embed_weight: [1, 2, 3, 4, 5, 6] },
      expected: [[1, 2, 5, 6, 3, 4, 5, 6]],
      expectedShapes: [[2, 2, 2]],
    });
    expect(argShapes(e, { data: [4] })).to.deep.equal({ data: [4], embed_weight: [3, 2] });
    const s = sym.elemwise_add({ lhs: e, rhs: sym.Variable("b") });
    expect(argShapes(s, { b: [5, 2] }).data).to.deep.equal([5]);
    expectError(() => e.inferShape({ data: [4], embed_weight: [3, 3] }), "embed (Embedding)", "[3,3]", "[3,2]");
  });

  it("types the weight by the dtype param only when nothing else decides", () => {
    const e = sym.Embedding({ data: sym.Variable("data"), input_dim: 3, output_dim: 2, name: "embed", dtype: "float64" });
    expect(e.inferType({ data: "int32" })).to.deep.equal([["int32", "float64"], ["float64"], []]);
    expect(e.inferType({ data: "int32", embed_weight: "float16" })).to.deep.equal([["int32", "float16"], ["float16"], []]);
  });

  it("scatter-adds the weight gradient", () => {
    const e = sym.Embedding({ data: sym.Variable("data"), input_dim: 4, output_dim: 3, name: "embed" });
    checkGradient(e, { shapes: { data: [2, 3] }, values: { data: [0, 3, 0, 1, 1, 0] }, noGrad: ["data"] });
  });
});

describe("ops/indexing: one_hot and where", () => {
  it("one_hot builds rows, all off for out-of-range indices", () => {
    checkForward(sym.one_hot({ indices: idx(), depth: 3 }), {
      shapes: { i: [4] },
      values: { i: [1, 0, 5, -1] },
      expected: [[0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]],
      expectedShapes: [[4, 3]],
    });
    checkForward(sym.one_hot({ indices: idx(), depth: 2, on_value: 8, off_value: -1 }), { shapes: { i: [2, 1] }, values: { i: [1, 0] }, expected: [[-1, 8, 8, -1]] });
    const oh = sym.one_hot({ indices: idx(), depth: 3, dtype: "int32" });
    expect(oh.inferType({ i: "float32" })[1]).to.deep.equal(["int32"]);
    expect(oh.inferShapePartial({})[1]).to.deep.equal([[]]);
    const s = sym.elemwise_add({ lhs: sym.one_hot({ indices: idx(), depth: 3 }), rhs: sym.Variable("b") });
    expect(argShapes(s, { b: [2, 5, 3] }).i).to.deep.equal([2, 5]);
    expectError(() => sym.one_hot({ indices: idx(), depth: 0, name: "oh" }).inferShape({ i: [2] }), "oh (one_hot)", "depth");
  });

  it("one_hot passes no gradient to the indices", () => {
    const s = sym.elemwise_mul({ lhs: sym.one_hot({ indices: idx(), depth: 3, dtype: "float64" }), rhs: sym.Variable("w") });
    checkGradient(s, { shapes: { i: [2], w: [2, 3] }, values: { i: [2, 0] }, noGrad: ["i"] });
    const exe = s.simpleBind({ ctx: reference(), shapes: { i: [2], w: [2, 3] } });
    exe.gradDict.i.set([5, 5]);
    exe.forward(true, { i: [2, 0], w: [1, 2, 3, 4, 5, 6] });
    exe.backward(nd.ones([2, 3], { ctx: reference() }));
    expect(exe.gradDict.i.toArray()).to.deep.equal([0, 0]);
    gradientCheckedByHand.add("one_hot");
  });

  it("where selects elementwise or by rows", () => {
    const [c, xv, y] = [sym.Variable("c"), sym.Variable("x"), sym.Variable("y")];
    const w = sym.where({ condition: c, x: xv, y });
    checkForward(w, { shapes: { c: [2, 2], x: [2, 2], y: [2, 2] }, values: { c: [0, 1, -1, 0], x: [1, 2, 3, 4], y: [5, 6, 7, 8] }, expected: [[5, 2, 3, 8]] });
    checkForward(w, { shapes: { c: [2], x: [2, 2], y: [2, 2] }, values: { c: [0, 1], x: [1, 2, 3, 4], y: [5, 6, 7, 8] }, expected: [[5, 6, 3, 4]] });
    expect(argShapes(w, { x: [3, 4], c: [0] }, true)).to.deep.equal({ c: [3], x: [3, 4], y: [3, 4] });
    expect(argShapes(w, { c: [3, 4], y: [0, 4] })).to.deep.equal({ c: [3, 4], x: [3, 4], y: [3, 4] });
    expectError(() => sym.where({ condition: c, x: xv, y, name: "wh" }).inferShape({ c: [3], x: [2, 2] }), "wh (where)", "(3,)", "(2,2)");
    expectError(() => sym.where({ condition: c, x: xv, y, name: "wh" }).inferShape({ c: [2, 2, 1], x: [2, 2] }), "wh (where)", "1-D");
    expect(w.inferType({ c: "int32", x: "float64" })).to.deep.equal([["int32", "float64", "float64"], ["float64"], []]);
  });

  it("where differentiates into x and y", () => {
    const [c, xv, y] = [sym.Variable("c"), sym.Variable("x"), sym.Variable("y")];
    const w = sym.where({ condition: c, x: xv, y });
    checkGradient(w, { shapes: { c: [2, 3], x: [2, 3], y: [2, 3] }, values: { c: [1, 0, 0, 2, 0, 1] }, noGrad: ["c"] });
    checkGradient(w, { shapes: { c: [3], x: [3, 2], y: [3, 2] }, values: { c: [0, 1, 0] }, noGrad: ["c"] });
  });
});
