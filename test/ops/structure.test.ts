import { expect } from "chai";
import { sym, reference, nd, withNameManager } from "../../index.js";
import { checkForward, checkGradient } from "../helpers/op_check.js";
import { gradientCheckedByHand } from "./coverage.test.js";

const ref = reference();

describe("structure ops", () => {
  it("BlockGrad / stop_gradient: identity forward, zero gradient", () =>
    withNameManager(() => {
      const x = sym.Variable("x");
      checkForward(sym.BlockGrad({ data: x }), { shapes: { x: [3] }, values: { x: [1, -2, 3] }, expected: [[1, -2, 3]] });
      checkForward(sym.stop_gradient({ data: x }), { shapes: { x: [2] }, values: { x: [4, 5] }, expected: [[4, 5]] });
      // Its gradient is zero by definition, not the derivative of its output: check by hand.
      const exe = sym.BlockGrad({ data: x }).plus(x).simpleBind({ ctx: ref, shapes: { x: [2] } });
      exe.forward(true, { x: [1, 2] });
      exe.backward(nd.array([3, 4], { ctx: ref }));
      expect(exe.gradDict.x.toArray()).to.deep.equal([3, 4]);
      gradientCheckedByHand.add("BlockGrad");
    }));

  it("_copy / identity: forward and gradient", () =>
    withNameManager(() => {
      const x = sym.Variable("x");
      checkForward(sym.identity({ data: x }), { shapes: { x: [2] }, values: { x: [7, 8] }, expected: [[7, 8]] });
      checkGradient(sym._copy({ data: x }), { shapes: { x: [2, 2] } });
    }));

  it("zeros_like / ones_like: constant values of the input's shape, zero gradient", () =>
    withNameManager(() => {
      const x = sym.Variable("x");
      checkForward(sym.zeros_like({ data: x }), { shapes: { x: [2, 2] }, expected: [[0, 0, 0, 0]], expectedShapes: [[2, 2]] });
      checkForward(sym.ones_like({ data: x }), { shapes: { x: [3] }, expected: [[1, 1, 1]] });
      checkGradient(sym.zeros_like({ data: x }), { shapes: { x: [3] } });
      checkGradient(sym.ones_like({ data: x }), { shapes: { x: [3] } });
    }));

  it("_zeros / _ones: shapes from params, 0 dims from the consumer, dtype param", () =>
    withNameManager(() => {
      const x = sym.Variable("x");
      checkForward(sym._zeros({ shape: [2, 3] }), { shapes: {}, expected: [[0, 0, 0, 0, 0, 0]], expectedShapes: [[2, 3]] });
      checkForward(sym._ones({ shape: [2] }), { shapes: {}, expected: [[1, 1]] });
      checkForward(x.plus(sym._ones({ shape: [0, 2], dtype: "float64" })), { shapes: { x: [2, 2] }, values: { x: [1, 2, 3, 4] }, expected: [[2, 3, 4, 5]] });
      expect(sym._ones({ shape: [2], dtype: "int32" }).inferType()[1]).to.deep.equal(["int32"]);
      expect(() => sym._zeros({ shape: [0, 2] }).inferShape()).to.throw(/cannot decide the shape of _zeros\d_output/);
    }));

  it("Cast: converts (truncating to integers), gradient flows back in the input's type", () =>
    withNameManager(() => {
      const x = sym.Variable("x");
      checkForward(sym.Cast({ data: x, dtype: "int32" }), { shapes: { x: [4] }, values: { x: [1.7, -1.7, 2.5, -0.2] }, expected: [[1, -1, 2, 0]] });
      checkForward(sym.Cast({ data: x, dtype: "uint8" }), { shapes: { x: [2] }, values: { x: [257, -1] }, expected: [[1, 255]] });
      checkForward(sym.Cast({ data: x, dtype: "int64" }), { shapes: { x: [3] }, values: { x: [3.9, -7.2, 2 ** 40 + 0.5] }, expected: [[3, -7, 2 ** 40]] });
      checkGradient(sym.Cast({ data: x, dtype: "float32" }), { shapes: { x: [3] } });
      expect(sym.Cast({ data: x, dtype: "float16" }).inferType({ x: "float64" })).to.deep.equal([["float64"], ["float16"], []]);
      expect(() => sym.Cast({ data: x } as never)).to.throw(/required parameter "dtype"/);
    }));

  it("add_n / ElementWiseSum: sums any number of inputs", () =>
    withNameManager(() => {
      const [a, b, c] = ["a", "b", "c"].map((n) => sym.Variable(n));
      checkForward(sym.add_n({ data: [a, b, c] }), { shapes: { a: [2], b: [2], c: [2] }, values: { a: [1, 2], b: [3, 4], c: [5, 6] }, expected: [[9, 12]] });
      checkGradient(sym.ElementWiseSum({ data: [a, b, a] }), { shapes: { a: [2, 2], b: [2, 2] } });
      expect(sym.add_n({ data: [a, b] }).inferShape({ a: [0, 3], b: [4, 0] })[0]).to.deep.equal([
        [4, 3],
        [4, 3],
      ]);
      expect(() => sym.add_n({ data: [a, b] }).inferShape({ a: [2], b: [3] })).to.throw(/add_n\d \(add_n\).*(\[2\].*\[3\]|\[3\].*\[2\])/);
      expect(() => sym.add_n({ data: [] })).to.throw(/non-empty array/);
    }));

  it("MakeLoss: identity forward; gradient grad_scale, normalized by batch or valid count", () =>
    withNameManager(() => {
      const x = sym.Variable("x");
      checkForward(sym.MakeLoss({ data: x }), { shapes: { x: [2, 2] }, values: { x: [1, 2, 3, 4] }, expected: [[1, 2, 3, 4]] });
      const grad = (params: Record<string, unknown>, values: number[]): number[] => {
        const exe = sym.MakeLoss({ data: x, ...params }).simpleBind({ ctx: ref, shapes: { x: [2, 2] } });
        exe.forward(true, { x: values });
        exe.backward();
        return exe.gradDict.x.toArray();
      };
      expect(grad({}, [1, 2, 3, 4])).to.deep.equal([1, 1, 1, 1]);
      expect(grad({ grad_scale: 3, normalization: "batch" }, [1, 2, 3, 4])).to.deep.equal([1.5, 1.5, 1.5, 1.5]);
      // 'valid' divides by the count of elements above valid_thresh (here 3 of 4).
      expect(grad({ normalization: "valid", valid_thresh: 0.5 }, [0, 2, 3, 4])).to.deep.equal([1 / 3, 1 / 3, 1 / 3, 1 / 3]);
      gradientCheckedByHand.add("MakeLoss");
    }));

  it("bad input: an unknown op name in JSON, an executor stays usable after an error", () =>
    withNameManager(() => {
      const x = sym.Variable("x");
      const exe = sym.BlockGrad({ data: x }).simpleBind({ ctx: ref, shapes: { x: [2] } });
      expect(() => exe.forward(false, { x: nd.zeros([3], { ctx: ref }) })).to.throw(/Shape not match/);
      exe.forward(false, { x: [1, 2] });
      expect(exe.outputs[0].toArray()).to.deep.equal([1, 2]);
    }));
});
