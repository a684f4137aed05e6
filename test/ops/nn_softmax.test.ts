/** softmax and log_softmax: MXNet's example, axes, temperature, lengths, dtype, FD gradients. */
import { expect } from "chai";
import { sym, Symbol, InferenceError } from "../../index.js";
import { checkForward, checkGradient } from "../helpers/op_check.js";

const data = (): Symbol => sym.Variable("data");
/** A plain softmax of one row, written out again for the expected values. */
const smx = (row: number[], T = 1): number[] => {
  const e = row.map((v) => Math.exp(v / T));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};
const MXNET_EXAMPLE = [0.005806628431527065, 0.8617800692577713, 0.11662924976066819, 0.015784052550033668];

describe("nn: softmax", () => {
  it("reproduces MXNet's example along the last axis", () => {
    checkForward(sym.softmax({ data: data(), name: "sm" }), { shapes: { data: [1, 4] }, values: { data: [1, 6, 4, 2] }, expected: [MXNET_EXAMPLE], tol: 1e-12 });
  });

  it("works along axis 0 and with a temperature", () => {
    // (2, 3) along axis 0: columns (1, 4), (2, 0), (3, 3).
    const cols = [smx([1, 4]), smx([2, 0]), smx([3, 3])];
    const want = [cols[0][0], cols[1][0], cols[2][0], cols[0][1], cols[1][1], cols[2][1]];
    checkForward(sym.softmax({ data: data(), axis: 0, name: "sm" }), { shapes: { data: [2, 3] }, values: { data: [1, 2, 3, 4, 0, 3] }, expected: [want], tol: 1e-12 });
    checkForward(sym.softmax({ data: data(), temperature: 2, name: "sm" }), { shapes: { data: [1, 4] }, values: { data: [1, 6, 4, 2] }, expected: [smx([1, 6, 4, 2], 2)], tol: 1e-12 });
  });

  it("masks positions at or beyond each row's length to 0", () => {
    const s = sym.softmax({ data: data(), use_length: true, name: "sm" });
    expect(s.listArguments()).to.deep.equal(["data", "sm_length"]);
    expect(s.inferShape({ data: [2, 3, 4] })[0]).to.deep.equal([[2, 3, 4], [2, 3]]);
    expect(sym.softmax({ data: data(), use_length: true, axis: 1, name: "sm" }).inferShape({ data: [2, 3, 4] })[0][1]).to.deep.equal([2, 4]);
    checkForward(s, {
      shapes: { data: [2, 4] },
      values: { data: [1, 2, 3, 4, 0, 1, 5, 9], sm_length: [2, 3] },
      expected: [[...smx([1, 2]), 0, 0, ...smx([0, 1, 5]), 0]],
      tol: 1e-12,
    });
  });

  it("outputs `dtype` when given and keeps the data's type otherwise", () => {
    expect(sym.softmax({ data: data(), dtype: "float64", name: "sm" }).inferType({ data: "float32" })[1]).to.deep.equal(["float64"]);
    expect(sym.log_softmax({ data: data(), name: "sm" }).inferType({ data: "float16" })[1]).to.deep.equal(["float16"]);
    expect(sym.softmax({ data: data(), name: "sm" }).plus(sym.Variable("y")).inferShapePartial({ y: [3, 2] })[0][0]).to.deep.equal([3, 2]);
  });

  it("reports an axis out of range", () => {
    expect(() => sym.softmax({ data: data(), axis: 2, use_length: true, name: "sm9" }).inferShape({ data: [2, 3] })).to.throw(InferenceError, /sm9.*axis 2.*\[2,3\]/);
    expect(() => sym.log_softmax({ data: data(), axis: -3, name: "lsm9" }).inferShape({ data: [2, 3] })).to.throw(InferenceError, /lsm9.*log_softmax.*axis -3/);
  });

  it("has finite-difference gradients (axes, temperature, lengths, dtype)", () => {
    checkGradient(sym.softmax({ data: data(), name: "sm" }), { shapes: { data: [2, 3] } });
    checkGradient(sym.softmax({ data: data(), axis: 0, name: "sm" }), { shapes: { data: [2, 3, 2] } });
    checkGradient(sym.softmax({ data: data(), axis: -2, temperature: 0.5, name: "sm" }), { shapes: { data: [2, 3, 2] } });
    checkGradient(sym.softmax({ data: data(), use_length: true, name: "sm" }), { shapes: { data: [2, 4] }, values: { sm_length: [2, 4] }, noGrad: ["sm_length"] });
    checkGradient(sym.softmax({ data: data(), dtype: "float64", name: "sm" }), { shapes: { data: [3, 2] } });
  });
});

describe("nn: log_softmax", () => {
  it("is the log of softmax (MXNet's example)", () => {
    checkForward(sym.log_softmax({ data: data(), name: "lsm" }), { shapes: { data: [1, 4] }, values: { data: [1, 6, 4, 2] }, expected: [MXNET_EXAMPLE.map(Math.log)], tol: 1e-12 });
    checkForward(sym.log_softmax({ data: data(), axis: 0, temperature: 3, name: "lsm" }), {
      shapes: { data: [3, 1] },
      values: { data: [0, 3, -3] },
      expected: [smx([0, 3, -3], 3).map(Math.log)],
      tol: 1e-12,
    });
    checkForward(sym.log_softmax({ data: data(), use_length: true, name: "lsm" }), {
      shapes: { data: [1, 3] },
      values: { data: [2, 1, 7], lsm_length: [2] },
      expected: [[...smx([2, 1]).map(Math.log), 0]],
      tol: 1e-12,
    });
  });

  it("has finite-difference gradients", () => {
    checkGradient(sym.log_softmax({ data: data(), name: "lsm" }), { shapes: { data: [2, 4] } });
    checkGradient(sym.log_softmax({ data: data(), axis: 1, temperature: 1.5, name: "lsm" }), { shapes: { data: [2, 3, 2] } });
    checkGradient(sym.log_softmax({ data: data(), use_length: true, name: "lsm" }), { shapes: { data: [3, 3] }, values: { lsm_length: [1, 2, 3] }, noGrad: ["lsm_length"] });
  });
});
