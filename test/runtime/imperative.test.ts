import { expect } from "chai";
import { nd, NDArray, cpu, reference, gpu, cpuKernels, cuda, sym, withNameManager } from "../../index.js";
import type { DType } from "../../index.js";
import type { NestedNumbers } from "../../runtime/nd.js";
import type { Context } from "../../runtime/context.js";
import { imperativeCache } from "../../runtime/imperative/cache.js";
import { expectError } from "../helpers/expect_error.js";

type Make = (values: NestedNumbers, dtype?: DType) => NDArray;
const on =
  (ctx: Context): Make =>
  (values, dtype) =>
    nd.array(values, { ctx, dtype });

function close(got: readonly number[], want: readonly number[], tol = 1e-5, what = ""): void {
  expect(got.length, `${what} length`).to.equal(want.length);
  got.forEach((g, i) => expect(Math.abs(g - want[i]), `${what}[${i}]: got ${g}, want ${want[i]}`).to.be.at.most(tol * Math.max(1, Math.abs(want[i]))));
}

const list = (r: NDArray | NDArray[]): NDArray[] => (Array.isArray(r) ? r : [r]);

/**
 * Runs `f` on cpu() (generated C++) and on reference(), and checks both against the
 * hand-computed values `want` (one list per output) and the expected shapes.
 */
function both(f: (m: Make) => NDArray | NDArray[], want: number[][], shapes?: number[][]): NDArray[] {
  const got = list(f(on(cpu())));
  const ref = list(f(on(reference())));
  expect(got.length).to.equal(want.length);
  expect(ref.length).to.equal(want.length);
  got.forEach((g, i) => {
    expect(g.ctx.equals(cpu()), `output ${i} context`).to.equal(true);
    expect(ref[i].ctx.equals(reference())).to.equal(true);
    expect(g.shape).to.deep.equal(ref[i].shape);
    if (shapes) expect(g.shape).to.deep.equal(shapes[i]);
    close(g.toArray(), want[i], 1e-5, `cpu output ${i}`);
    close(ref[i].toArray(), want[i], 1e-9, `reference output ${i}`);
  });
  return got;
}

const A = [
  [1, 2, 3],
  [4, 5, 6],
];

describe("imperative ops (nd.<op>)", function () {
  this.timeout(60000);

  describe("values on cpu() and reference()", () => {
    it("dot (plain and transposed) and FullyConnected", () => {
      both((m) => nd.dot({ lhs: m(A), rhs: m([[1, 0], [0, 1], [1, 1]]) }), [[4, 5, 10, 11]], [[2, 2]]);
      both((m) => nd.dot({ lhs: m(A), rhs: m(A), transpose_b: true }), [[14, 32, 32, 77]], [[2, 2]]);
      both(
        (m) => nd.FullyConnected({ data: m(A), weight: m([[1, 0, -1], [0.5, 0.5, 0.5]]), bias: m([1, -1]), num_hidden: 2 }),
        [[-1, 2, -1, 6.5]],
        [[2, 2]],
      );
    });

    it("sum over an axis, with keepdims; argmax", () => {
      both((m) => nd.sum({ data: m(A), axis: 1 }), [[6, 15]], [[2]]);
      both((m) => nd.sum({ data: m(A), axis: 0, keepdims: true }), [[5, 7, 9]], [[1, 3]]);
      both((m) => nd.argmax({ data: m([[1, 9, 3], [7, 5, 6]]), axis: 1 }), [[1, 0]], [[2]]);
    });

    it("Concat, transpose, Reshape, broadcast_to", () => {
      both((m) => nd.Concat({ data: [m(A), m([[7], [8]])], dim: 1 }), [[1, 2, 3, 7, 4, 5, 6, 8]], [[2, 4]]);
      both((m) => nd.transpose({ data: m(A) }), [[1, 4, 2, 5, 3, 6]], [[3, 2]]);
      both((m) => nd.Reshape({ data: m(A), shape: [3, -1] }), [[1, 2, 3, 4, 5, 6]], [[3, 2]]);
      both((m) => nd.broadcast_to({ data: m([[1], [2]]), shape: [2, 3] }), [[1, 1, 1, 2, 2, 2]], [[2, 3]]);
    });

    it("Activation, softmax, clip, where", () => {
      both((m) => nd.Activation({ data: m([-1, 0, 2]), act_type: "relu" }), [[0, 0, 2]]);
      both((m) => nd.softmax({ data: m([[0, Math.log(3)], [2, 2]]) }), [[0.25, 0.75, 0.5, 0.5]]);
      both((m) => nd.clip({ data: m(A), a_min: 2, a_max: 5 }), [[2, 2, 3, 4, 5, 5]]);
      both((m) => nd.where({ condition: m([1, 0]), x: m([1, 2]), y: m([3, 4]) }), [[1, 4]]);
    });

    it("Convolution and Pooling (max, avg)", () => {
      const img = (m: Make): NDArray => m([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]]);
      both(
        (m) => nd.Convolution({ data: img(m), weight: m([[[[1, 0], [0, 1]]]]), kernel: [2, 2], num_filter: 1, no_bias: true }),
        [[6, 8, 12, 14]],
        [[1, 1, 2, 2]],
      );
      both((m) => nd.Pooling({ data: img(m), kernel: [2, 2], pool_type: "max" }), [[5, 6, 8, 9]], [[1, 1, 2, 2]]);
      both((m) => nd.Pooling({ data: img(m), kernel: [2, 2], pool_type: "avg" }), [[3, 4, 6, 7]], [[1, 1, 2, 2]]);
    });

    it("Embedding and one_hot", () => {
      both((m) => nd.Embedding({ data: m([[0, 2]]), weight: m([[1, 2], [3, 4], [5, 6]]), input_dim: 3, output_dim: 2 }), [[1, 2, 5, 6]], [[1, 2, 2]]);
      both((m) => nd.one_hot({ indices: m([1, 0, 2]), depth: 3 }), [[0, 1, 0, 1, 0, 0, 0, 0, 1]], [[3, 3]]);
    });

    it("BatchNorm is inference: the moving statistics normalize and stay unchanged", () => {
      const eps = 1e-3;
      const want = [(1 - 1) / Math.sqrt(4 + eps), ((2 - 2) / Math.sqrt(1 + eps)) * 2 + 1, (3 - 1) / Math.sqrt(4 + eps), ((4 - 2) / Math.sqrt(1 + eps)) * 2 + 1];
      let mean: NDArray | undefined;
      both((m) => {
        mean = m([1, 2]);
        return nd.BatchNorm({ data: m([[1, 2], [3, 4]]), gamma: m([1, 2]), beta: m([0, 1]), moving_mean: mean, moving_var: m([4, 1]), fix_gamma: false, eps });
      }, [want]);
      expect(mean!.toArray()).to.deep.equal([1, 2]);
    });

    it("Dropout is the identity and SoftmaxOutput its softmax (autograd off)", () => {
      both((m) => nd.Dropout({ data: m(A), p: 0.5 }), [[1, 2, 3, 4, 5, 6]]);
      both((m) => nd.SoftmaxOutput({ data: m([[0, Math.log(3)]]), label: m([1]) }), [[0.25, 0.75]]);
    });

    it("Cast gives the asked dtype; ops without inputs run on ctx", () => {
      const c = nd.Cast({ data: nd.array([1.7, -2, 3]), dtype: "int32" });
      expect(c.dtype).to.equal("int32");
      expect(c.toArray()).to.deep.equal([1, -2, 3]);
      const z = nd._ones({ shape: [2, 2], ctx: reference() });
      expect(z.ctx.equals(reference())).to.equal(true);
      expect(z.toArray()).to.deep.equal([1, 1, 1, 1]);
      expect(nd._zeros({ shape: [3] }).ctx.equals(cpu())).to.equal(true);
      // nd.zeros / nd.ones stay the creation functions (the op aliases do not replace them).
      expect(nd.zeros([2], { dtype: "float64" }).dtype).to.equal("float64");
    });
  });

  describe("multi-output ops", () => {
    it("SliceChannel returns every piece; split with num_outputs=1 is still a list", () => {
      both(
        (m) => nd.SliceChannel({ data: m(A), num_outputs: 3 }),
        [[1, 4], [2, 5], [3, 6]],
        [[2, 1], [2, 1], [2, 1]],
      );
      const sq = nd.split({ data: nd.array(A), num_outputs: 2, axis: 0, squeeze_axis: true });
      expect(sq.map((x) => x.shape)).to.deep.equal([[3], [3]]);
      expect(sq[1].toArray()).to.deep.equal([4, 5, 6]);
      const one = nd.split({ data: nd.array(A), num_outputs: 1 });
      expect(one).to.have.length(1);
    });

    it("BatchNorm with output_mean_var returns output, mean and var, as on reference()", () => {
      const run = (ctx: Context): NDArray[] => {
        const m = on(ctx);
        return nd.BatchNorm({ data: m([[1, 2], [3, 4]]), gamma: m([1, 1]), beta: m([0, 0]), moving_mean: m([0, 0]), moving_var: m([1, 1]), output_mean_var: true });
      };
      const got = run(cpu());
      const ref = run(reference());
      expect(got).to.have.length(3);
      got.forEach((g, i) => close(g.toArray(), ref[i].toArray(), 1e-5, `output ${i}`));
    });
  });

  describe("NDArray arithmetic", () => {
    it("same shapes, scalars and negation on cpu()", () => {
      const a = nd.array(A);
      const b = nd.array([[2, 2, 2], [4, 5, 3]]);
      close(a.plus(b).toArray(), [3, 4, 5, 8, 10, 9]);
      close(a.minus(1).toArray(), [0, 1, 2, 3, 4, 5]);
      close(a.div(b).toArray(), [0.5, 1, 1.5, 1, 1, 2]);
      close(a.pow(2).toArray(), [1, 4, 9, 16, 25, 36]);
      close(a.neg().toArray(), [-1, -2, -3, -4, -5, -6]);
      close(a.rminus(10).toArray(), [9, 8, 7, 6, 5, 4]);
      close(a.rdiv(6).toArray(), [6, 3, 2, 1.5, 1.2, 1]);
      expect(a.toArray(), "operands unchanged").to.deep.equal([1, 2, 3, 4, 5, 6]);
    });

    it("different shapes broadcast, as MXNet's NDArray.__add__ (broadcast_add)", () => {
      const a = nd.array(A);
      const row = nd.array([[10, 20, 30]]);
      const col = nd.array([[100], [200]]);
      close(a.plus(row).toArray(), [11, 22, 33, 14, 25, 36]);
      close(a.mul(col).toArray(), [100, 200, 300, 800, 1000, 1200]);
      close(col.minus(row).toArray(), [90, 80, 70, 190, 180, 170]);
      expect(col.minus(row).shape).to.deep.equal([2, 3]);
      expectError(() => a.plus(nd.array([1, 2])), "NDArray.plus", "broadcast_add", "(2,3)", "(2,)");
    });

    it("every method agrees with reference() (float64), pow and div by arrays included", () => {
      const vals = [[0.5, 1.5, 2], [3, 0.25, 4]];
      const ops: ((x: NDArray, y: NDArray) => NDArray)[] = [
        (x, y) => x.plus(y),
        (x, y) => x.minus(y),
        (x, y) => x.mul(y),
        (x, y) => x.div(y),
        (x, y) => x.pow(y),
        (x) => x.pow(0.5),
        (x) => x.rpow(2),
        (x, y) => x.div(y.plus(1)),
      ];
      const c = [nd.array(vals), nd.array([[2, 3, 1.5], [0.5, 2, 1]])];
      const r = c.map((x) => x.copyTo(reference()));
      ops.forEach((f, i) => close(f(c[0], c[1]).toArray(), f(r[0], r[1]).toArray(), 1e-5, `op ${i}`));
    });
  });

  describe("compile once per op, params, shapes, dtypes and context", () => {
    it("repeated calls reuse one executor; a new shape, param or dtype builds another", () => {
      imperativeCache.clear();
      const a = nd.array(A);
      const b = nd.array([[1, 0], [0, 1], [1, 1]]);
      const first = nd.dot({ lhs: a, rhs: b });
      expect(imperativeCache.stats().builds).to.equal(1);
      const runs = cpuKernels.compilerRuns;
      for (let k = 1; k <= 5; k++) {
        const r = nd.dot({ lhs: nd.full([2, 3], k), rhs: b });
        close(r.toArray(), [2 * k, 2 * k, 2 * k, 2 * k]);
      }
      close(first.toArray(), [4, 5, 10, 11], 0, "an earlier result is its own array");
      expect(cpuKernels.compilerRuns, "no compiler run for repeated shapes").to.equal(runs);
      expect(imperativeCache.stats()).to.include({ builds: 1, hits: 5 });
      nd.dot({ lhs: nd.array([[1, 2]]), rhs: nd.array([[1], [1]]) });
      expect(imperativeCache.stats().builds, "new shape").to.equal(2);
      nd.dot({ lhs: a, rhs: a, transpose_b: true });
      nd.dot({ lhs: a, rhs: a, transpose_b: true });
      expect(imperativeCache.stats().builds, "new params").to.equal(3);
      nd.dot({ lhs: nd.array(A, { dtype: "float64" }), rhs: nd.array(A, { dtype: "float64" }), transpose_b: true });
      expect(imperativeCache.stats().builds, "new dtype").to.equal(4);
      nd.dot({ lhs: a.copyTo(reference()), rhs: b.copyTo(reference()) });
      expect(imperativeCache.stats().builds, "new context").to.equal(5);
    });

    it("the map is bounded (LRU), and evicted calls still work", () => {
      imperativeCache.clear();
      imperativeCache.configure({ maxEntries: 2 });
      try {
        const r = reference();
        for (const n of [1, 2, 3]) nd.sum({ data: nd.ones([n], { ctx: r }) });
        const s = imperativeCache.stats();
        expect(s.entries).to.equal(2);
        expect(s.evictions).to.equal(1);
        expect(nd.sum({ data: nd.ones([1], { ctx: r }) }).toArray()).to.deep.equal([1]);
        expect(imperativeCache.stats().builds).to.equal(4);
      } finally {
        imperativeCache.configure({ maxEntries: 128 });
      }
    });
  });

  describe("out=", () => {
    it("writes into the given array and returns it, also when it is an input", () => {
      const a = nd.array([1, 2, 3]);
      const o = nd.zeros([3]);
      const r = nd.elemwise_add({ lhs: a, rhs: a, out: o });
      expect(r).to.equal(o);
      expect(o.toArray()).to.deep.equal([2, 4, 6]);
      nd.elemwise_mul({ lhs: a, rhs: a, out: a });
      expect(a.toArray()).to.deep.equal([1, 4, 9]);
      const parts = [nd.zeros([1]), nd.zeros([1])];
      nd.split({ data: nd.array([5, 6]), num_outputs: 2, axis: 0, out: parts });
      expect(parts.map((p) => p.asScalar())).to.deep.equal([5, 6]);
    });

    it("checks shape, dtype and context", () => {
      const a = nd.array([1, 2, 3]);
      expectError(() => nd.exp({ data: a, out: nd.zeros([2]) }), "nd.exp", "out is NDArray(2,)", "(3,)");
      expectError(() => nd.exp({ data: a, out: nd.zeros([3], { dtype: "float64" }) }), "nd.exp", "float64", "float32");
      expectError(() => nd.exp({ data: a, out: nd.zeros([3], { ctx: reference() }) }), "nd.exp", "reference(0)", "cpu(0)");
    });
  });

  describe("errors", () => {
    it("mixed contexts name the op, the inputs and their contexts", () => {
      expectError(
        () => nd.dot({ lhs: nd.array(A), rhs: nd.array(A, { ctx: reference() }) }),
        "nd.dot",
        "one context",
        "lhs: float32(2,3) on cpu(0)",
        "rhs: float32(2,3) on reference(0)",
      );
    });

    it("wrong shapes name the op and the shapes; the process stays usable", () => {
      expectError(() => nd.dot({ lhs: nd.array(A), rhs: nd.array(A) }), "nd.dot", "lhs: float32(2,3)", "rhs: float32(2,3)");
      expectError(
        () => nd.FullyConnected({ data: nd.array(A), weight: nd.ones([2, 4]), bias: nd.ones([2]), num_hidden: 2 }),
        "nd.FullyConnected",
        "data: float32(2,3)",
        "weight: float32(2,4)",
      );
      expectError(() => nd.elemwise_add({ lhs: nd.ones([2]), rhs: nd.ones([3]) }), "nd.elemwise_add", "(2,)", "(3,)");
      expect(nd.dot({ lhs: nd.array(A), rhs: nd.array(A), transpose_b: true }).toArray()).to.deep.equal([14, 32, 32, 77]);
      expect(nd.elemwise_add({ lhs: nd.ones([2]), rhs: nd.ones([2]) }).toArray()).to.deep.equal([2, 2]);
    });

    it("wrong, missing or badly typed params and inputs", () => {
      const a = nd.array(A);
      const call = (f: (args: unknown) => unknown, args: unknown) => () => f(args);
      expectError(call(nd.sum as (x: unknown) => unknown, { data: a, axes: 1 }), "nd.sum", 'unknown argument "axes"', "params: axis");
      expectError(call(nd.FullyConnected as (x: unknown) => unknown, { data: a, weight: a }), "nd.FullyConnected", "num_hidden", "missing");
      expectError(() => nd.FullyConnected({ data: a, weight: a, num_hidden: 3 }), "nd.FullyConnected", 'missing input "bias"');
      expectError(call(nd.Activation as (x: unknown) => unknown, { data: a, act_type: "nope" }), "nd.Activation", "act_type");
      expectError(call(nd.exp as (x: unknown) => unknown, { data: [1, 2] }), "nd.exp", 'input "data" must be an NDArray');
      expectError(call(nd.exp as (x: unknown) => unknown, { data: sym.Variable("x") }), "nd.exp", "Symbol");
      expectError(() => nd.Concat({ data: [a, a], num_args: 3 }), "nd.Concat", "num_args=3 but 2 inputs");
    });

    it("does not disturb automatic symbol names", () =>
      withNameManager(() => {
        nd.exp({ data: nd.ones([1]) });
        expect(sym.exp({ data: sym.Variable("x") }).name).to.equal("exp0");
      }));
  });

  it("gpu(): results stay on the device and match cpu()", function () {
    if (!cuda.isAvailable()) this.skip();
    const g = gpu();
    const r = nd.FullyConnected({ data: nd.array(A, { ctx: g }), weight: nd.array([[1, 0, -1], [0.5, 0.5, 0.5]], { ctx: g }), bias: nd.array([1, -1], { ctx: g }), num_hidden: 2 });
    expect(r.ctx.equals(g)).to.equal(true);
    close(r.toArray(), [-1, 2, -1, 6.5]);
    close(nd.array(A, { ctx: g }).plus(nd.array([[1, 2, 3]], { ctx: g })).toArray(), [2, 4, 6, 5, 7, 9]);
  });
});

/** Compile-time checks of the typed API (never called: tsc is the test). */
export function typeChecks(a: NDArray): void {
  const one: NDArray = nd.dot({ lhs: a, rhs: a });
  const parts: NDArray[] = nd.split({ data: a, num_outputs: 2 });
  const bn: NDArray[] = nd.BatchNorm({ data: a, gamma: a, beta: a, moving_mean: a, moving_var: a, output_mean_var: true });
  const bn1: NDArray = nd.BatchNorm({ data: a, gamma: a, beta: a, moving_mean: a, moving_var: a });
  // @ts-expect-error: misspelled param
  nd.dot({ lhs: a, rhs: a, transpose_c: true });
  // @ts-expect-error: a Symbol is no NDArray
  nd.exp({ data: sym.Variable("x") });
  // @ts-expect-error: FullyConnected needs num_hidden
  nd.FullyConnected({ data: a, weight: a });
  // @ts-expect-error: split gives a list
  const notOne: NDArray = nd.split({ data: a, num_outputs: 2 });
  void [one, parts, bn, bn1, notOne];
}
