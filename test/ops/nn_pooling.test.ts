/** Pooling: hand-computed windows, output-size conventions, padding divisors, gradients. */
import { expect } from "chai";
import { sym, Symbol, reference, nd, InferenceError, ParamError } from "../../index.js";
import { checkForward, checkGradient, rng } from "../helpers/op_check.js";
import { checkComputes } from "../helpers/compute_check.js";

const data = (): Symbol => sym.Variable("data");
type PoolArgs = Parameters<typeof sym.Pooling>[0];
const pool = (args: Omit<PoolArgs, "data" | "name">): Symbol => sym.Pooling({ data: data(), name: "pool", ...args });

/** Distinct values in random order, so max windows have no ties. */
function permutation(n: number, seed: number): number[] {
  const r = rng(seed);
  const v = Array.from({ length: n }, (_, i) => (i + 1) / n);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [v[i], v[j]] = [v[j], v[i]];
  }
  return v;
}

describe("nn: Pooling", () => {
  const row = [1, 3, 2, 5, 4];

  it("pools 1-D windows: max, avg, sum (hand values)", () => {
    const spec = { shapes: { data: [1, 1, 5] }, values: { data: row } };
    checkForward(pool({ kernel: [2] }), { ...spec, expected: [[3, 3, 5, 5]] });
    checkForward(pool({ kernel: [2], pool_type: "avg" }), { ...spec, expected: [[2, 2.5, 3.5, 4.5]] });
    checkForward(pool({ kernel: [3], stride: [2], pool_type: "sum" }), { ...spec, expected: [[6, 11]] });
  });

  it("floors the output size with 'valid' and ceils it with 'full'", () => {
    const spec = { shapes: { data: [1, 1, 5] }, values: { data: row } };
    checkForward(pool({ kernel: [2], stride: [2] }), { ...spec, expected: [[3, 5]], expectedShapes: [[1, 1, 2]] });
    checkForward(pool({ kernel: [2], stride: [2], pooling_convention: "full" }), { ...spec, expected: [[3, 5, 4]], expectedShapes: [[1, 1, 3]] });
    // The last 'full' window is clipped to the data: its avg divisor is 1.
    checkForward(pool({ kernel: [2], stride: [2], pooling_convention: "full", pool_type: "avg" }), { ...spec, expected: [[2, 3.5, 4]] });
    checkForward(pool({ kernel: [2], stride: [2], pooling_convention: "same" }), { ...spec, expected: [[3, 5, 4]], expectedShapes: [[1, 1, 3]] });
  });

  it("counts padding in the avg divisor unless count_include_pad=False", () => {
    const spec = { shapes: { data: [1, 1, 5] }, values: { data: row } };
    const args = { kernel: [3], stride: [2], pad: [1], pool_type: "avg" as const };
    checkForward(pool(args), { ...spec, expected: [[4 / 3, 10 / 3, 3]] });
    checkForward(pool({ ...args, count_include_pad: true }), { ...spec, expected: [[4 / 3, 10 / 3, 3]] });
    checkForward(pool({ ...args, count_include_pad: false }), { ...spec, expected: [[2, 10 / 3, 4.5]] });
    // Max pooling never picks the padding, even where every value is negative.
    checkForward(pool({ kernel: [3], stride: [2], pad: [1] }), { shapes: { data: [1, 1, 5] }, values: { data: row.map((v) => -v) }, expected: [[-1, -2, -4]] });
  });

  it("pools 2-D windows (hand values)", () => {
    // 4×4 plane 0..15, 2×2 windows with stride 2.
    const plane = Array.from({ length: 16 }, (_, i) => i);
    const spec = { shapes: { data: [1, 1, 4, 4] }, values: { data: plane } };
    checkForward(pool({ kernel: [2, 2], stride: [2, 2] }), { ...spec, expected: [[5, 7, 13, 15]], expectedShapes: [[1, 1, 2, 2]] });
    checkForward(pool({ kernel: [2, 2], stride: [2, 2], pool_type: "avg" }), { ...spec, expected: [[2.5, 4.5, 10.5, 12.5]] });
    checkForward(pool({ kernel: [3, 2], stride: [1, 2], pool_type: "sum" }), { ...spec, expected: [[0 + 1 + 4 + 5 + 8 + 9, 2 + 3 + 6 + 7 + 10 + 11, 4 + 5 + 8 + 9 + 12 + 13, 6 + 7 + 10 + 11 + 14 + 15]] });
  });

  it("pools globally, ignoring kernel, stride and pad", () => {
    const vals = [1, -2, 3, 4, 0, -6, 7, 8, 9, 10, 11, -12];
    const spec = { shapes: { data: [1, 2, 2, 3] }, values: { data: vals } };
    checkForward(pool({ global_pool: true }), { ...spec, expected: [[4, 11]], expectedShapes: [[1, 2, 1, 1]] });
    checkForward(pool({ global_pool: true, kernel: [5, 5], stride: [3, 3], pad: [1, 1], pool_type: "avg" }), { ...spec, expected: [[0, 33 / 6]] });
  });

  it("computes Lp pooling for p = 1, 2, 3", () => {
    const spec = { shapes: { data: [1, 1, 4] }, values: { data: [1, 2, 3, 4] } };
    checkForward(pool({ kernel: [2], stride: [2], pool_type: "lp", p_value: 2 }), { ...spec, expected: [[Math.sqrt(5), 5]] });
    checkForward(pool({ kernel: [2], stride: [2], pool_type: "lp", p_value: 1 }), { ...spec, expected: [[3, 7]] });
    checkForward(pool({ kernel: [2], stride: [2], pool_type: "lp", p_value: 3 }), { ...spec, expected: [[Math.cbrt(9), Math.cbrt(91)]] });
  });

  it("infers output shapes and fills batch and channels backwards", () => {
    expect(pool({ kernel: [3, 3], stride: [2, 2] }).inferShape({ data: [2, 3, 7, 8] })[1]).to.deep.equal([[2, 3, 3, 3]]);
    expect(pool({ kernel: [3, 3], stride: [2, 2], pooling_convention: "full" }).inferShape({ data: [2, 3, 7, 8] })[1]).to.deep.equal([[2, 3, 3, 4]]);
    expect(pool({ global_pool: true }).inferShape({ data: [2, 3, 7, 8] })[1]).to.deep.equal([[2, 3, 1, 1]]);
    const [args] = pool({ kernel: [2] }).plus(sym.Variable("y")).inferShapePartial({ data: [0, 0, 6], y: [4, 5, 5] });
    expect(args[0]).to.deep.equal([4, 5, 6]);
  });

  it("reports bad shapes and params clearly", () => {
    expect(() => pool({ kernel: [4] }).inferShape({ data: [1, 1, 3] })).to.throw(InferenceError, /pool.*Pooling.*kernel size \(4\) exceeds input \(3 padded to 3\)/);
    expect(() => pool({ kernel: [2, 2] }).inferShape({ data: [1, 1, 3] })).to.throw(InferenceError, /kernel \(2, 2\).*\[1,1,3\]/);
    expect(() => pool({ kernel: [2], pool_type: "lp" }).inferShape({ data: [1, 1, 3] })).to.throw(InferenceError, /p_value/);
    expect(() => pool({ kernel: [2, 2], pooling_convention: "same" }).inferShape({ data: [1, 1, 3, 3] })).to.throw(InferenceError, /same/);
    expect(() => pool({ kernel: [2] }).inferShape({ data: [1, 3] })).to.throw(InferenceError, /3-D/);
    expect(() => sym.Pooling({ data: data(), kernel: [2], pool_type: "median" as "max" })).to.throw(ParamError, /median/);
  });

  it("routes the max gradient to the first maximum of a window", () => {
    const p = pool({ kernel: [2], stride: [2] });
    const exe = p.simpleBind({ ctx: reference(), shapes: { data: [1, 1, 6] }, typeDict: { data: "float64" } });
    exe.argDict.data.set([2, 2, 1, 0, 3, 3]);
    exe.forward(true);
    expect(exe.outputs[0].toArray()).to.deep.equal([2, 1, 3]);
    exe.backward(nd.array([[[10, 20, 30]]], { ctx: reference(), dtype: "float64" }));
    expect(exe.gradDict.data.toArray()).to.deep.equal([10, 0, 20, 0, 30, 0]);
    checkComputes(exe);
  });

  it("matches the reference's first-maximum rule with ties, overlaps, padding and −∞ windows (compute check)", () => {
    // Values from a small set, so windows hold several maxima; overlapping windows share them.
    const tied = (n: number, seed: number): number[] => {
      const r = rng(seed);
      return Array.from({ length: n }, () => [-1, 0, 0.5, 1][Math.floor(r() * 4)]);
    };
    const run = (args: Omit<PoolArgs, "data" | "name">, shape: number[], values: number[]): void => {
      const exe = pool(args).simpleBind({ ctx: reference(), shapes: { data: shape }, typeDict: { data: "float64" } });
      exe.argDict.data.set(values);
      const out = exe.forward(true)[0];
      const r = rng(5);
      exe.backward(nd.array(Array.from({ length: out.size }, () => r() + 0.5), { shape: [...out.shape], ctx: reference(), dtype: "float64" }));
      checkComputes(exe);
    };
    run({ kernel: [3, 3], stride: [1, 1], pad: [1, 1] }, [1, 2, 4, 5], tied(40, 1));
    run({ kernel: [3, 2], stride: [2, 1], pad: [1, 0], pooling_convention: "full" }, [2, 1, 5, 4], tied(40, 2));
    run({ kernel: [3], stride: [2], pad: [1] }, [1, 1, 7], tied(7, 3));
    run({ kernel: [2], stride: [3], pooling_convention: "full" }, [1, 1, 5], tied(5, 4));
    // Windows of −∞ only: the forward gives −MAX_VALUE and no element gets a gradient.
    run({ kernel: [2], stride: [2] }, [1, 2, 4], [-Infinity, -Infinity, 1, -Infinity, 2, 2, -Infinity, -Infinity]);
    run({ global_pool: true }, [2, 2, 3], tied(12, 6));
  });

  it("has finite-difference gradients for every pool type and convention", () => {
    const g = (args: Omit<PoolArgs, "data" | "name">, shape: number[], range?: [number, number]): void => {
      const n = shape.reduce((a, b) => a * b, 1);
      checkGradient(pool(args), range ? { shapes: { data: shape }, range: { data: range } } : { shapes: { data: shape }, values: { data: permutation(n, n) } });
    };
    g({ kernel: [2], stride: [1] }, [2, 2, 5]);
    g({ kernel: [3, 2], stride: [2, 1], pad: [1, 1] }, [1, 2, 5, 4]);
    g({ kernel: [2, 2], stride: [2, 2], pooling_convention: "full" }, [1, 1, 5, 5]);
    g({ kernel: [3], stride: [2], pad: [1], pool_type: "avg" }, [1, 2, 7], [-1, 1]);
    g({ kernel: [3, 3], stride: [2, 2], pad: [1, 1], pool_type: "avg", count_include_pad: false }, [1, 1, 5, 4], [-1, 1]);
    g({ kernel: [2, 2], stride: [2, 1], pooling_convention: "full", pool_type: "avg" }, [1, 1, 5, 4], [-1, 1]);
    g({ kernel: [2, 3], pool_type: "sum", pad: [0, 1] }, [1, 2, 3, 4], [-1, 1]);
    g({ kernel: [2], stride: [2], pool_type: "lp", p_value: 2 }, [1, 2, 6], [0.5, 2]);
    g({ kernel: [2, 2], pool_type: "lp", p_value: 3 }, [1, 1, 3, 3], [0.5, 2]);
    g({ kernel: [2], pool_type: "lp", p_value: 1 }, [1, 1, 4], [-1, 1]);
    g({ global_pool: true }, [2, 2, 3, 2]);
    g({ global_pool: true, pool_type: "avg" }, [1, 2, 3], [-1, 1]);
  });
});
