import { expect } from "chai";
import { sym, Symbol, withNameManager } from "../../index.js";
import { checkForward, checkGradient } from "../helpers/op_check.js";
import * as unaryOps from "../../compiler/ops/elemwise_unary.js";
import { requireComputes } from "./compute_coverage.test.js";

requireComputes(unaryOps);

/** Looks an op function up by name (the table below is dynamic; typed calls are tested separately). */
function op(name: string): (args: Record<string, unknown>) => Symbol {
  const f = (sym as unknown as Record<string, (args: Record<string, unknown>) => Symbol>)[name];
  expect(f, `sym.${name}`).to.be.a("function");
  return f;
}

const PI = Math.PI;

/** [op, inputs, expected outputs] with values known independently (tables, identities). */
const forwardCases: [string, number[], number[]][] = [
  ["exp", [0, 1, -1, 2], [1, Math.E, 1 / Math.E, 7.38905609893065]],
  ["expm1", [0, 1, 1e-10], [0, 1.718281828459045, 1.00000000005e-10]],
  ["log", [1, Math.E, 10, 0.5], [0, 1, 2.302585092994046, -0.6931471805599453]],
  ["log10", [100, 0.001], [2, -3]],
  ["log2", [8, 0.25], [3, -2]],
  ["log1p", [0, Math.E - 1, 1e-10], [0, 1, 9.9999999995e-11]],
  ["sqrt", [4, 2, 0.25, 9], [2, Math.SQRT2, 0.5, 3]],
  ["rsqrt", [4, 0.25, 16, 1], [0.5, 2, 0.25, 1]],
  ["cbrt", [27, -8], [3, -2]],
  ["rcbrt", [8, -27], [0.5, -1 / 3]],
  ["square", [-3, 0.5, 2, 0], [9, 0.25, 4, 0]],
  ["abs", [-3, 0.5, 0, 2], [3, 0.5, 0, 2]],
  ["negative", [-3, 0.5, 0, 2], [3, -0.5, 0, -2]],
  ["reciprocal", [2, -4, 0.5, 1], [0.5, -0.25, 2, 1]],
  ["sign", [-2, 0, 3.5, -0.1], [-1, 0, 1, -1]],
  ["sin", [0, PI / 2, PI / 6, -PI / 2], [0, 1, 0.5, -1]],
  ["cos", [0, PI / 3, PI, PI / 2], [1, 0.5, -1, 0]],
  ["tan", [PI / 4, 0, -PI / 4], [1, 0, -1]],
  ["arcsin", [0.5, 1], [PI / 6, PI / 2]],
  ["arccos", [0.5, -1], [PI / 3, PI]],
  ["arctan", [1, -1], [PI / 4, -PI / 4]],
  ["degrees", [PI, -PI / 2], [180, -90]],
  ["radians", [180, 90], [PI, PI / 2]],
  ["sinh", [1, 0], [1.1752011936438014, 0]],
  ["cosh", [1, 0], [1.5430806348152437, 1]],
  ["tanh", [0, 1, -0.5, 2], [0, 0.7615941559557649, -0.46211715726000974, 0.9640275800758169]],
  ["arcsinh", [1, 0], [0.881373587019543, 0]],
  ["arccosh", [2, 1], [1.3169578969248166, 0]],
  ["arctanh", [0.5, 0], [0.5493061443340549, 0]],
  ["sigmoid", [0, 2, -1, Math.log(3)], [0.5, 0.8807970779778823, 0.2689414213699951, 0.75]],
  ["softsign", [1, -3, 0], [0.5, -0.75, 0]],
  ["relu", [-1, 0, 2.5, -0.3], [0, 0, 2.5, 0]],
  ["floor", [1.5, -1.5, 2, -0.2], [1, -2, 2, -1]],
  ["ceil", [1.5, -1.5, 2, -0.2], [2, -1, 2, 0]],
  ["round", [0.5, -0.5, 1.5, 2.5, -2.5, 1.4, -1.6], [1, -1, 2, 3, -3, 1, -2]],
  ["rint", [0.5, -0.5, 1.5, 2.5, -2.5, 1.6, -3.5], [0, 0, 2, 2, -2, 2, -4]],
  ["trunc", [1.7, -1.7, 0.2, -0.2], [1, -1, 0, 0]],
  ["fix", [1.7, -1.7, 0.2, -2.9], [1, -1, 0, -2]],
  ["logical_not", [0, 2, -1, 0.5], [1, 0, 0, 0]],
  // erf: tabulated values (Abramowitz & Stegun, Table 7.1, and high-precision references).
  ["erf", [0.5, 1, -2, 3, 0.1, 0, 1e-5], [0.5204998778130465, 0.8427007929497149, -0.9953222650189527, 0.9999779095030014, 0.1124629160182849, 0, 1.1283791670578999e-5]],
  ["erfinv", [0.5204998778130465, -0.8427007929497149, 0, 0.9953222650189527], [0.5, -1, 0, 2]],
];

/** Input ranges (or fixed values) for the finite-difference check, away from kinks and domain edges. */
const gradInputs: Record<string, { range?: [number, number]; values?: number[] }> = {
  log: { range: [0.5, 2] },
  log10: { range: [0.5, 2] },
  log2: { range: [0.5, 2] },
  log1p: { range: [-0.5, 1] },
  sqrt: { range: [0.5, 2] },
  rsqrt: { range: [0.5, 2] },
  cbrt: { range: [0.5, 2] },
  rcbrt: { range: [0.5, 2] },
  reciprocal: { range: [0.5, 2] },
  arcsin: { range: [-0.8, 0.8] },
  arccos: { range: [-0.8, 0.8] },
  arctanh: { range: [-0.8, 0.8] },
  arccosh: { range: [1.5, 3] },
  erfinv: { range: [-0.9, 0.9] },
  abs: { values: [-0.7, 0.3, -0.2, 0.9, 1.5, -2] },
  relu: { values: [-0.7, 0.3, -0.2, 0.9, 1.5, -2] },
  softsign: { values: [-0.7, 0.3, -0.2, 0.9, 1.5, -2] },
  sign: { values: [0.3, -1.2, 2.7, -0.4, 1.1, -2.2] },
  round: { values: [0.3, -1.2, 2.7, -0.4, 1.1, -2.2] },
  rint: { values: [0.3, -1.2, 2.7, -0.4, 1.1, -2.2] },
  floor: { values: [0.3, -1.2, 2.7, -0.4, 1.1, -2.2] },
  ceil: { values: [0.3, -1.2, 2.7, -0.4, 1.1, -2.2] },
  trunc: { values: [0.3, -1.2, 2.7, -0.4, 1.1, -2.2] },
  fix: { values: [0.3, -1.2, 2.7, -0.4, 1.1, -2.2] },
  logical_not: { values: [0.3, -1.2, 2.7, -0.4, 1.1, -2.2] },
};

describe("ops: elementwise unary", () => {
  for (const [name, xs, want] of forwardCases) {
    it(`${name}: forward on known values and finite-difference gradient`, () => {
      const x = sym.Variable("x");
      const y = op(name)({ data: x });
      checkForward(y, { shapes: { x: [xs.length] }, values: { x: xs }, expected: [want], tol: 1e-12 });
      const spec = gradInputs[name] ?? { range: [-1, 1] as [number, number] };
      checkGradient(y, {
        shapes: { x: [2, 3] },
        ...(spec.values ? { values: { x: spec.values } } : { range: { x: spec.range! } }),
      });
    });
  }

  it("zero-gradient ops give exactly zero", () => {
    const x = sym.Variable("x");
    for (const name of ["sign", "round", "rint", "floor", "ceil", "trunc", "fix", "logical_not"]) {
      const exe = op(name)({ data: x }).simpleBind({ ctx: referenceCtx(), shapes: { x: [3] } });
      exe.argDict.x.set([0.3, -1.5, 2]);
      exe.forward(true);
      exe.backward([ones([3])]);
      expect(exe.gradDict.x.toArray(), name).to.deep.equal([0, 0, 0]);
    }
  });

  it("relu's gradient at 0 is 0; abs's is 0", () => {
    for (const name of ["relu", "abs"]) {
      const exe = op(name)({ data: sym.Variable("x") }).simpleBind({ ctx: referenceCtx(), shapes: { x: [3] } });
      exe.argDict.x.set([0, 1, -1]);
      exe.forward(true);
      exe.backward([ones([3])]);
      expect(exe.gradDict.x.toArray(), name).to.deep.equal(name === "relu" ? [0, 1, 0] : [0, 1, -1]);
    }
  });

  it("erf matches its series to 1e-15 across [-6, 6]", () => {
    // An independent check: Taylor series with exact rational coefficients for |x| ≤ 1.
    const xs = [-1, -0.75, -0.3, 0.05, 0.25, 0.8, 1];
    const series = (x: number): number => {
      let term = x;
      let s = x;
      for (let n = 1; n < 60; n++) {
        term *= (-x * x) / n;
        s += term / (2 * n + 1);
      }
      return (2 / Math.sqrt(PI)) * s;
    };
    checkForward(sym.erf({ data: sym.Variable("x") }), { shapes: { x: [xs.length] }, values: { x: xs }, expected: [xs.map(series)], tol: 1e-15 });
    // Tails: erf(±6) rounds to ±1; erfc(4) = 1.541725790028002e-8.
    checkForward(sym.erf({ data: sym.Variable("x") }), { shapes: { x: [3] }, values: { x: [6, -6, 4] }, expected: [[1, -1, 1 - 1.541725790028002e-8]], tol: 1e-16 });
  });

  it("clip: forward, gradient inside [a_min, a_max] only (boundaries included)", () => {
    const x = sym.Variable("x");
    const y = sym.clip({ data: x, a_min: -1, a_max: 2 });
    checkForward(y, { shapes: { x: [5] }, values: { x: [-3, -1, 0.5, 2, 5] }, expected: [[-1, -1, 0.5, 2, 2]] });
    checkGradient(y, { shapes: { x: [5] }, values: { x: [-3, -0.5, 0.5, 1.7, 5] } });
    const exe = y.simpleBind({ ctx: referenceCtx(), shapes: { x: [5] } });
    exe.argDict.x.set([-3, -1, 0.5, 2, 5]);
    exe.forward(true);
    exe.backward([ones([5])]);
    expect(exe.gradDict.x.toArray()).to.deep.equal([0, 1, 1, 1, 0]);
    expect(() => sym.clip({ data: x, a_min: 0 } as never).inferShape({ x: [2] })).to.throw(/a_max/);
  });

  it("hard_sigmoid: defaults alpha 0.2, beta 0.5, and custom params", () => {
    const x = sym.Variable("x");
    checkForward(sym.hard_sigmoid({ data: x }), { shapes: { x: [4] }, values: { x: [0, 5, -5, 1] }, expected: [[0.5, 1, 0, 0.7]] });
    const y = sym.hard_sigmoid({ data: x, alpha: 0.5, beta: 0.1 });
    checkForward(y, { shapes: { x: [3] }, values: { x: [1, 3, -1] }, expected: [[0.6, 1, 0]] });
    checkGradient(sym.hard_sigmoid({ data: x }), { shapes: { x: [5] }, values: { x: [-4, -1, 0.3, 2, 3.3] } });
    checkGradient(y, { shapes: { x: [4] }, values: { x: [-1, 0.5, 1.5, 3] } });
  });

  it("infers shapes forward and backward, and names nodes", () => {
    withNameManager(() => {
      const a = sym.Variable("a");
      const b = sym.Variable("b");
      const y = sym.exp({ data: a }).plus(b);
      const [args, outs] = y.inferShape({ b: [2, 3] });
      expect(args).to.deep.equal([[2, 3], [2, 3]]);
      expect(outs).to.deep.equal([[2, 3]]);
      expect(sym.tanh({ data: a }).name).to.equal("tanh0");
      // Partial: a (0, 3) + b (2, 0) through sqrt.
      const [pa] = sym.sqrt({ data: a }).plus(b).inferShapePartial({ a: [0, 3], b: [2, 0] });
      expect(pa).to.deep.equal([[2, 3], [2, 3]]);
    });
  });

  it("reports inconsistent shapes with the node and op", () => {
    const a = sym.Variable("a");
    const y = sym.elemwise_add({ lhs: sym.sigmoid({ data: a, name: "sig" }), rhs: sym.Variable("b"), name: "add1" });
    expect(() => y.inferShape({ a: [2, 3], b: [3, 2] })).to.throw(/add1 \(elemwise_add\).*\[2,3\].*\[3,2\]|add1 \(elemwise_add\).*\[3,2\].*\[2,3\]/);
    // Known output, unknown input: the unary op fills its input backward.
    const [args] = sym.elemwise_add({ lhs: sym.sigmoid({ data: a }), rhs: sym.Variable("b") }).inferShape({ b: [4] });
    expect(args).to.deep.equal([[4], [4]]);
  });
});

import { reference, nd, NDArray } from "../../index.js";
function referenceCtx() {
  return reference();
}
function ones(shape: number[]): NDArray {
  return nd.ones(shape, { ctx: reference(), dtype: "float64" });
}
