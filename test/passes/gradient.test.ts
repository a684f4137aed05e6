import { expect } from "chai";
import { sym, reference, nd, withNameManager } from "../../index.js";

const ref = reference();

describe("gradient pass", () => {
  it("Symbol.gradient builds the gradient graph of a loss (MakeLoss(square(x*w)))", () =>
    withNameManager(() => {
      const x = sym.Variable("x");
      const w = sym.Variable("w");
      const loss = sym.MakeLoss({ data: sym.square({ data: x.mul(w) }) });
      const g = loss.gradient(["w", "x"]);
      expect(g.outputs.length).to.equal(2);
      expect(g.listArguments()).to.deep.equal(["x", "w"]);
      const exe = g.bind({ ctx: ref, args: { x: nd.array([1, 2, 3], { ctx: ref }), w: nd.array([0.5, -1, 2], { ctx: ref }) }, gradReq: "null" });
      exe.forward(false);
      // d/dw (xw)² = 2xw·x ; d/dx = 2xw·w
      expect(exe.outputs[0].toArray()).to.deep.equal([1, -8, 36]);
      expect(exe.outputs[1].toArray()).to.deep.equal([0.5, 4, 24]);
    }));

  it("non-loss outputs take their head gradient from <output>_head_grad", () =>
    withNameManager(() => {
      const x = sym.Variable("x");
      const g = x.mul(3).gradient(["x"]);
      expect(g.listArguments()).to.deep.equal(["_mulscalar0_output_head_grad"]);
      const exe = g.simpleBind({ ctx: ref, shapes: { _mulscalar0_output_head_grad: [2] }, gradReq: "null" });
      exe.forward(false, { _mulscalar0_output_head_grad: [1, 2] });
      expect(exe.outputs[0].toArray()).to.deep.equal([3, 6]);
    }));

  it("sums the gradients of an entry used several times", () =>
    withNameManager(() => {
      const x = sym.Variable("x");
      const y = x.mul(x).plus(x); // dy/dx = 2x + 1
      const exe = y.simpleBind({ ctx: ref, shapes: { x: [3] } });
      exe.forward(true, { x: [1, 2, 3] });
      exe.backward(nd.ones([3], { ctx: ref }));
      expect(exe.gradDict.x.toArray()).to.deep.equal([3, 5, 7]);
      const names = y.gradient(["x"]).graph().nodes.map((n) => n.op?.name);
      expect(names).to.include("add_n");
    }));

  it("gives zeros for a variable the outputs do not depend on through differentiable paths", () =>
    withNameManager(() => {
      const x = sym.Variable("x");
      const z = sym.Variable("z");
      const y = sym.BlockGrad({ data: z }).plus(x);
      const exe = y.simpleBind({ ctx: ref, shapes: { x: [2], z: [2] } });
      exe.forward(true, { x: [1, 1], z: [5, 5] });
      exe.gradDict.z.set([9, 9]);
      exe.backward(nd.array([2, 3], { ctx: ref }));
      expect(exe.gradDict.x.toArray()).to.deep.equal([2, 3]);
      expect(exe.gradDict.z.toArray()).to.deep.equal([0, 0]);
    }));

  it("rejects unknown wrt names", () =>
    withNameManager(() => {
      const x = sym.Variable("x");
      expect(() => x.mul(2).gradient(["y"])).to.throw(/"y" is not an input of this symbol \(inputs: x\)/);
    }));
});
