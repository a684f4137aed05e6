import { expect } from "chai";
import { sym, reference, nd, withNameManager } from "../index.js";

describe("smoke", () => {
  it("types and runs elemwise ops", () => {
    withNameManager(() => {
      const a = sym.Variable("a");
      const b = sym.Variable("b");
      const c = a.plus(b).mul(a);
      expect(c.name).to.equal("_mul0");
      expect(c.listArguments()).to.deep.equal(["a", "b"]);
      const [args, outs] = c.inferShape({ a: [2, 3] });
      expect(args).to.deep.equal([[2, 3], [2, 3]]);
      expect(outs).to.deep.equal([[2, 3]]);
      const exe = c.simpleBind({ ctx: reference(), shapes: { a: [2, 3], b: [2, 3] } });
      exe.argDict.a.set([1, 2, 3, 4, 5, 6]);
      exe.argDict.b.set([1, 1, 1, 1, 1, 1]);
      exe.forward(true);
      expect(exe.outputs[0].toArray()).to.deep.equal([2, 6, 12, 20, 30, 42]);
      exe.backward(nd.ones([2, 3], { ctx: reference() }));
      expect(exe.gradDict.b.toArray()).to.deep.equal([1, 2, 3, 4, 5, 6]);
      expect(exe.gradDict.a.toArray()).to.deep.equal([3, 5, 7, 9, 11, 13]);
      const x = sym.add_n({ data: [a, b, a] });
      expect(x.name).to.equal("add_n0");
    });
  });
});
