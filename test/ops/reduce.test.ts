import { expect } from "chai";
import { sym, Symbol, reference, nd } from "../../index.js";
import { checkForward, checkGradient, rng } from "../helpers/op_check.js";
import * as reduceOps from "../../compiler/ops/reduce.js";
import { requireComputes } from "./compute_coverage.test.js";

requireComputes(reduceOps);

function op(name: string): (args: Record<string, unknown>) => Symbol {
  const f = (sym as unknown as Record<string, (args: Record<string, unknown>) => Symbol>)[name];
  expect(f, `sym.${name}`).to.be.a("function");
  return f;
}

/** Unravels a flat row-major index. */
function coords(flat: number, shape: number[]): number[] {
  const c = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    c[d] = flat % shape[d];
    flat = Math.floor(flat / shape[d]);
  }
  return c;
}

/**
 * Independent naive reduction: for each output position, collects the input elements whose kept
 * coordinates match, and folds them with `f` over the list.
 */
function naiveReduce(x: number[], shape: number[], reduced: number[], f: (xs: number[]) => number): number[] {
  const kept = shape.map((_, i) => i).filter((i) => !reduced.includes(i));
  const keptShape = kept.map((i) => shape[i]);
  const outSize = keptShape.reduce((a, b) => a * b, 1);
  const groups: number[][] = Array.from({ length: outSize }, () => []);
  x.forEach((v, flat) => {
    const c = coords(flat, shape);
    let o = 0;
    for (const i of kept) o = o * shape[i] + c[i];
    groups[o].push(v);
  });
  return groups.map(f);
}

const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const folds: Record<string, (xs: number[]) => number> = {
  sum: total,
  mean: (xs) => total(xs) / xs.length,
  prod: (xs) => xs.reduce((a, b) => a * b, 1),
  max: (xs) => Math.max(...xs),
  min: (xs) => Math.min(...xs),
  nansum: (xs) => total(xs.filter((v) => !Number.isNaN(v))),
  nanprod: (xs) => xs.filter((v) => !Number.isNaN(v)).reduce((a, b) => a * b, 1),
};

/** [params, reduced axes (normalized), expected output shape] for an input of shape (2, 3, 4). */
const axisCases: [Record<string, unknown>, number[], number[]][] = [
  [{}, [0, 1, 2], [1]],
  [{ keepdims: true }, [0, 1, 2], [1, 1, 1]],
  [{ axis: 1 }, [1], [2, 4]],
  [{ axis: -1 }, [2], [2, 3]],
  [{ axis: [0, 2] }, [0, 2], [3]],
  [{ axis: [0, 2], keepdims: true }, [0, 2], [1, 3, 1]],
  [{ axis: 1, exclude: true }, [0, 2], [3]],
  [{ axis: [-1, 0], exclude: true, keepdims: true }, [1], [2, 1, 4]],
  [{ axis: [0, 1, 2] }, [0, 1, 2], [1]],
  [{ axis: [] }, [0, 1, 2], [1]],
  [{ axis: [], exclude: true }, [0, 1, 2], [1]],
];

describe("ops: reduce", () => {
  for (const name of ["sum", "mean", "prod", "max", "min", "nansum", "nanprod"]) {
    it(`${name}: every axis/keepdims/exclude variant against a naive fold, and its gradient`, () => {
      const shape = [2, 3, 4];
      const r = rng(17);
      const x = Array.from({ length: 24 }, () => (name.includes("prod") ? 0.5 + r() : 2 * r() - 1));
      for (const [params, axes, outShape] of axisCases) {
        const y = op(name)({ data: sym.Variable("x"), ...params });
        checkForward(y, { shapes: { x: shape }, values: { x }, expected: [naiveReduce(x, shape, axes, folds[name])], expectedShapes: [outShape], tol: 1e-12 });
        checkGradient(y, { shapes: { x: shape }, range: { x: name.includes("prod") ? [0.5, 1.5] : [-1, 1] } });
      }
    });
  }

  it("MXNet's documented sum example; sum_axis, max_axis, min_axis aliases", () => {
    const data = [1, 2, 2, 3, 1, 3, 1, 4, 4, 3, 5, 2, 7, 1, 7, 2, 7, 3];
    const x = sym.Variable("x");
    const spec = { shapes: { x: [3, 3, 2] }, values: { x: data } };
    checkForward(sym.sum({ data: x, axis: 1 }), { ...spec, expected: [[4, 8, 10, 9, 21, 6]] });
    checkForward(sym.sum_axis({ data: x, axis: [1, 2] }), { ...spec, expected: [[12, 19, 27]] });
    checkForward(sym.max_axis({ data: x, axis: 1 }), { ...spec, expected: [[2, 3, 5, 4, 7, 3]] });
    checkForward(sym.min_axis({ data: x, axis: [1, 2] }), { ...spec, expected: [[1, 1, 1]] });
  });

  it("nansum/nanprod skip NaN, and give NaN positions a zero gradient", () => {
    const x = sym.Variable("x");
    const vals = [1, NaN, 2, 3, 0.5, NaN];
    checkForward(sym.nansum({ data: x, axis: 1 }), { shapes: { x: [2, 3] }, values: { x: vals }, expected: [[3, 3.5]] });
    checkForward(sym.nanprod({ data: x, axis: 1 }), { shapes: { x: [2, 3] }, values: { x: vals }, expected: [[2, 1.5]] });
    checkGradient(sym.nansum({ data: x, axis: 1 }), { shapes: { x: [2, 3] }, values: { x: vals } });
    checkGradient(sym.nanprod({ data: x }), { shapes: { x: [2, 3] }, values: { x: vals } });
  });

  it("max/min: the gradient goes to every position equal to the result (ties included)", () => {
    for (const [name, want] of [
      ["max", [1, 0, 1, 0, 0, 1]],
      ["min", [0, 1, 0, 1, 1, 0]],
    ] as [string, number[]][]) {
      const exe = op(name)({ data: sym.Variable("x"), axis: 1 }).simpleBind({ ctx: reference(), shapes: { x: [2, 3] } });
      exe.argDict.x.set([3, 1, 3, 0, 0, 2]);
      exe.forward(true);
      exe.backward([nd.ones([2], { ctx: reference() })]);
      expect(exe.gradDict.x.toArray(), name).to.deep.equal(want);
    }
  });

  it("mean's gradient is ograd / count; prod's is ograd · out / x", () => {
    const exe = sym.mean({ data: sym.Variable("x"), axis: 0 }).simpleBind({ ctx: reference(), shapes: { x: [4, 2] } });
    exe.forward(true);
    exe.backward([nd.ones([2], { ctx: reference() })]);
    expect(exe.gradDict.x.toArray()).to.deep.equal(Array(8).fill(0.25));
    const p = sym.prod({ data: sym.Variable("x") }).simpleBind({ ctx: reference(), shapes: { x: [3] } });
    p.argDict.x.set([2, 3, 4]);
    p.forward(true);
    p.backward([nd.ones([1], { ctx: reference() })]);
    expect(p.gradDict.x.toArray()).to.deep.equal([12, 8, 6]);
  });

  it("argmax/argmin: MXNet's examples, first occurrence on ties, flat index without axis", () => {
    const x = sym.Variable("x");
    const spec = { shapes: { x: [2, 3] }, values: { x: [0, 1, 2, 3, 4, 5] } };
    checkForward(sym.argmax({ data: x, axis: 0 }), { ...spec, expected: [[1, 1, 1]] });
    checkForward(sym.argmax({ data: x, axis: 1 }), { ...spec, expected: [[2, 2]] });
    checkForward(sym.argmax({ data: x, axis: 1, keepdims: true }), { ...spec, expected: [[2, 2]], expectedShapes: [[2, 1]] });
    checkForward(sym.argmin({ data: x, axis: 0 }), { ...spec, expected: [[0, 0, 0]] });
    checkForward(sym.argmin({ data: x, axis: -1 }), { ...spec, expected: [[0, 0]] });
    checkForward(sym.argmax_channel({ data: x }), { ...spec, expected: [[2, 2]] });
    const ties = { shapes: { x: [2, 3] }, values: { x: [5, 1, 5, 0, 0, -1] } };
    checkForward(sym.argmax({ data: x, axis: 1 }), { ...ties, expected: [[0, 0]] });
    checkForward(sym.argmin({ data: x, axis: 1 }), { ...ties, expected: [[1, 2]] });
    checkForward(sym.argmax({ data: x }), { ...ties, expected: [[0]], expectedShapes: [[1]] });
    checkForward(sym.argmin({ data: x, keepdims: true }), { ...ties, expected: [[5]], expectedShapes: [[1, 1]] });
    // A 1-d input always gives shape (1,).
    checkForward(sym.argmax({ data: x, axis: 0 }), { shapes: { x: [4] }, values: { x: [1, 9, 3, 9] }, expected: [[1]], expectedShapes: [[1]] });
    checkGradient(sym.argmax({ data: x, axis: 1 }), { shapes: { x: [2, 3] } });
    checkGradient(sym.argmin({ data: x }), { shapes: { x: [2, 3] } });
    // The output has the input's type (MXNet's ElemwiseType): float32 for float32 data.
    expect(sym.argmax({ data: x, axis: 1 }).inferType({ x: "float32" })[1]).to.deep.equal(["float32"]);
    expect(() => sym.argmax({ data: x, axis: 2, name: "am" }).inferShapePartial({ x: [2, 3] })).to.throw(/am \(argmax\).*axis 2 exceeds/);
  });

  it("norm: L2 by default, L1, axes, keepdims, out_dtype; gradients", () => {
    const x = sym.Variable("x");
    const spec = { shapes: { x: [2, 2] }, values: { x: [1, 2, 3, -4] } };
    checkForward(sym.norm({ data: x }), { ...spec, expected: [[Math.sqrt(30)]], expectedShapes: [[1]] });
    checkForward(sym.norm({ data: x, ord: 1, axis: 1 }), { ...spec, expected: [[3, 7]] });
    checkForward(sym.norm({ data: x, axis: 0, keepdims: true }), { ...spec, expected: [[Math.sqrt(10), Math.sqrt(20)]], expectedShapes: [[1, 2]] });
    checkForward(sym.norm({ data: x, axis: [0, 1] }), { ...spec, expected: [[Math.sqrt(30)]] });
    checkGradient(sym.norm({ data: x }), { shapes: { x: [2, 3] } });
    checkGradient(sym.norm({ data: x, ord: 1, axis: -1, keepdims: true }), { shapes: { x: [2, 3] } });
    checkGradient(sym.norm({ data: x, axis: [0, 2] }), { shapes: { x: [2, 3, 2] } });
    expect(sym.norm({ data: x, out_dtype: "float64" }).inferType({ x: "float32" })[1]).to.deep.equal(["float64"]);
    expect(sym.norm({ data: x }).inferType({ x: "float16" })[1]).to.deep.equal(["float16"]);
    expect(() => sym.norm({ data: x, ord: 3, name: "n3" }).inferShape({ x: [2] })).to.throw(/n3 \(norm\).*ord=3/);
  });

  it("shape inference: partial input, backward fill, and bad axes", () => {
    const x = sym.Variable("x");
    expect(sym.sum({ data: x, axis: 1 }).inferShapePartial({ x: [0, 3, 4] })[1]).to.deep.equal([[0, 4]]);
    // Backward: the kept dims of the input come from the output.
    const z = sym.elemwise_add({ lhs: sym.sum({ data: x, axis: 1 }), rhs: sym.Variable("c") });
    expect(z.inferShapePartial({ x: [0, 3, 0], c: [2, 5] })[0]).to.deep.equal([[2, 3, 5], [2, 5]]);
    const k = sym.elemwise_add({ lhs: sym.mean({ data: x, axis: 0, keepdims: true }), rhs: sym.Variable("c") });
    expect(k.inferShapePartial({ c: [1, 5] })[0]).to.deep.equal([[0, 5], [1, 5]]);
    const ex = sym.elemwise_add({ lhs: sym.max({ data: x, axis: 0, exclude: true }), rhs: sym.Variable("c") });
    expect(ex.inferShapePartial({ x: [0, 7, 8], c: [6] })[0]).to.deep.equal([[6, 7, 8], [6]]);
    expect(() => sym.sum({ data: x, axis: 3, name: "s" }).inferShape({ x: [2, 3] })).to.throw(/s \(sum\).*Reduction axis 3 exceeds/);
    expect(() => sym.sum({ data: x, axis: [1, -1], name: "s" }).inferShape({ x: [2, 3] })).to.throw(/s \(sum\).*duplicates/);
    expect(() => sym.sum({ data: x, axis: "x" as never })).to.throw(/axis/);
  });
});
