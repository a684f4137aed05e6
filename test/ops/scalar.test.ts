import { expect } from "chai";
import { sym, Symbol, reference, nd, withNameManager } from "../../index.js";
import { checkForward, checkGradient } from "../helpers/op_check.js";
import * as scalarOps from "../../compiler/ops/scalar.js";
import { requireComputes } from "./compute_coverage.test.js";

requireComputes(scalarOps);

function op(name: string): (args: Record<string, unknown>) => Symbol {
  const f = (sym as unknown as Record<string, (args: Record<string, unknown>) => Symbol>)[name];
  expect(f, `sym.${name}`).to.be.a("function");
  return f;
}

/** [op, scalar, inputs, expected] computed by hand. */
const forwardCases: [string, number, number[], number[]][] = [
  ["_plus_scalar", 2, [1, -1.5, 0], [3, 0.5, 2]],
  ["_minus_scalar", 2, [1, -1.5, 0], [-1, -3.5, -2]],
  ["_rminus_scalar", 2, [1, -1.5, 0], [1, 3.5, 2]],
  ["_mul_scalar", -3, [1, -1.5, 0], [-3, 4.5, 0]],
  ["_div_scalar", 4, [1, -2, 6], [0.25, -0.5, 1.5]],
  ["_rdiv_scalar", 3, [1, -2, 6], [3, -1.5, 0.5]],
  ["_mod_scalar", 3, [7, -7, 6.5, -0.5, 6], [1, 2, 0.5, 2.5, 0]],
  ["_mod_scalar", -3, [7, -7, 0.5], [-2, -1, -2.5]],
  ["_mod_scalar", 0, [7, -7], [0, 0]],
  ["_rmod_scalar", 7, [3, -3, 2.5], [1, -2, 2]],
  ["_power_scalar", 2, [3, -2, 0.5], [9, 4, 0.25]],
  ["_power_scalar", 0.5, [4, 9, 0], [2, 3, 0]],
  ["_rpower_scalar", 2, [3, -1, 0.5], [8, 0.5, Math.SQRT2]],
  ["_maximum_scalar", 0.5, [1, 0.2, 0.5], [1, 0.5, 0.5]],
  ["_minimum_scalar", 0.5, [1, 0.2, 0.5], [0.5, 0.2, 0.5]],
  ["_hypot_scalar", 4, [3, -3, 0], [5, 5, 4]],
  // MXNet's documented example: smooth_l1([1, 2, 3, 4], sigma=1) = [0.5, 1.5, 2.5, 3.5].
  ["smooth_l1", 1, [1, 2, 3, 4, 0.5, -0.5, -2], [0.5, 1.5, 2.5, 3.5, 0.125, 0.125, 1.5]],
  ["smooth_l1", 2, [0.1, 1, -0.2], [0.02, 0.875, 0.08]],
  ["_equal_scalar", 1, [0, 1, 2], [0, 1, 0]],
  ["_not_equal_scalar", 1, [0, 1, 2], [1, 0, 1]],
  ["_greater_scalar", 1, [0, 1, 2], [0, 0, 1]],
  ["_greater_equal_scalar", 1, [0, 1, 2], [0, 1, 1]],
  ["_lesser_scalar", 1, [0, 1, 2], [1, 0, 0]],
  ["_lesser_equal_scalar", 1, [0, 1, 2], [1, 1, 0]],
  ["_logical_and_scalar", 0, [0, 2], [0, 0]],
  ["_logical_and_scalar", 3, [0, 2], [0, 1]],
  ["_logical_or_scalar", 0, [0, 2], [0, 1]],
  ["_logical_or_scalar", 3, [0, 2], [1, 1]],
  ["_logical_xor_scalar", 0, [0, 2], [0, 1]],
  ["_logical_xor_scalar", 3, [0, -2], [1, 0]],
];

type In = { range?: [number, number]; values?: number[] };
/** [op, scalar, inputs] for the finite-difference check, away from kinks and poles. */
const gradCases: [string, number, In][] = [
  ["_plus_scalar", 2, {}],
  ["_minus_scalar", 2, {}],
  ["_rminus_scalar", 2, {}],
  ["_mul_scalar", -3, {}],
  ["_div_scalar", 4, {}],
  ["_rdiv_scalar", 3, { range: [0.5, 2] }],
  ["_mod_scalar", 3, { values: [-2.5, -0.4, 0.7, 1.9, 4, 5.5] }],
  ["_rmod_scalar", 7, { values: [2.5, 3.3, -2.2, 1.5, -4, 3] }],
  ["_power_scalar", 2.5, { range: [0.5, 2] }],
  ["_power_scalar", 3, {}],
  ["_rpower_scalar", 2, {}],
  ["_rpower_scalar", 0.5, {}],
  ["_maximum_scalar", 0, { values: [-0.7, 0.3, -0.2, 0.9, 1.5, -2] }],
  ["_minimum_scalar", 0, { values: [-0.7, 0.3, -0.2, 0.9, 1.5, -2] }],
  ["_hypot_scalar", 0.7, {}],
  ["smooth_l1", 1, { values: [-2, -0.5, 0.3, 0.9, 1.5, 3] }],
  ["smooth_l1", 2, { values: [-2, -0.2, 0.1, 0.24, 0.3, 3] }],
  ["_equal_scalar", 1, { values: [0, 1.5, 2, -1, 0.5, 3] }],
  ["_not_equal_scalar", 1, { values: [0, 1.5, 2, -1, 0.5, 3] }],
  ["_greater_scalar", 1, { values: [0, 1.5, 2, -1, 0.5, 3] }],
  ["_greater_equal_scalar", 1, { values: [0, 1.5, 2, -1, 0.5, 3] }],
  ["_lesser_scalar", 1, { values: [0, 1.5, 2, -1, 0.5, 3] }],
  ["_lesser_equal_scalar", 1, { values: [0, 1.5, 2, -1, 0.5, 3] }],
  ["_logical_and_scalar", 1, { values: [0.5, 1.5, 2, -1, 0.5, 3] }],
  ["_logical_or_scalar", 1, { values: [0.5, 1.5, 2, -1, 0.5, 3] }],
  ["_logical_xor_scalar", 1, { values: [0.5, 1.5, 2, -1, 0.5, 3] }],
];

describe("ops: scalar", () => {
  for (const [name, scalar, xs, want] of forwardCases) {
    it(`${name} (scalar=${scalar}): forward`, () => {
      const y = op(name)({ data: sym.Variable("x"), scalar });
      checkForward(y, { shapes: { x: [xs.length] }, values: { x: xs }, expected: [want], tol: 1e-12 });
    });
  }
  for (const [name, scalar, spec] of gradCases) {
    it(`${name} (scalar=${scalar}): finite-difference gradient`, () => {
      const y = op(name)({ data: sym.Variable("x"), scalar });
      checkGradient(y, { shapes: { x: [2, 3] }, ...(spec.values ? { values: { x: spec.values } } : { range: { x: spec.range ?? [-1, 1] } }) });
    });
  }

  it("legacy names are aliases of the same rows", () => {
    const pairs: [string, string][] = [
      ["_PlusScalar", "_plus_scalar"], ["_MinusScalar", "_minus_scalar"], ["_RMinusScalar", "_rminus_scalar"],
      ["_MulScalar", "_mul_scalar"], ["_DivScalar", "_div_scalar"], ["_RDivScalar", "_rdiv_scalar"],
      ["_ModScalar", "_mod_scalar"], ["_RModScalar", "_rmod_scalar"], ["_PowerScalar", "_power_scalar"],
      ["_RPowerScalar", "_rpower_scalar"], ["_MaximumScalar", "_maximum_scalar"], ["_MinimumScalar", "_minimum_scalar"],
      ["_HypotScalar", "_hypot_scalar"], ["_EqualScalar", "_equal_scalar"], ["_NotEqualScalar", "_not_equal_scalar"],
      ["_GreaterScalar", "_greater_scalar"], ["_GreaterEqualScalar", "_greater_equal_scalar"],
      ["_LesserScalar", "_lesser_scalar"], ["_LesserEqualScalar", "_lesser_equal_scalar"],
    ];
    for (const [legacy, name] of pairs) {
      const y = op(legacy)({ data: sym.Variable("x"), scalar: 2 });
      expect(y.graph().nodes.at(-1)!.op!.name, legacy).to.equal(name);
    }
    // From an old JSON file.
    const json = JSON.stringify({
      nodes: [
        { op: "null", name: "x", inputs: [] },
        { op: "_MulScalar", name: "m", attrs: { scalar: "2.5" }, inputs: [[0, 0, 0]] },
        { op: "_RMinusScalar", name: "r", attrs: { scalar: "1", is_int: "1" }, inputs: [[1, 0, 0]] },
      ],
      arg_nodes: [0],
      node_row_ptr: [0, 1, 2, 3],
      heads: [[2, 0, 0]],
      attrs: { mxnet_version: ["int", 10901] },
    });
    checkForward(sym.fromJSON(json), { shapes: { x: [3] }, values: { x: [0, 1, -2] }, expected: [[1, -1.5, 6]] });
  });

  it("Symbol arithmetic makes scalar nodes with MXNet's names", () => {
    withNameManager(() => {
      const a = sym.Variable("a");
      const y = a.mul(2).plus(1).minus(0.5).div(4).pow(2).rminus(3).rdiv(2);
      const ops = y.graph().nodes.filter((n) => n.op).map((n) => `${n.name}:${n.op!.name}:${n.attrs.scalar}`);
      expect(ops).to.deep.equal([
        "_mulscalar0:_mul_scalar:2",
        "_plusscalar0:_plus_scalar:1",
        "_minusscalar0:_minus_scalar:0.5",
        "_divscalar0:_div_scalar:4",
        "_powerscalar0:_power_scalar:2",
        "_rminusscalar0:_rminus_scalar:3",
        "_rdivscalar0:_rdiv_scalar:2",
      ]);
      // 2 / (3 − ((2a + 1 − 0.5)/4)²) at a = 1.5: (3.5/4)² = 0.765625 → 2 / 2.234375
      checkForward(y, { shapes: { a: [1] }, values: { a: [1.5] }, expected: [[2 / 2.234375]] });
      checkGradient(y, { shapes: { a: [3] }, range: { a: [-1, 1] } });
    });
  });

  it("shape inference flows both ways; the scalar defaults to 1", () => {
    const a = sym.Variable("a");
    const y = sym._mul_scalar({ data: a }).plus(sym.Variable("b"));
    const [args, outs] = y.inferShape({ b: [3, 4] });
    expect(args).to.deep.equal([[3, 4], [3, 4]]);
    expect(outs).to.deep.equal([[3, 4]]);
    checkForward(sym._plus_scalar({ data: a }), { shapes: { a: [2] }, values: { a: [1, 2] }, expected: [[2, 3]] });
    expect(() => sym._plus_scalar({ data: a, scalar: "x" as never })).to.throw(/scalar/);
  });

  it("comparison gradients are zero; max/min pass the gradient to x on ties", () => {
    const x = sym.Variable("x");
    for (const [name, want] of [
      ["_greater_scalar", [0, 0, 0]],
      ["_maximum_scalar", [1, 1, 0]],
      ["_minimum_scalar", [0, 1, 1]],
    ] as [string, number[]][]) {
      const exe = op(name)({ data: x, scalar: 1 }).simpleBind({ ctx: reference(), shapes: { x: [3] } });
      exe.argDict.x.set([2, 1, 0]);
      exe.forward(true);
      exe.backward([nd.ones([3], { ctx: reference() })]);
      expect(exe.gradDict.x.toArray(), name).to.deep.equal(want);
    }
  });
});
