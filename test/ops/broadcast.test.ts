import { expect } from "chai";
import { sym, Symbol, reference, nd, withNameManager } from "../../index.js";
import { checkForward, checkGradient, rng } from "../helpers/op_check.js";
import * as broadcastOps from "../../compiler/ops/broadcast.js";
import { requireComputes } from "./compute_coverage.test.js";

requireComputes(broadcastOps);

function op(name: string): (args: Record<string, unknown>) => Symbol {
  const f = (sym as unknown as Record<string, (args: Record<string, unknown>) => Symbol>)[name];
  expect(f, `sym.${name}`).to.be.a("function");
  return f;
}

/** Independent naive broadcasting: explicit index arithmetic over the right-aligned shapes. */
function naiveBroadcast(a: number[], as: number[], b: number[], bs: number[], f: (x: number, y: number) => number): number[] {
  const n = Math.max(as.length, bs.length);
  const pa = [...Array(n - as.length).fill(1), ...as];
  const pb = [...Array(n - bs.length).fill(1), ...bs];
  const os = pa.map((d, i) => Math.max(d, pb[i]));
  const total = os.reduce((x, y) => x * y, 1);
  const out: number[] = [];
  for (let flat = 0; flat < total; flat++) {
    let rem = flat;
    let ia = 0;
    let ib = 0;
    let sa = 1;
    let sb = 1;
    for (let d = n - 1; d >= 0; d--) {
      const k = rem % os[d];
      rem = Math.floor(rem / os[d]);
      ia += (pa[d] === 1 ? 0 : k) * sa;
      ib += (pb[d] === 1 ? 0 : k) * sb;
      sa *= pa[d];
      sb *= pb[d];
    }
    out.push(f(a[ia], b[ib]));
  }
  return out;
}

function values(n: number, seed: number, lo = -1, hi = 1): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => Math.round((lo + (hi - lo) * r()) * 8) / 8 || 0.125);
}

const pyMod = (a: number, b: number): number => (b === 0 ? 0 : a - b * Math.floor(a / b));

const binaryOps: [string, (x: number, y: number) => number][] = [
  ["broadcast_add", (x, y) => x + y],
  ["broadcast_sub", (x, y) => x - y],
  ["broadcast_mul", (x, y) => x * y],
  ["broadcast_div", (x, y) => x / y],
  ["broadcast_mod", pyMod],
  ["broadcast_power", (x, y) => Math.pow(x, y)],
  ["broadcast_maximum", (x, y) => (x > y ? x : y)],
  ["broadcast_minimum", (x, y) => (x < y ? x : y)],
  ["broadcast_hypot", (x, y) => Math.sqrt(x * x + y * y)],
  ["broadcast_equal", (x, y) => Number(x === y)],
  ["broadcast_not_equal", (x, y) => Number(x !== y)],
  ["broadcast_greater", (x, y) => Number(x > y)],
  ["broadcast_greater_equal", (x, y) => Number(x >= y)],
  ["broadcast_lesser", (x, y) => Number(x < y)],
  ["broadcast_lesser_equal", (x, y) => Number(x <= y)],
  ["broadcast_logical_and", (x, y) => Number(x !== 0 && y !== 0)],
  ["broadcast_logical_or", (x, y) => Number(x !== 0 || y !== 0)],
  ["broadcast_logical_xor", (x, y) => Number(x !== 0 !== (y !== 0))],
];

const shapePairs: [number[], number[]][] = [
  [[2, 3], [2, 3]],
  [[2, 3], [1, 3]],
  [[2, 1], [1, 3]],
  [[3, 1], [2, 1, 4]],
  [[2, 3, 4], [4]],
];

/** Input ranges for the gradient check: away from poles, kinks and ties. */
function gradRanges(name: string): Record<string, [number, number]> {
  if (name === "broadcast_power") return { lhs: [0.5, 2], rhs: [-1, 1] };
  if (name === "broadcast_div") return { lhs: [-1, 1], rhs: [0.5, 2] };
  if (name === "broadcast_mod") return { lhs: [0.1, 0.9], rhs: [1.1, 2] };
  if (name.includes("logical")) return { lhs: [0.5, 1], rhs: [-1, -0.5] };
  return { lhs: [-1, 1], rhs: [-1, 1] };
}

describe("ops: broadcast", () => {
  for (const [name, f] of binaryOps) {
    it(`${name}: forward against naive broadcasting, and gradients summed back to each input`, () => {
      const y = op(name)({ lhs: sym.Variable("lhs"), rhs: sym.Variable("rhs") });
      shapePairs.forEach(([as, bs], k) => {
        const size = (s: number[]) => s.reduce((p, d) => p * d, 1);
        const positive = name === "broadcast_power";
        const a = values(size(as), 3 + k, positive ? 0.25 : -2, 2);
        const b = name === "broadcast_div" || name === "broadcast_mod" ? values(size(bs), 11 + k, 0.5, 3) : values(size(bs), 11 + k, -2, 2);
        checkForward(y, { shapes: { lhs: as, rhs: bs }, values: { lhs: a, rhs: b }, expected: [naiveBroadcast(a, as, b, bs, f)], tol: 1e-12 });
        checkGradient(y, { shapes: { lhs: as, rhs: bs }, range: gradRanges(name), seed: 5 + k });
      });
    });
  }

  it("MXNet's documented examples", () => {
    const x = sym.Variable("x");
    const yv = sym.Variable("y");
    const spec = { shapes: { x: [2, 3], y: [2, 1] }, values: { x: [1, 1, 1, 1, 1, 1], y: [0, 1] } };
    checkForward(sym.broadcast_add({ lhs: x, rhs: yv }), { ...spec, expected: [[1, 1, 1, 2, 2, 2]] });
    checkForward(sym.broadcast_plus({ lhs: x, rhs: yv }), { ...spec, expected: [[1, 1, 1, 2, 2, 2]] });
    checkForward(sym.broadcast_minus({ lhs: x, rhs: yv }), { ...spec, expected: [[1, 1, 1, 0, 0, 0]] });
    checkForward(sym.broadcast_mul({ lhs: x, rhs: yv }), { ...spec, expected: [[0, 0, 0, 1, 1, 1]] });
    checkForward(sym.broadcast_power({ lhs: x, rhs: yv }), { ...spec, expected: [[1, 1, 1, 1, 1, 1]] });
    checkForward(sym.broadcast_maximum({ lhs: x, rhs: yv }), { ...spec, expected: [[1, 1, 1, 1, 1, 1]] });
    checkForward(sym.broadcast_greater({ lhs: x, rhs: yv }), { ...spec, expected: [[1, 1, 1, 0, 0, 0]] });
    // x = [[6,6,6],[6,6,6]], y = [[4],[5]]: div → [[1.5]*3,[1.2]*3], mod → [[2]*3,[1]*3]
    const s2 = { shapes: { x: [2, 3], y: [2, 1] }, values: { x: [6, 6, 6, 6, 6, 6], y: [4, 5] } };
    checkForward(sym.broadcast_div({ lhs: x, rhs: yv }), { ...s2, expected: [[1.5, 1.5, 1.5, 1.2, 1.2, 1.2]] });
    checkForward(sym.broadcast_mod({ lhs: x, rhs: yv }), { ...s2, expected: [[2, 2, 2, 1, 1, 1]] });
  });

  it("maximum/minimum send the gradient to lhs on ties; comparisons have zero gradient", () => {
    const cases: [string, number[], number[]][] = [
      ["broadcast_maximum", [1, 1, 0], [0, 0, 1]],
      ["broadcast_minimum", [1, 0, 1], [0, 1, 0]],
      ["broadcast_equal", [0, 0, 0], [0, 0, 0]],
    ];
    for (const [name, wantL, wantR] of cases) {
      const exe = op(name)({ lhs: sym.Variable("l"), rhs: sym.Variable("r") }).simpleBind({ ctx: reference(), shapes: { l: [3], r: [3] } });
      exe.argDict.l.set([1, 2, 0]);
      exe.argDict.r.set([1, 1, 1]);
      exe.forward(true);
      exe.backward([nd.ones([3], { ctx: reference() })]);
      expect([exe.gradDict.l.toArray(), exe.gradDict.r.toArray()], name).to.deep.equal([wantL, wantR]);
    }
  });

  it("broadcast shape inference: forward, partial, backward fill, and errors", () => {
    const a = sym.Variable("a");
    const b = sym.Variable("b");
    const y = sym.broadcast_add({ lhs: a, rhs: b, name: "badd" });
    expect(y.inferShape({ a: [2, 1, 3], b: [4, 1] })[1]).to.deep.equal([[2, 4, 3]]);
    expect(y.inferShape({ a: [5], b: [2, 1] })[1]).to.deep.equal([[2, 5]]);
    // A known dim > 1 decides the output even when the other side's dim is unknown.
    expect(y.inferShapePartial({ a: [2, 1], b: [0, 3] })).to.deep.equal([[[2, 1], [0, 3]], [[2, 3]], []]);
    // Backward: where the other input is 1 (or absent), an unknown dim equals the output's.
    const z = sym.elemwise_add({ lhs: y, rhs: sym.Variable("c") });
    expect(z.inferShapePartial({ a: [1, 3], b: [0, 0], c: [4, 3] })[0]).to.deep.equal([[1, 3], [4, 0], [4, 3]]);
    expect(z.inferShapePartial({ a: [3], b: [0, 0], c: [4, 3] })[0]).to.deep.equal([[3], [4, 0], [4, 3]]);
    expect(() => y.inferShape({ a: [2, 3], b: [4, 3] })).to.throw(/badd \(broadcast_add\).*operands could not be broadcast together with shapes \[2,3\] \[4,3\]/);
  });

  it("broadcast_to: shape with 0 keeps a dim; forward, gradient, inference and errors", () => {
    const x = sym.Variable("x");
    const y = sym.broadcast_to({ data: x, shape: [2, 0] });
    checkForward(y, { shapes: { x: [1, 3] }, values: { x: [1, 2, 3] }, expected: [[1, 2, 3, 1, 2, 3]], expectedShapes: [[2, 3]] });
    checkGradient(y, { shapes: { x: [1, 3] } });
    const y3 = sym.broadcast_to({ data: x, shape: [2, 3, 4] });
    checkForward(y3, { shapes: { x: [2, 1, 1] }, values: { x: [5, 7] }, expected: [[...Array(12).fill(5), ...Array(12).fill(7)]] });
    checkGradient(y3, { shapes: { x: [2, 1, 1] } });
    checkGradient(sym.broadcast_to({ data: x, shape: [3, 2, 0] }), { shapes: { x: [1, 2, 2] } });
    // Backward: a kept dim (0 in shape) comes from the output.
    const z = sym.elemwise_add({ lhs: sym.broadcast_to({ data: x, shape: [4, 0] }), rhs: sym.Variable("c") });
    expect(z.inferShapePartial({ c: [4, 5] })[0]).to.deep.equal([[0, 5], [4, 5]]);
    expect(sym.broadcast_to({ data: x, shape: [4, 0], name: "bt" }).inferShapePartial({})[1]).to.deep.equal([[4, 0]]);
    expect(() => sym.broadcast_to({ data: x, shape: [2, 3], name: "bt" }).inferShape({ x: [2, 2] })).to.throw(/bt \(broadcast_to\).*cannot be broadcasted from \[2,2\] to \[2,3\]/);
    expect(() => sym.broadcast_to({ data: x, shape: [2, 3, 4], name: "bt" }).inferShape({ x: [2, 1] })).to.throw(/bt \(broadcast_to\).*\[2,1\] cannot be broadcasted to \[2,3,4\]/);
  });

  it("broadcast_axis (broadcast_axes): forward, gradient, negative axes, inference and errors", () => {
    const x = sym.Variable("x");
    const y = sym.broadcast_axis({ data: x, axis: [0, 2], size: [2, 2] });
    checkForward(y, { shapes: { x: [1, 3, 1] }, values: { x: [1, 2, 3] }, expected: [[1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3]], expectedShapes: [[2, 3, 2]] });
    checkGradient(y, { shapes: { x: [1, 3, 1] } });
    const neg = sym.broadcast_axes({ data: x, axis: -1, size: 4 });
    checkForward(neg, { shapes: { x: [2, 1] }, values: { x: [1, 2] }, expected: [[1, 1, 1, 1, 2, 2, 2, 2]], expectedShapes: [[2, 4]] });
    checkGradient(neg, { shapes: { x: [2, 1] } });
    // Backward: the input is the output with the broadcast axes set to 1.
    const z = sym.elemwise_add({ lhs: sym.broadcast_axis({ data: x, axis: 1, size: 3 }), rhs: sym.Variable("c") });
    expect(z.inferShape({ c: [2, 3, 5] })[0]).to.deep.equal([[2, 1, 5], [2, 3, 5]]);
    expect(() => sym.broadcast_axis({ data: x, axis: 0, size: 3, name: "ba" }).inferShape({ x: [2, 2] })).to.throw(/ba \(broadcast_axis\).*must have size 1/);
    expect(() => sym.broadcast_axis({ data: x, axis: [0, 1], size: 3, name: "ba" }).inferShape({ x: [1, 1] })).to.throw(/same length/);
    expect(() => sym.broadcast_axis({ data: x, axis: 2, size: 3, name: "ba" }).inferShape({ x: [1, 1] })).to.throw(/out of range/);
  });

  it("broadcast_like: to rhs's shape or along given axes; rhs gets no gradient", () => {
    const l = sym.Variable("l");
    const r = sym.Variable("r");
    const y = sym.broadcast_like({ lhs: l, rhs: r });
    checkForward(y, { shapes: { l: [1, 3], r: [2, 3] }, values: { l: [1, 2, 3] }, expected: [[1, 2, 3, 1, 2, 3]] });
    checkGradient(y, { shapes: { l: [1, 3], r: [2, 3] } });
    const ax = sym.broadcast_like({ lhs: l, rhs: r, lhs_axes: [0], rhs_axes: [2] });
    checkForward(ax, { shapes: { l: [1, 2], r: [5, 6, 3] }, values: { l: [7, 8] }, expected: [[7, 8, 7, 8, 7, 8]], expectedShapes: [[3, 2]] });
    checkGradient(ax, { shapes: { l: [1, 2], r: [2, 1, 3] } });
    const exe = y.simpleBind({ ctx: reference(), shapes: { l: [1, 3], r: [2, 3] } });
    exe.forward(true);
    exe.backward([nd.ones([2, 3], { ctx: reference() })]);
    expect(exe.gradDict.r.toArray()).to.deep.equal([0, 0, 0, 0, 0, 0]);
    expect(exe.gradDict.l.toArray()).to.deep.equal([2, 2, 2]);
    expect(() => sym.broadcast_like({ lhs: l, rhs: r, name: "bl" }).inferShape({ l: [2, 3], r: [4, 3] })).to.throw(/bl \(broadcast_like\).*\[2,3\] to \[4,3\]/);
    expect(() => sym.broadcast_like({ lhs: l, rhs: r, lhs_axes: [0, 1], rhs_axes: [0] }).inferShape({ l: [1, 1], r: [4, 3] })).to.throw(/same length/);
  });

  it("names nodes after the op", () => {
    withNameManager(() => {
      expect(sym.broadcast_add({ lhs: sym.Variable("a"), rhs: sym.Variable("b") }).name).to.equal("broadcast_add0");
      expect(sym.broadcast_plus({ lhs: sym.Variable("a"), rhs: sym.Variable("b") }).name).to.equal("broadcast_plus0");
    });
  });
});
