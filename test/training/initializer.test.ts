import { expect } from "chai";
import { join } from "node:path";
import { NDArray, nd, reference } from "../../index.js";
import { Initializer, Uniform, Normal, Xavier, MSRAPrelu, Constant, Zero, One, Load, Mixed, Bilinear, create, seed } from "../../runtime/training/initializer.js";
import { expectError } from "../helpers/expect_error.js";
import { MODELS_DIR } from "../helpers/paths.js";

function stats(a: NDArray): { mean: number; variance: number; min: number; max: number; n: number } {
  const v = a.toFloat64();
  let s = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const x of v) {
    s += x;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const mean = s / v.length;
  let q = 0;
  for (const x of v) q += (x - mean) ** 2;
  return { mean, variance: q / v.length, min, max, n: v.length };
}

/** Mean within 5 standard errors of 0, variance within 2% of `variance` (>10 standard errors at these sizes). */
function expectMoments(a: NDArray, variance: number): ReturnType<typeof stats> {
  const s = stats(a);
  expect(Math.abs(s.mean)).to.be.below(5 * Math.sqrt(variance / s.n));
  expect(s.variance / variance).to.be.closeTo(1, 0.02);
  return s;
}

describe("training/initializer", () => {
  beforeEach(() => seed(1234));

  it("Uniform(scale) draws from [-scale, scale] with variance scale²/3", () => {
    const a = nd.zeros([400, 500]);
    new Uniform().init("fc_weight", a);
    const s = expectMoments(a, 0.07 ** 2 / 3);
    expect(s.min).to.be.at.least(-0.07);
    expect(s.max).to.be.at.most(0.07);
    expect(s.max).to.be.above(0.0699);
    const b = nd.zeros([100000]);
    new Uniform(2).init("w_weight", b);
    expectMoments(b, 4 / 3);
  });

  it("Normal(sigma) has standard deviation sigma and a normal shape", () => {
    const a = nd.zeros([200000], { dtype: "float64" });
    new Normal().init("fc_weight", a);
    expectMoments(a, 0.01 ** 2);
    const v = a.toFloat64();
    const within = (k: number): number => v.filter((x) => Math.abs(x) < k * 0.01).length / v.length;
    expect(within(1)).to.be.closeTo(0.6827, 0.005);
    expect(within(2)).to.be.closeTo(0.9545, 0.003);
    const b = nd.zeros([100000]);
    new Normal(3).init("x_weight", b);
    expectMoments(b, 9);
  });

  it("Xavier scales by the fans of the weight's shape", () => {
    // Convolution weight (out 128, in 64, 3×3): fan_in 576, fan_out 1152.
    const conv = nd.zeros([128, 64, 3, 3]);
    const scale = Math.sqrt(3 / ((576 + 1152) / 2));
    new Xavier().init("conv_weight", conv);
    const s = expectMoments(conv, scale ** 2 / 3);
    expect(s.min).to.be.at.least(-scale);
    expect(s.max).to.be.at.most(scale);
    expect(s.max).to.be.above(0.999 * scale);
    const fc = nd.zeros([400, 300]);
    for (const [factor, fan] of [["avg", 350], ["in", 300], ["out", 400]] as const) {
      new Xavier("gaussian", factor, 2).init("fc_weight", fc);
      expectMoments(fc, 2 / fan);
    }
    expect(new Xavier("uniform", "in", 6).scaleFor("w", [10, 20, 2])).to.be.closeTo(Math.sqrt(6 / 40), 1e-15);
    expectError(() => new Xavier().init("fc_weight", nd.zeros([10])), "fc_weight", "(10,)", "2 dimensions");
    expectError(() => new Xavier("normal" as "gaussian"), "rnd_type", "normal");
  });

  it("MSRAPrelu is gaussian with variance 2/(1+slope²)/factor", () => {
    const w = nd.zeros([300, 200, 2]);
    new MSRAPrelu().init("conv_weight", w);
    expectMoments(w, 2 / (1 + 0.25 ** 2) / ((400 + 600) / 2));
    new MSRAPrelu("in", 0).init("conv_weight", w);
    expectMoments(w, 2 / 400);
    expect(new MSRAPrelu().dumps()).to.equal('["msraprelu", {"factor_type": "avg", "slope": 0.25}]');
  });

  it("Constant, Zero and One fill weights", () => {
    const a = nd.zeros([3, 2]);
    new Constant(2.5).init("x_weight", a);
    expect(a.toArray()).to.deep.equal([2.5, 2.5, 2.5, 2.5, 2.5, 2.5]);
    new Zero().init("x_weight", a);
    expect(a.toArray()).to.deep.equal([0, 0, 0, 0, 0, 0]);
    new One().init("x_weight", a);
    expect(a.toArray()).to.deep.equal([1, 1, 1, 1, 1, 1]);
  });

  it("follows MXNet's name rules", () => {
    const init = new Constant(7);
    const fill = (name: string, shape = [2, 3]): number[] => {
      const a = nd.full(shape, -5);
      init.init(name, a);
      return [...new Set(a.toArray())];
    };
    expect(fill("fc1_weight")).to.deep.equal([7]);
    expect(fill("fc1_bias")).to.deep.equal([0]);
    expect(fill("bn0_gamma")).to.deep.equal([1]);
    expect(fill("bn0_beta")).to.deep.equal([0]);
    expect(fill("bn0_moving_mean")).to.deep.equal([0]);
    expect(fill("bn0_moving_var")).to.deep.equal([1]);
    expect(fill("bn0_moving_inv_var")).to.deep.equal([0]);
    expect(fill("q_min")).to.deep.equal([0]);
    expect(fill("q_max")).to.deep.equal([1]);
    expect(fill("stn_loc_weight")).to.deep.equal([0]);
    const loc = nd.zeros([6]);
    init.init("stn_loc_bias", loc);
    expect(loc.toArray()).to.deep.equal([1, 0, 0, 0, 1, 0]);
    expectError(() => init.init("embedding_table", nd.zeros([2])), "embedding_table", "Unknown initialization pattern");
  });

  it("fills bilinear upsampling kernels", () => {
    const w = nd.zeros([1, 1, 4, 4]);
    new Constant(3).init("upsampling0_weight", w);
    // f = 2, c = 0.75: factors per position [0.25, 0.75, 0.75, 0.25].
    const f = [0.25, 0.75, 0.75, 0.25];
    expect(w.toArray()).to.deep.equal(f.flatMap((y) => f.map((x) => x * y)));
    const b = nd.zeros([1, 1, 4, 4]);
    new Bilinear().init("deconv_weight", b);
    expect(b.toArray()).to.deep.equal(w.toArray());
  });

  it("an __init__ attribute wins over the name", () => {
    const a = nd.zeros([2, 2]);
    new Uniform().init("fc_weight", a, { __init__: '["constant", {"value": 0.5}]' });
    expect(a.toArray()).to.deep.equal([0.5, 0.5, 0.5, 0.5]);
    new Uniform().init("bn_moving_var", a, { __init__: "zeros" });
    expect(a.toArray()).to.deep.equal([0, 0, 0, 0]);
    new Zero().init("fc_bias", a, { __init__: new One().dumps() });
    expect(a.toArray()).to.deep.equal([1, 1, 1, 1]);
  });

  it("is reproducible from init.seed", () => {
    const draw = (s: number): number[] => {
      seed(s);
      const a = nd.zeros([50]);
      new Xavier("gaussian").init("w_weight", nd.zeros([5, 5]));
      new Uniform().init("w_weight", a);
      return a.toArray();
    };
    expect(draw(3)).to.deep.equal(draw(3));
    expect(draw(3)).to.not.deep.equal(draw(4));
  });

  it("fills arrays of any dtype and context", () => {
    const h = nd.zeros([1000], { dtype: "float16" });
    new Uniform(1).init("h_weight", h);
    expect(stats(h).max).to.be.at.most(1);
    const r = nd.zeros([2000, 5], { ctx: reference() });
    new Normal(1).init("r_weight", r);
    expect(stats(r).variance).to.be.closeTo(1, 0.05);
  });

  it("Load copies saved values by name and falls back to a default", () => {
    const saved = { "arg:fc_weight": nd.array([[1, 2], [3, 4]]), "aux:bn_moving_mean": nd.array([5, 6]) };
    const load = new Load(saved, new Constant(9));
    const w = nd.zeros([2, 2]);
    load.init("fc_weight", w);
    expect(w.toArray()).to.deep.equal([1, 2, 3, 4]);
    const m = nd.zeros([2]);
    load.init("bn_moving_mean", m);
    expect(m.toArray()).to.deep.equal([5, 6]);
    const other = nd.zeros([3]);
    load.init("other_weight", other);
    expect(other.toArray()).to.deep.equal([9, 9, 9]);
    expectError(() => load.init("fc_weight", nd.zeros([3, 2])), "fc_weight", "(3,2)", "(2,2)");
    expectError(() => new Load(saved).init("nope_weight", nd.zeros([1])), "nope_weight", "no default");
    const lines: string[] = [];
    new Load(saved, new Zero(), true, (s) => lines.push(s)).init("fc_weight", w);
    expect(lines).to.deep.equal(["Initialized fc_weight by loading"]);
  });

  it("Load reads an MXNet .params file", () => {
    const file = join(MODELS_DIR, "mnist-0035.params");
    const ref = nd.load(file) as Record<string, NDArray>;
    const w = nd.zeros([10, 1, 5, 5]);
    new Load(file).init("hybridsequential9_conv0_weight", w);
    expect(w.toArray()).to.deep.equal(ref["arg:hybridsequential9_conv0_weight"].toArray());
  });

  it("Mixed picks the first pattern that matches at the start of the name", () => {
    const mixed = new Mixed(["fc1", ".*"], [new Constant(2), new One()]);
    const a = nd.zeros([2]);
    mixed.init("fc1_weight", a);
    expect(a.toArray()).to.deep.equal([2, 2]);
    mixed.init("fc1_bias", a);
    expect(a.toArray()).to.deep.equal([0, 0]);
    mixed.init("xfc1_weight", a);
    expect(a.toArray()).to.deep.equal([1, 1]);
    expectError(() => new Mixed(["conv"], [new One()]).init("fc_weight", a), "fc_weight", "did not match");
  });

  it("create takes names, MXNet's serialized form and instances", () => {
    const x = create("xavier", { magnitude: 2, factor_type: "in" }) as Xavier;
    expect(x).to.be.instanceOf(Xavier);
    expect([x.rndType, x.factorType, x.magnitude]).to.deep.equal(["uniform", "in", 2]);
    expect(new Xavier("gaussian", "out", 2).dumps()).to.equal('["xavier", {"rnd_type": "gaussian", "factor_type": "out", "magnitude": 2}]');
    const y = create('["xavier", {"rnd_type": "gaussian", "factor_type": "out", "magnitude": 2}]') as Xavier;
    expect([y.rndType, y.factorType, y.magnitude]).to.deep.equal(["gaussian", "out", 2]);
    expect((create("Uniform") as Uniform).scale).to.equal(0.07);
    expect((create('["normal", {"sigma": 0.5}]') as Normal).sigma).to.equal(0.5);
    expect(create("zeros")).to.be.instanceOf(Zero);
    expect(create("ones")).to.be.instanceOf(One);
    const u = new Uniform(1);
    expect(create(u)).to.equal(u);
    expect(new Zero().dumps()).to.equal('["zero", {}]');
    expectError(() => create("glorot"), "glorot", "xavier");
    expectError(() => create("[not json"), "[not json");
    expectError(() => create("constant"), "value");
    expect(u).to.be.instanceOf(Initializer);
  });
});

describe("training/random", () => {
  it("permutations are uniform and seeds repeat sequences", async () => {
    const { RandomGenerator } = await import("../../runtime/training/random.js");
    const g = new RandomGenerator(99);
    const counts = Array.from({ length: 5 }, () => new Array<number>(5).fill(0));
    const trials = 20000;
    for (let t = 0; t < trials; t++) g.permutation(5).forEach((v, pos) => counts[pos][v]++);
    // Each (position, value) cell expects 4000; the binomial standard deviation is ~57.
    for (const row of counts) for (const c of row) expect(Math.abs(c - trials / 5)).to.be.below(300);
    const a = new RandomGenerator(-7);
    const b = new RandomGenerator(-7);
    const xs = Array.from({ length: 10 }, () => a.nextUint32());
    expect(Array.from({ length: 10 }, () => b.nextUint32())).to.deep.equal(xs);
    expect(new RandomGenerator(2 ** 40).nextUint32()).to.not.equal(new RandomGenerator(0).nextUint32());
    for (let i = 0; i < 1000; i++) {
      const u = a.random();
      expect(u >= 0 && u < 1).to.equal(true);
      const k = a.randint(7);
      expect(Number.isInteger(k) && k >= 0 && k < 7).to.equal(true);
    }
    expect(() => a.seed(1.5)).to.throw("seed");
  });
});

describe("training/initializer keyword forms", () => {
  it("Xavier and MSRAPrelu take MXNet's keyword object as well as positional arguments", () => {
    const a = new Xavier({ rnd_type: "gaussian", factor_type: "in", magnitude: 2 });
    const b = new Xavier("gaussian", "in", 2);
    expect([a.rndType, a.factorType, a.magnitude]).to.deep.equal([b.rndType, b.factorType, b.magnitude]);
    expect(a.dumps()).to.equal(b.dumps());
    expect(new Xavier({}).magnitude).to.equal(3);
    const m = new MSRAPrelu({ factor_type: "in", slope: 0 });
    expect([m.factorType, m.slope, m.magnitude]).to.deep.equal(["in", 0, 2]);
    expect(() => new Xavier({ rnd_type: "bogus" as "uniform" })).to.throw(/rnd_type/);
  });
});
