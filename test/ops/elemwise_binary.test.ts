import { expect } from "chai";
import { sym, Symbol, reference, nd, withNameManager } from "../../index.js";
import { checkForward, checkGradient } from "../helpers/op_check.js";
import * as binaryOps from "../../compiler/ops/elemwise_binary.js";
import { requireComputes } from "./compute_coverage.test.js";

requireComputes(binaryOps);

function op(name: string): (args: Record<string, unknown>) => Symbol {
  const f = (sym as unknown as Record<string, (args: Record<string, unknown>) => Symbol>)[name];
  expect(f, `sym.${name}`).to.be.a("function");
  return f;
}

const lhs = [1, -2, 3, 0.5, 4, -1];
const rhs = [2, -2, -1, 4, 0.5, 3];

/** [op, legacy/alias names, expected(lhs, rhs) written out by hand, gradient ranges]. */
const cases: [string, string[], number[], Record<string, [number, number]>][] = [
  ["elemwise_add", ["_Plus", "_plus", "_add"], [3, -4, 2, 4.5, 4.5, 2], {}],
  ["elemwise_sub", ["_Minus", "_minus", "_sub"], [-1, 0, 4, -3.5, 3.5, -4], {}],
  ["elemwise_mul", ["_Mul", "_mul"], [2, 4, -3, 2, 2, -3], {}],
  ["elemwise_div", ["_Div", "_div"], [0.5, 1, -3, 0.125, 8, -1 / 3], { lhs: [-1, 1], rhs: [0.5, 2] }],
  ["_maximum", ["_Maximum"], [2, -2, 3, 4, 4, 3], {}],
  ["_minimum", ["_Minimum"], [1, -2, -1, 0.5, 0.5, -1], {}],
  ["_equal", ["_Equal"], [0, 1, 0, 0, 0, 0], {}],
  ["_not_equal", ["_Not_Equal"], [1, 0, 1, 1, 1, 1], {}],
  ["_greater", ["_Greater"], [0, 0, 1, 0, 1, 0], {}],
  ["_greater_equal", ["_Greater_Equal"], [0, 1, 1, 0, 1, 0], {}],
  ["_lesser", ["_Lesser"], [1, 0, 0, 1, 0, 1], {}],
  ["_lesser_equal", ["_Lesser_Equal"], [1, 1, 0, 1, 0, 1], {}],
];

describe("ops: elementwise binary", () => {
  for (const [name, aliases, want, ranges] of cases) {
    it(`${name}: forward by hand, aliases ${aliases.join(", ")}, finite-difference gradient`, () => {
      for (const n of [name, ...aliases]) {
        const y = op(n)({ lhs: sym.Variable("lhs"), rhs: sym.Variable("rhs") });
        expect(y.graph().nodes.at(-1)!.op!.name).to.equal(name);
        checkForward(y, { shapes: { lhs: [2, 3], rhs: [2, 3] }, values: { lhs, rhs }, expected: [want], tol: 1e-12 });
      }
      const y = op(name)({ lhs: sym.Variable("lhs"), rhs: sym.Variable("rhs") });
      checkGradient(y, { shapes: { lhs: [2, 3], rhs: [2, 3] }, range: ranges });
    });
  }

  it("_power: forward, gradient for positive bases, and aliases", () => {
    const y = sym._power({ lhs: sym.Variable("lhs"), rhs: sym.Variable("rhs") });
    checkForward(y, { shapes: { lhs: [4], rhs: [4] }, values: { lhs: [2, 9, 4, -2], rhs: [3, 0.5, -1, 2] }, expected: [[8, 3, 0.25, 4]] });
    checkForward(sym._Power({ lhs: sym.Variable("lhs"), rhs: sym.Variable("rhs") }), { shapes: { lhs: [1], rhs: [1] }, values: { lhs: [3], rhs: [2] }, expected: [[9]] });
    checkForward(sym._pow({ lhs: sym.Variable("lhs"), rhs: sym.Variable("rhs") }), { shapes: { lhs: [1], rhs: [1] }, values: { lhs: [3], rhs: [2] }, expected: [[9]] });
    checkGradient(y, { shapes: { lhs: [2, 3], rhs: [2, 3] }, range: { lhs: [0.5, 2], rhs: [-2, 2] } });
  });

  it("max/min send the gradient to lhs on ties; comparisons give zero gradients", () => {
    for (const [name, wantL, wantR] of [
      ["_maximum", [1, 1, 0], [0, 0, 1]],
      ["_minimum", [1, 0, 1], [0, 1, 0]],
      ["_greater", [0, 0, 0], [0, 0, 0]],
    ] as [string, number[], number[]][]) {
      const exe = op(name)({ lhs: sym.Variable("l"), rhs: sym.Variable("r") }).simpleBind({ ctx: reference(), shapes: { l: [3], r: [3] } });
      exe.argDict.l.set([1, 2, 0]);
      exe.argDict.r.set([1, 1, 1]);
      exe.forward(true);
      exe.backward([nd.ones([3], { ctx: reference() })]);
      expect([exe.gradDict.l.toArray(), exe.gradDict.r.toArray()], name).to.deep.equal([wantL, wantR]);
    }
  });

  it("x * x and x / x use one entry twice (gradients add up)", () => {
    const x = sym.Variable("x");
    checkGradient(sym.elemwise_mul({ lhs: x, rhs: x }), { shapes: { x: [4] } });
    checkGradient(sym.elemwise_div({ lhs: x, rhs: sym.elemwise_add({ lhs: x, rhs: x }) }), { shapes: { x: [4] }, range: { x: [0.5, 2] } });
  });

  it("shape inference: MXNet's a (0,10) + b (12,0) case, and errors naming the node", () => {
    withNameManager(() => {
      const a = sym.Variable("a");
      const b = sym.Variable("b");
      const c = a.plus(b);
      expect(c.name).to.equal("_plus0");
      expect(c.inferShape({ a: [0, 10], b: [12, 0] })).to.deep.equal([[[12, 10], [12, 10]], [[12, 10]], []]);
      expect(() => sym.elemwise_mul({ lhs: a, rhs: b, name: "m" }).inferShape({ a: [2, 3], b: [2, 4] })).to.throw(/m \(elemwise_mul\).*\[2,3\].*\[2,4\]|m \(elemwise_mul\).*\[2,4\].*\[2,3\]/);
      expect(() => sym.elemwise_mul({ lhs: a, rhs: b }).inferShape({ a: [2, 3], b: [3] })).to.throw(/elemwise_mul/);
    });
  });
});
