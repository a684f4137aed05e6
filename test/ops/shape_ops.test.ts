import { expect } from "chai";
import { sym, withNameManager, Symbol } from "../../index.js";
import { checkForward, checkGradient } from "../helpers/op_check.js";
import { expectError } from "../helpers/expect_error.js";
import { requireComputes } from "./compute_coverage.test.js";
import * as shapeOps from "../../compiler/ops/shape_ops.js";

// Every shape op (and its _backward_ row) has a compute rule, checked by the tests below.
requireComputes(shapeOps);

const range = (n: number, from = 1): number[] => Array.from({ length: n }, (_, i) => i + from);

/** Argument shapes by name after (partial) inference. */
function argShapes(s: Symbol, given: Record<string, number[]>, partial = false): Record<string, number[]> {
  const [args] = partial ? s.inferShapePartial(given) : s.inferShape(given);
  return Object.fromEntries(s.listArguments().map((n, i) => [n, args[i]]));
}

function outShapes(s: Symbol, given: Record<string, number[]>): number[][] {
  return s.inferShapePartial(given)[1];
}


const x = (): Symbol => sym.Variable("x");

describe("ops/shape: Reshape", () => {
  it("infers MXNet's documented special values", () => {
    const cases: [number[], number[], number[], boolean?][] = [
      [[2, 3, 4], [4, 0, 2], [4, 3, 2]],
      [[2, 3, 4], [2, 0, 0], [2, 3, 4]],
      [[2, 3, 4], [6, 1, -1], [6, 1, 4]],
      [[2, 3, 4], [3, -1, 8], [3, 1, 8]],
      [[2, 3, 4], [-1], [24]],
      [[2, 3, 4], [-2], [2, 3, 4]],
      [[2, 3, 4], [2, -2], [2, 3, 4]],
      [[2, 3, 4], [-2, 1, 1], [2, 3, 4, 1, 1]],
      [[2, 3, 4], [-3, 4], [6, 4]],
      [[2, 3, 4, 5], [-3, -3], [6, 20]],
      [[2, 3, 4], [0, -3], [2, 12]],
      [[2, 3, 4], [-3, -2], [6, 4]],
      [[2, 3, 4], [-4, 1, 2, -2], [1, 2, 3, 4]],
      [[2, 3, 4], [2, -4, -1, 3, -2], [2, 1, 3, 4]],
      [[10, 5, 4], [-1, 0], [40, 5]],
      [[10, 5, 4], [-1, 0], [50, 4], true],
    ];
    for (const [input, shape, want, reverse] of cases) {
      const r = sym.Reshape({ data: x(), shape, reverse: reverse ?? false });
      expect(outShapes(r, { x: input }), `${input} with ${shape}${reverse ? " reverse" : ""}`).to.deep.equal([want]);
    }
  });

  it("keeps row-major order under every special value (the compute's index map too)", () => {
    const cases: [number[], number[], boolean?][] = [
      [[2, 3, 4], [4, 0, 2]],
      [[2, 3, 4], [6, 1, -1]],
      [[2, 3, 4], [-2, 1, 1]],
      [[2, 3, 4, 5], [-3, -3]],
      [[2, 3, 4], [-4, 1, 2, -2]],
      [[2, 3, 4], [2, -4, -1, 3, -2]],
      [[10, 5, 4], [-1, 0], true],
      [[1, 6, 1, 2], [3, 1, 4]],
    ];
    for (const [input, shape, reverse] of cases) {
      const n = input.reduce((a, b) => a * b);
      checkForward(sym.Reshape({ data: x(), shape, reverse: reverse ?? false }), { shapes: { x: input }, values: { x: range(n) }, expected: [range(n)] });
    }
  });

  it("accepts the legacy target_shape and keep_highest", () => {
    expect(outShapes(sym.Reshape({ data: x(), target_shape: [0, 4] }), { x: [2, 3, 4] })).to.deep.equal([[6, 4]]);
    expect(outShapes(sym.Reshape({ data: x(), target_shape: [0, 0], keep_highest: true }), { x: [2, 3, 4] })).to.deep.equal([[2, 12]]);
  });

  it("keeps the values in row-major order", () => {
    checkForward(sym.reshape({ data: x(), shape: [-1, 0], reverse: true }), {
      shapes: { x: [2, 3, 2] },
      values: { x: range(12) },
      expected: [range(12)],
      expectedShapes: [[6, 2]],
    });
  });

  it("fills unknown dims from the other side", () => {
    // An explicit target decides the one unknown input dim.
    expect(argShapes(sym.Reshape({ data: x(), shape: [6] }), { x: [0, 3] }, true).x).to.deep.equal([2, 3]);
    // The consumer's shape flows back through -1 into the input.
    const b = sym.Variable("b");
    const s = sym.elemwise_add({ lhs: sym.Reshape({ data: x(), shape: [-1, 4] }), rhs: b });
    expect(argShapes(s, { x: [0, 2, 2], b: [3, 4] })).to.deep.equal({ x: [3, 2, 2], b: [3, 4] });
    // Only explicit dims: the output is known without the input.
    expect(outShapes(sym.Reshape({ data: x(), shape: [2, 5] }), {})).to.deep.equal([[2, 5]]);
  });

  it("rejects bad shapes with the node, op and shapes", () => {
    expectError(() => sym.Reshape({ data: x(), shape: [5, 5], name: "r" }).inferShape({ x: [2, 3, 4] }), "r (Reshape)", "(5,5)", "(2,3,4)");
    expectError(() => sym.Reshape({ data: x(), shape: [-1, -1], name: "r" }).inferShape({ x: [2, 3] }), "r (Reshape)", "one and only one");
    expectError(() => sym.Reshape({ data: x(), shape: [-4, 4, -1, 0], name: "r" }).inferShape({ x: [2, 3] }), "do not divide original dim 2");
    expectError(() => sym.Reshape({ data: x(), shape: [0, 0, 0], name: "r" }).inferShape({ x: [2, 3] }), "0 copies input dim 2");
    expectError(() => sym.Reshape({ data: x(), shape: [5, -1], name: "r" }).inferShape({ x: [2, 3] }), "do not divide by 5");
  });

  it("differentiates", () => {
    checkGradient(sym.Reshape({ data: x(), shape: [-3, -4, 2, -1] }), { shapes: { x: [2, 3, 4] } });
  });
});

describe("ops/shape: Flatten, expand_dims, squeeze", () => {
  it("Flatten collapses all but the first dim", () => {
    checkForward(sym.Flatten({ data: x() }), { shapes: { x: [2, 3, 2] }, values: { x: range(12) }, expected: [range(12)], expectedShapes: [[2, 6]] });
    expect(outShapes(sym.flatten({ data: x() }), { x: [4] })).to.deep.equal([[4, 1]]);
    const s = sym.elemwise_add({ lhs: sym.Flatten({ data: x() }), rhs: sym.Variable("b") });
    expect(argShapes(s, { x: [0, 3, 4], b: [5, 12] })).to.deep.equal({ x: [5, 3, 4], b: [5, 12] });
    checkGradient(sym.Flatten({ data: x() }), { shapes: { x: [2, 2, 3] } });
  });

  it("expand_dims inserts an axis, negative axes counting from the end", () => {
    expect(outShapes(sym.expand_dims({ data: x(), axis: 1 }), { x: [2, 3] })).to.deep.equal([[2, 1, 3]]);
    expect(outShapes(sym.expand_dims({ data: x(), axis: -1 }), { x: [2, 3] })).to.deep.equal([[2, 3, 1]]);
    expect(outShapes(sym.expand_dims({ data: x(), axis: -3 }), { x: [2, 3] })).to.deep.equal([[1, 2, 3]]);
    expectError(() => sym.expand_dims({ data: x(), axis: 3, name: "e" }).inferShape({ x: [2, 3] }), "e (expand_dims)", "axis=3");
    const s = sym.elemwise_add({ lhs: sym.expand_dims({ data: x(), axis: 0 }), rhs: sym.Variable("b") });
    expect(argShapes(s, { b: [1, 4, 5] }).x).to.deep.equal([4, 5]);
    checkForward(sym.expand_dims({ data: x(), axis: 0 }), { shapes: { x: [3] }, values: { x: [1, 2, 3] }, expected: [[1, 2, 3]], expectedShapes: [[1, 3]] });
    checkGradient(sym.expand_dims({ data: x(), axis: -2 }), { shapes: { x: [2, 3] } });
  });

  it("squeeze removes size-1 dims", () => {
    expect(outShapes(sym.squeeze({ data: x() }), { x: [1, 3, 1] })).to.deep.equal([[3]]);
    expect(outShapes(sym.squeeze({ data: x(), axis: 0 }), { x: [1, 3, 1] })).to.deep.equal([[3, 1]]);
    expect(outShapes(sym.squeeze({ data: x(), axis: [0, -1] }), { x: [1, 3, 1] })).to.deep.equal([[3]]);
    expect(outShapes(sym.squeeze({ data: x() }), { x: [1, 1] })).to.deep.equal([[1]]);
    expectError(() => sym.squeeze({ data: x(), axis: 1, name: "q" }).inferShape({ x: [1, 3, 1] }), "q (squeeze)", "size=3");
    // A squeezed axis is 1 even when the input left it open.
    expect(argShapes(sym.squeeze({ data: x(), axis: 2 }), { x: [2, 0, 0] }, true).x).to.deep.equal([2, 0, 1]);
    checkForward(sym.squeeze({ data: x() }), { shapes: { x: [1, 3, 1] }, values: { x: [4, 5, 6] }, expected: [[4, 5, 6]], expectedShapes: [[3]] });
    checkGradient(sym.squeeze({ data: x(), axis: 1 }), { shapes: { x: [2, 1, 3] } });
  });
});

describe("ops/shape: transpose", () => {
  const v = range(8);
  it("reverses the axes by default and permutes by axes", () => {
    checkForward(sym.transpose({ data: x() }), { shapes: { x: [2, 2, 2] }, values: { x: v }, expected: [[1, 5, 3, 7, 2, 6, 4, 8]] });
    checkForward(sym.transpose({ data: x(), axes: [1, 0, 2] }), { shapes: { x: [2, 2, 2] }, values: { x: v }, expected: [[1, 2, 5, 6, 3, 4, 7, 8]] });
    expect(outShapes(sym.transpose({ data: x(), axes: [2, 0, 1] }), { x: [2, 3, 4] })).to.deep.equal([[4, 2, 3]]);
  });

  it("infers the input from the output", () => {
    const s = sym.elemwise_add({ lhs: sym.transpose({ data: x(), axes: [2, 0, 1] }), rhs: sym.Variable("b") });
    expect(argShapes(s, { b: [4, 2, 3] }).x).to.deep.equal([2, 3, 4]);
    expectError(() => sym.transpose({ data: x(), axes: [0, 0, 1], name: "t" }).inferShape({ x: [2, 3, 4] }), "t (transpose)", "not a permutation");
    expectError(() => sym.transpose({ data: x(), axes: [1, 0], name: "t" }).inferShape({ x: [2, 3, 4] }), "2 entries", "3 dimensions");
  });

  it("differentiates through the inverse permutation", () => {
    checkGradient(sym.transpose({ data: x(), axes: [1, 2, 0] }), { shapes: { x: [2, 3, 4] } });
    checkGradient(sym.transpose({ data: x() }), { shapes: { x: [2, 3, 2] } });
    checkGradient(sym.transpose({ data: x(), axes: [-1, 0, 1] }), { shapes: { x: [2, 3, 2] } });
  });
});

describe("ops/shape: slice_axis and slice", () => {
  const m = range(12); // [[1..4], [5..8], [9..12]]
  it("slice_axis follows MXNet's examples", () => {
    const f = (axis: number, begin: number, end: number | null, want: number[]): void => {
      checkForward(sym.slice_axis({ data: x(), axis, begin, end }), { shapes: { x: [3, 4] }, values: { x: m }, expected: [want] });
    };
    f(0, 1, 3, [5, 6, 7, 8, 9, 10, 11, 12]);
    f(1, 0, 2, [1, 2, 5, 6, 9, 10]);
    f(1, -3, -1, [2, 3, 6, 7, 10, 11]);
    f(-1, 2, null, [3, 4, 7, 8, 11, 12]);
    expectError(() => sym.slice_axis({ data: x(), axis: 1, begin: 3, end: 2, name: "sa" }).inferShape({ x: [3, 4] }), "sa (slice_axis)", "begin=3", "(3,4)");
    // Other dims flow both ways; the sliced dim needs the input's.
    const s = sym.elemwise_add({ lhs: sym.slice_axis({ data: x(), axis: 1, begin: 0, end: 2 }), rhs: sym.Variable("b") });
    expect(argShapes(s, { x: [0, 5], b: [3, 0] })).to.deep.equal({ x: [3, 5], b: [3, 2] });
    checkGradient(sym.slice_axis({ data: x(), axis: 0, begin: 1, end: null }), { shapes: { x: [3, 2] } });
  });

  it("slice takes strided boxes with None and negative steps", () => {
    checkForward(sym.slice({ data: x(), begin: [0, 1], end: [2, 4] }), { shapes: { x: [3, 4] }, values: { x: m }, expected: [[2, 3, 4, 6, 7, 8]] });
    checkForward(sym.crop({ data: x(), begin: [null, 0], end: [null, 3], step: [-1, 2] }), {
      shapes: { x: [3, 4] },
      values: { x: m },
      expected: [[9, 11, 5, 7, 1, 3]],
      expectedShapes: [[3, 2]],
    });
    checkForward(sym.slice({ data: x(), begin: [-2], end: [null] }), { shapes: { x: [3, 4] }, values: { x: m }, expected: [range(8, 5)] });
    expectError(() => sym.slice({ data: x(), begin: [1], end: [1], name: "sl" }).inferShape({ x: [3, 4] }), "sl (slice)", "empty");
    expectError(() => sym.slice({ data: x(), begin: [0], end: [2], step: [0], name: "sl" }).inferShape({ x: [3, 4] }), "step[0] cannot be 0");
    expectError(() => sym.slice({ data: x(), begin: [0, 0, 0], end: [1, 1, 1] }).inferShape({ x: [3, 4] }), "exceeds data dimensions");
    const s = sym.elemwise_add({ lhs: sym.slice({ data: x(), begin: [1], end: [3] }), rhs: sym.Variable("b") });
    expect(argShapes(s, { x: [3, 0], b: [0, 7] })).to.deep.equal({ x: [3, 7], b: [2, 7] });
    checkGradient(sym.slice({ data: x(), begin: [null, 3], end: [null, 0], step: [2, -2] }), { shapes: { x: [3, 4] } });
    // Interior boxes: the gradient's grid test needs both bounds and the step's modulo.
    checkGradient(sym.slice({ data: x(), begin: [1, 4], end: [5, 0], step: [2, -3] }), { shapes: { x: [6, 6] } });
    checkGradient(sym.slice({ data: x(), begin: [null, -2], end: [null, null], step: [-1, -1] }), { shapes: { x: [3, 5, 2] } });
    checkGradient(sym.slice_axis({ data: x(), axis: -2, begin: 1, end: -1 }), { shapes: { x: [2, 4, 3] } });
  });
});

describe("ops/shape: Concat, SliceChannel, stack", () => {
  it("Concat joins along dim, including negative dims", () => {
    const a = sym.Variable("a");
    const b = sym.Variable("b");
    checkForward(sym.Concat({ data: [a, b] }), { shapes: { a: [2, 2], b: [2, 1] }, values: { a: [1, 2, 3, 4], b: [5, 6] }, expected: [[1, 2, 5, 3, 4, 6]] });
    checkForward(sym.concat({ data: [a, b], dim: 0 }), { shapes: { a: [1, 2], b: [2, 2] }, values: { a: [1, 2], b: [3, 4, 5, 6] }, expected: [range(6)] });
    expect(outShapes(sym.Concat({ data: [a, b], dim: -1 }), { a: [2, 3, 1], b: [2, 3, 4] })).to.deep.equal([[2, 3, 5]]);
    withNameManager(() => expect(sym.Concat({ data: [a, b] }).listOutputs()).to.deep.equal(["concat0_output"]));
  });

  it("Concat infers backwards as in MXNET.md", () => {
    const a = sym.Variable("a");
    const b = sym.Variable("b");
    const d = sym.Variable("d");
    const s = sym.elemwise_add({ lhs: sym.Concat({ data: [a, b], dim: 1 }), rhs: d });
    expect(argShapes(s, { a: [0, 10], b: [0, 5], d: [2, 0] })).to.deep.equal({ a: [2, 10], b: [2, 5], d: [2, 15] });
    // With the output known, one unknown input dim along `dim` is the remainder.
    const t = sym.elemwise_add({ lhs: sym.Concat({ data: [a, b], dim: 0 }), rhs: d });
    expect(argShapes(t, { a: [3, 4], d: [5, 4] })).to.deep.equal({ a: [3, 4], b: [2, 4], d: [5, 4] });
  });

  it("Concat rejects mismatched inputs", () => {
    const a = sym.Variable("a");
    const b = sym.Variable("b");
    expectError(() => sym.Concat({ data: [a, b], name: "cc" }).inferShape({ a: [2, 3], b: [3, 3] }), "cc (Concat)", "(3,3)", "outside dim 1");
    expectError(() => sym.Concat({ data: [a, b], dim: 2, name: "cc" }).inferShape({ a: [2, 3], b: [2, 3] }), "dim=2");
  });

  it("Concat differentiates into each input", () => {
    const [a, b, c] = ["a", "b", "c"].map((n) => sym.Variable(n));
    checkGradient(sym.Concat({ data: [a, b, c], dim: 1 }), { shapes: { a: [2, 1, 2], b: [2, 3, 2], c: [2, 2, 2] } });
    checkGradient(sym.Concat({ data: [a, b], dim: -1 }), { shapes: { a: [2, 3], b: [2, 1] } });
  });

  it("SliceChannel splits into named outputs", () => {
    const s = sym.SliceChannel({ data: x(), num_outputs: 2, name: "sc" });
    expect(s.listOutputs()).to.deep.equal(["sc_output0", "sc_output1"]);
    checkForward(s, { shapes: { x: [2, 4] }, values: { x: range(8) }, expected: [[1, 2, 5, 6], [3, 4, 7, 8]], expectedShapes: [[2, 2], [2, 2]] });
    const q = sym.split({ data: x(), num_outputs: 3, axis: 0, squeeze_axis: true });
    checkForward(q, { shapes: { x: [3, 2] }, values: { x: range(6) }, expected: [[1, 2], [3, 4], [5, 6]], expectedShapes: [[2], [2], [2]] });
  });

  it("SliceChannel infers both ways and checks divisibility", () => {
    const s = sym.SliceChannel({ data: x(), num_outputs: 3, axis: -1, name: "sc" });
    expect(outShapes(s, { x: [2, 6] })).to.deep.equal([[2, 2], [2, 2], [2, 2]]);
    const t = sym.elemwise_add({ lhs: s.get(1), rhs: sym.Variable("b") });
    expect(argShapes(t, { b: [4, 5] }).x).to.deep.equal([4, 15]);
    expectError(() => s.inferShape({ x: [2, 5] }), "sc (SliceChannel)", "not divisible by num_outputs=3");
    expectError(() => sym.split({ data: x(), num_outputs: 2, axis: 0, squeeze_axis: true, name: "sp" }).inferShape({ x: [4, 2] }), "squeeze_axis");
  });

  it("SliceChannel differentiates, also with unused outputs", () => {
    checkGradient(sym.SliceChannel({ data: x(), num_outputs: 2, axis: 1 }), { shapes: { x: [2, 4, 2] } });
    checkGradient(sym.split({ data: x(), num_outputs: 3, axis: -1, squeeze_axis: true }), { shapes: { x: [2, 3] } });
    checkGradient(sym.SliceChannel({ data: x(), num_outputs: 3, axis: 0 }).get(1), { shapes: { x: [3, 2] } });
  });

  it("stack joins along a new axis", () => {
    const a = sym.Variable("a");
    const b = sym.Variable("b");
    checkForward(sym.stack({ data: [a, b] }), { shapes: { a: [2], b: [2] }, values: { a: [1, 2], b: [3, 4] }, expected: [[1, 2, 3, 4]], expectedShapes: [[2, 2]] });
    checkForward(sym.stack({ data: [a, b], axis: 1 }), { shapes: { a: [2], b: [2] }, values: { a: [1, 2], b: [3, 4] }, expected: [[1, 3, 2, 4]] });
    const s = sym.elemwise_add({ lhs: sym.stack({ data: [a, b], axis: -1 }), rhs: sym.Variable("c") });
    expect(argShapes(s, { c: [3, 4, 2] })).to.deep.equal({ a: [3, 4], b: [3, 4], c: [3, 4, 2] });
    expectError(() => sym.stack({ data: [a, b], name: "st" }).inferShape({ a: [2], b: [3] }), "st (stack)", "(3,)");
    checkGradient(sym.stack({ data: [a, b, sym.Variable("c")], axis: 1 }), { shapes: { a: [2, 3], b: [2, 3], c: [2, 3] } });
  });

  it("reports missing or bad params", () => {
    expectError(() => sym.SliceChannel({ data: x() } as never), "num_outputs", "missing");
    expectError(() => sym.SliceChannel({ data: x(), num_outputs: 0 }), "num_outputs must be at least 1");
    expectError(() => sym.slice_axis({ data: x(), axis: 0 } as never), "begin", "missing");
  });
});

describe("ops/shape: params in MXNet JSON", () => {
  it("print and parse MXNet's attribute strings", () => {
    const s = sym.slice({ data: x(), begin: [null, 1], end: [null, -1], step: [-1, 1], name: "sl" });
    const node = JSON.parse(s.toJSON()).nodes[1];
    expect(node.attrs).to.deep.equal({ begin: "(None, 1)", end: "(None, -1)", step: "(-1, 1)" });
    expect(sym.fromJSON(s.toJSON()).inferShape({ x: [3, 4] })[1]).to.deep.equal([[3, 2]]);
    const r = sym.Reshape({ data: x(), shape: [-1, 0], reverse: true, name: "r" });
    expect(JSON.parse(r.toJSON()).nodes[1].attrs).to.deep.equal({ reverse: "True", shape: "(-1, 0)" });
    expect(sym.fromJSON(r.toJSON()).inferShape({ x: [10, 5, 4] })[1]).to.deep.equal([[50, 4]]);
    const a = sym.slice_axis({ data: x(), axis: 0, begin: 1, end: null, name: "sa" });
    expect(JSON.parse(a.toJSON()).nodes[1].attrs).to.deep.equal({ axis: "0", begin: "1", end: "None" });
  });
});
