import { expect } from "chai";
import { sym, Symbol } from "../../index.js";
import { checkForward, checkGradient, rng } from "../helpers/op_check.js";
import { expectError } from "../helpers/expect_error.js";
import { requireComputes } from "./compute_coverage.test.js";
import * as linalgOps from "../../compiler/ops/linalg.js";

// Every linalg op (and its _backward_ row) has a compute rule, checked by the tests below.
requireComputes(linalgOps);


const lhs = (): Symbol => sym.Variable("lhs");
const rhs = (): Symbol => sym.Variable("rhs");

/** Value of a row-major array at a multi-index. */
function at(data: number[], shape: number[], idx: number[]): number {
  let o = 0;
  for (let d = 0; d < shape.length; d++) o = o * shape[d] + idx[d];
  return data[o];
}

/** Every multi-index of a shape, in row-major order. */
function indices(shape: number[]): number[][] {
  let out: number[][] = [[]];
  for (const n of shape) out = out.flatMap((p) => Array.from({ length: n }, (_, i) => [...p, i]));
  return out;
}

/**
 * MXNet's dot written as a sum over the contracted index: out[p, q] = Σ_k L[p, k] R[k, q] with
 * k the last (first, transposed) axis of lhs and the first (last, transposed) axis of rhs.
 */
function naiveDot(l: number[], ls: number[], r: number[], rs: number[], ta: boolean, tb: boolean): number[] {
  const K = ta ? ls[0] : ls[ls.length - 1];
  const lk = ta ? ls.slice(1) : ls.slice(0, -1);
  const rk = tb ? rs.slice(0, -1) : rs.slice(1);
  const out: number[] = [];
  for (const p of indices(lk))
    for (const q of indices(rk)) {
      let s = 0;
      for (let k = 0; k < K; k++) s += at(l, ls, ta ? [k, ...p] : [...p, k]) * at(r, rs, tb ? [...q, k] : [k, ...q]);
      out.push(s);
    }
  return out;
}

const random = (n: number, seed: number): number[] => {
  const r = rng(seed);
  return Array.from({ length: n }, () => Math.round((r() * 2 - 1) * 100) / 10);
};

describe("ops/linalg: dot", () => {
  const A = [1, 2, 3, 4];
  const B = [5, 6, 7, 8];
  it("multiplies matrices with each transpose", () => {
    const f = (ta: boolean, tb: boolean, want: number[]): void => {
      checkForward(sym.dot({ lhs: lhs(), rhs: rhs(), transpose_a: ta, transpose_b: tb }), { shapes: { lhs: [2, 2], rhs: [2, 2] }, values: { lhs: A, rhs: B }, expected: [want] });
    };
    f(false, false, [19, 22, 43, 50]);
    f(true, false, [26, 30, 38, 44]);
    f(false, true, [17, 23, 39, 53]);
    f(true, true, [23, 31, 34, 46]);
  });

  it("gives (1,) for two vectors", () => {
    checkForward(sym.dot({ lhs: lhs(), rhs: rhs() }), { shapes: { lhs: [3], rhs: [3] }, values: { lhs: [1, 2, 3], rhs: [4, 5, 6] }, expected: [[32]], expectedShapes: [[1]] });
    expectError(() => sym.dot({ lhs: lhs(), rhs: rhs(), transpose_a: true, name: "d" }).inferShape({ lhs: [3], rhs: [3] }), "d (dot)", "cannot transpose vectors");
  });

  it("contracts one axis of N-D arrays", () => {
    const cases: [number[], number[], boolean, boolean, number[]][] = [
      [[2, 3, 4], [4, 5], false, false, [2, 3, 5]],
      [[2, 3], [3, 2, 2], false, false, [2, 2, 2]],
      [[4, 2, 3], [4, 2], true, false, [2, 3, 2]],
      [[2, 3], [2, 2, 3], false, true, [2, 2, 2]],
      [[3, 2, 2], [2, 2, 3], true, true, [2, 2, 2, 2]],
      [[3], [3, 2, 2], false, false, [2, 2]],
    ];
    cases.forEach(([ls, rs, ta, tb, os], n) => {
      const l = random(ls.reduce((a, b) => a * b), 2 * n + 1);
      const r = random(rs.reduce((a, b) => a * b), 2 * n + 2);
      checkForward(sym.dot({ lhs: lhs(), rhs: rhs(), transpose_a: ta, transpose_b: tb }), {
        shapes: { lhs: ls, rhs: rs },
        values: { lhs: l, rhs: r },
        expected: [naiveDot(l, ls, r, rs, ta, tb)],
        expectedShapes: [os],
      });
    });
  });

  it("infers shapes both ways and names mismatches", () => {
    const d = sym.dot({ lhs: lhs(), rhs: rhs(), name: "d" });
    expect(d.inferShapePartial({ lhs: [2, 3], rhs: [0, 5] })[0]).to.deep.equal([[2, 3], [3, 5]]);
    const s = sym.elemwise_add({ lhs: sym.dot({ lhs: lhs(), rhs: rhs(), transpose_b: true }), rhs: sym.Variable("c") });
    expect(s.inferShape({ lhs: [0, 3], rhs: [0, 3], c: [7, 5] })[0]).to.deep.equal([[7, 3], [5, 3], [7, 5]]);
    expectError(() => d.inferShape({ lhs: [2, 3], rhs: [4, 5] }), "d (dot)", "dot shape error: (2,3) X (4,5)");
  });

  it("differentiates with every transpose, N-D included", () => {
    checkGradient(sym.dot({ lhs: lhs(), rhs: rhs() }), { shapes: { lhs: [2, 3], rhs: [3, 2] } });
    checkGradient(sym.dot({ lhs: lhs(), rhs: rhs(), transpose_a: true }), { shapes: { lhs: [3, 2], rhs: [3, 4] } });
    checkGradient(sym.dot({ lhs: lhs(), rhs: rhs(), transpose_b: true }), { shapes: { lhs: [2, 3], rhs: [4, 3] } });
    checkGradient(sym.dot({ lhs: lhs(), rhs: rhs(), transpose_a: true, transpose_b: true }), { shapes: { lhs: [3, 2], rhs: [4, 3] } });
    checkGradient(sym.dot({ lhs: lhs(), rhs: rhs() }), { shapes: { lhs: [2, 2, 3], rhs: [3, 2, 2] } });
    checkGradient(sym.dot({ lhs: lhs(), rhs: rhs(), transpose_a: true, transpose_b: true }), { shapes: { lhs: [3, 2, 2], rhs: [2, 2, 3] } });
    checkGradient(sym.dot({ lhs: lhs(), rhs: rhs() }), { shapes: { lhs: [3], rhs: [3] } });
    // A vector on one side: one of the gradients sums over nothing.
    checkGradient(sym.dot({ lhs: lhs(), rhs: rhs() }), { shapes: { lhs: [3], rhs: [3, 2, 2] } });
    checkGradient(sym.dot({ lhs: lhs(), rhs: rhs(), transpose_a: true }), { shapes: { lhs: [3, 2], rhs: [3] } });
  });
});

describe("ops/linalg: batch_dot", () => {
  /** Per batch: op(L_b) · op(R_b), by explicit index sums. */
  function naiveBatch(l: number[], ls: number[], r: number[], rs: number[], ta: boolean, tb: boolean): number[] {
    const [B] = ls;
    const M = ta ? ls[2] : ls[1];
    const K = ta ? ls[1] : ls[2];
    const N = tb ? rs[1] : rs[2];
    const out: number[] = [];
    for (let b = 0; b < B; b++)
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += at(l, ls, ta ? [b, k, i] : [b, i, k]) * at(r, rs, tb ? [b, j, k] : [b, k, j]);
          out.push(s);
        }
    return out;
  }

  it("multiplies batches of matrices with each transpose", () => {
    const combos: [boolean, boolean, number[], number[]][] = [
      [false, false, [2, 3, 4], [2, 4, 2]],
      [true, false, [2, 4, 3], [2, 4, 2]],
      [false, true, [2, 3, 4], [2, 2, 4]],
      [true, true, [2, 4, 3], [2, 2, 4]],
    ];
    combos.forEach(([ta, tb, ls, rs], n) => {
      const l = random(24, 10 + n);
      const r = random(16, 20 + n);
      checkForward(sym.batch_dot({ lhs: lhs(), rhs: rhs(), transpose_a: ta, transpose_b: tb }), {
        shapes: { lhs: ls, rhs: rs },
        values: { lhs: l, rhs: r },
        expected: [naiveBatch(l, ls, r, rs, ta, tb)],
        expectedShapes: [[2, 3, 2]],
      });
      checkGradient(sym.batch_dot({ lhs: lhs(), rhs: rhs(), transpose_a: ta, transpose_b: tb }), { shapes: { lhs: ls, rhs: rs } });
    });
  });

  it("batches over several leading axes", () => {
    const ls = [2, 2, 2, 3];
    const rs = [2, 2, 3, 2];
    const l = random(24, 31);
    const r = random(24, 32);
    // Each of the four (2, 3) x (3, 2) products, by explicit sums.
    const want: number[] = [];
    for (let b = 0; b < 4; b++)
      for (let i = 0; i < 2; i++)
        for (let j = 0; j < 2; j++) {
          let s = 0;
          for (let k = 0; k < 3; k++) s += l[b * 6 + i * 3 + k] * r[b * 6 + k * 2 + j];
          want.push(s);
        }
    checkForward(sym.batch_dot({ lhs: lhs(), rhs: rhs() }), { shapes: { lhs: ls, rhs: rs }, values: { lhs: l, rhs: r }, expected: [want], expectedShapes: [[2, 2, 2, 2]] });
    checkGradient(sym.batch_dot({ lhs: lhs(), rhs: rhs(), transpose_b: true }), { shapes: { lhs: [2, 1, 2, 3], rhs: [2, 1, 2, 3] } });
  });

  it("infers shapes both ways and rejects bad ranks", () => {
    const bd = sym.batch_dot({ lhs: lhs(), rhs: rhs(), name: "bd" });
    expect(bd.inferShapePartial({ lhs: [2, 3, 4], rhs: [0, 0, 5] })[0]).to.deep.equal([[2, 3, 4], [2, 4, 5]]);
    const s = sym.elemwise_add({ lhs: bd, rhs: sym.Variable("c") });
    expect(s.inferShape({ lhs: [0, 0, 4], rhs: [0, 4, 5], c: [2, 3, 5] })[0]).to.deep.equal([[2, 3, 4], [2, 4, 5], [2, 3, 5]]);
    expectError(() => bd.inferShape({ lhs: [2, 3], rhs: [3, 4] }), "bd (batch_dot)", "at least 3-D");
    expectError(() => bd.inferShape({ lhs: [2, 2, 3, 4], rhs: [2, 4, 5] }), "bd (batch_dot)", "one rank");
    expectError(() => bd.inferShape({ lhs: [2, 3, 4], rhs: [3, 4, 5] }), "bd (batch_dot)", "(2,3,4) X (3,4,5)");
  });
});
