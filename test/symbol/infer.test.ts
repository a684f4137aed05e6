import { expect } from "chai";
import { sym, withNameManager } from "../../index.js";

describe("shape and type inference (MXNET.md cases)", () => {
  it("a (0,10) + b (12,0) gives both (12,10)", () =>
    withNameManager(() => {
      const a = sym.Variable("a", { shape: [0, 10] });
      const b = sym.Variable("b", { shape: [12, 0] });
      const [args, outs] = a.plus(b).inferShape();
      expect(args).to.deep.equal([
        [12, 10],
        [12, 10],
      ]);
      expect(outs).to.deep.equal([[12, 10]]);
    }));

  it("Concat(a (0,10), b (0,5), dim=1) + d (2,0) gives (2,10), (2,5), (2,15)", () =>
    withNameManager(() => {
      const a = sym.Variable("a", { shape: [0, 10] });
      const b = sym.Variable("b", { shape: [0, 5] });
      const d = sym.Variable("d", { shape: [2, 0] });
      const c = sym.Concat({ data: [a, b], dim: 1 });
      const [args, outs] = c.plus(d).inferShape();
      expect(args).to.deep.equal([
        [2, 10],
        [2, 5],
        [2, 15],
      ]);
      expect(outs).to.deep.equal([[2, 15]]);
    }));

  it("two FC branches from data summed: full inference fails, partial fills what it can", () =>
    withNameManager(() => {
      const data = sym.Variable("data");
      const prev = sym.Variable("prevstate");
      const x2h = sym.FullyConnected({ data, num_hidden: 128, name: "x2h" });
      const h2h = sym.FullyConnected({ data: prev, num_hidden: 128, name: "h2h" });
      const out = x2h.plus(h2h);
      expect(out.listArguments()).to.deep.equal(["data", "x2h_weight", "x2h_bias", "prevstate", "h2h_weight", "h2h_bias"]);
      expect(() => out.inferShape({ data: [10, 64] })).to.throw(/cannot decide the shape of .*h2h_weight/);
      const [partial] = out.inferShapePartial({ data: [10, 64] });
      expect(partial[1]).to.deep.equal([128, 64]);
      expect(partial[4]).to.deep.equal([]);
      const [full] = out.inferShape({ data: [10, 64], prevstate: [10, 128] });
      expect(full[4]).to.deep.equal([128, 128]);
    }));

  it("FullyConnected infers weight and bias, and the output batch flows back into data", () =>
    withNameManager(() => {
      const fc = sym.FullyConnected({ data: sym.Variable("data", { shape: [0, 100] }), num_hidden: 1000, name: "fc1" });
      const [args, outs] = fc.inferShapePartial({});
      expect(args).to.deep.equal([[0, 100], [1000, 100], [1000]]);
      expect(outs).to.deep.equal([[0, 1000]]);
    }));

  it("names the node, the op and the shapes on inconsistency", () =>
    withNameManager(() => {
      const fc = sym.FullyConnected({ data: sym.Variable("data"), num_hidden: 1000, name: "fc1" });
      expect(() => fc.inferShape({ data: [1, 100], fc1_weight: [1, 100] })).to.throw(
        /Error in operator fc1 \(FullyConnected\).*Provided = \[1,100\], inferred shape=\[1000,100\]/,
      );
    }));

  it("rejects shapes of names that are not inputs, and malformed shapes", () =>
    withNameManager(() => {
      const fc = sym.FullyConnected({ data: sym.Variable("data"), num_hidden: 10, name: "fc1" });
      expect(() => fc.inferShape({ dat: [1, 2] })).to.throw(/"dat" is not an input of this symbol \(inputs: data, fc1_weight, fc1_bias\)/);
      expect(() => fc.inferShape({ data: [1, -2] })).to.throw(/non-negative integers/);
    }));

  it("infers types forward and backward, and reports conflicts", () =>
    withNameManager(() => {
      const a = sym.Variable("a");
      const b = sym.Variable("b");
      const c = a.plus(b);
      expect(c.inferType({ a: "float64" })).to.deep.equal([["float64", "float64"], ["float64"], []]);
      expect(c.inferTypePartial({})).to.deep.equal([[undefined, undefined], [undefined], []]);
      expect(() => c.inferType({})).to.throw(/cannot decide the type of a, b/);
      expect(() => c.inferType({ a: "float64", b: "float16" })).to.throw(/Error in operator _plus0 \(elemwise_add\).*Type inconsistent/);
      const cast = sym.Cast({ data: a, dtype: "int32" });
      expect(cast.inferType({ a: "float32" })).to.deep.equal([["float32"], ["int32"], []]);
      const typed = sym.Variable("t", { dtype: "float16" });
      expect(typed.plus(b).inferType()).to.deep.equal([["float16", "float16"], ["float16"], []]);
    }));

  it("_zeros with an unknown dim takes its shape from its consumer", () =>
    withNameManager(() => {
      const x = sym.Variable("x");
      const z = sym._zeros({ shape: [0, 7] });
      const [args, outs] = x.plus(z).inferShape({ x: [3, 7] });
      expect(args).to.deep.equal([[3, 7]]);
      expect(outs).to.deep.equal([[3, 7]]);
    }));
});
