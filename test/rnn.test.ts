import { expect } from "chai";
import { sym, Symbol, reference, withNameManager } from "../index.js";
import type { DType } from "../index.js";
import { rnn } from "../compiler/rnn/index.js";
import { rng } from "./helpers/op_check.js";

// ---- independent float64 math for the expected values ------------------------------------------

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/** x (batch × k) · Wᵀ (W is rows × k, row-major) + b. */
function fc(x: number[][], W: number[], b: number[]): number[][] {
  const rows = b.length;
  const k = W.length / rows;
  return x.map((xr) => Array.from({ length: rows }, (_, r) => b[r] + xr.reduce((s, v, j) => s + v * W[r * k + j], 0)));
}

const chunk = (row: number[], i: number, h: number): number[] => row.slice(i * h, (i + 1) * h);

function lstmStep(x: number[][], h: number[][], c: number[][], p: Params, H: number): [number[][], number[][]] {
  const gi = fc(x, p.i2h_weight, p.i2h_bias);
  const gh = fc(h, p.h2h_weight, p.h2h_bias);
  const nh: number[][] = [];
  const nc: number[][] = [];
  gi.forEach((row, b) => {
    const g = row.map((v, j) => v + gh[b][j]);
    const [i, f, cand, o] = [0, 1, 2, 3].map((k) => chunk(g, k, H));
    const cNew = i.map((_, j) => sigmoid(f[j]) * c[b][j] + sigmoid(i[j]) * Math.tanh(cand[j]));
    nc.push(cNew);
    nh.push(cNew.map((cv, j) => sigmoid(o[j]) * Math.tanh(cv)));
  });
  return [nh, nc];
}

function gruStep(x: number[][], h: number[][], p: Params, H: number): number[][] {
  const gi = fc(x, p.i2h_weight, p.i2h_bias);
  const gh = fc(h, p.h2h_weight, p.h2h_bias);
  return gi.map((row, b) => {
    const [xr, xz, xn] = [0, 1, 2].map((k) => chunk(row, k, H));
    const [hr, hz, hn] = [0, 1, 2].map((k) => chunk(gh[b], k, H));
    return xr.map((_, j) => {
      const r = sigmoid(xr[j] + hr[j]);
      const z = sigmoid(xz[j] + hz[j]);
      const cand = Math.tanh(xn[j] + r * hn[j]);
      return (1 - z) * cand + z * h[b][j];
    });
  });
}

type Params = Record<"i2h_weight" | "i2h_bias" | "h2h_weight" | "h2h_bias", number[]>;

function randomParams(gates: number, H: number, inDim: number, seed: number): Params {
  const r = rng(seed);
  const u = (n: number) => Array.from({ length: n }, () => r() - 0.5);
  return { i2h_weight: u(gates * H * inDim), i2h_bias: u(gates * H), h2h_weight: u(gates * H * H), h2h_bias: u(gates * H) };
}

function randomMatrix(rows: number, cols: number, seed: number): number[][] {
  const r = rng(seed);
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => 2 * r() - 1));
}

/** Runs forward in float64 on reference() with the given values (parameters by short name under prefix). */
function run(net: Symbol, shapes: Record<string, number[]>, values: Record<string, number[]>): number[][] {
  const typeDict: Record<string, DType> = Object.fromEntries(net.listArguments().map((n) => [n, "float64" as DType]));
  const exe = net.simpleBind({ ctx: reference(), shapes, gradReq: "null", typeDict });
  for (const [name, arr] of Object.entries(exe.argDict)) {
    if (!(name in values)) throw new Error(`test gives no value for ${name}`);
    arr.set(values[name]);
  }
  return exe.forward(false).map((o) => o.toArray());
}

const withPrefix = (prefix: string, p: Params): Record<string, number[]> => Object.fromEntries(Object.entries(p).map(([k, v]) => [prefix + k, v]));

function expectClose(got: number[], want: number[], tol = 1e-12): void {
  expect(got.length).to.equal(want.length);
  got.forEach((g, i) => expect(Math.abs(g - want[i]), `[${i}]: got ${g}, want ${want[i]}`).to.be.below(tol));
}

// ---- tests ---------------------------------------------------------------------------------------

describe("rnn cells", () => {
  describe("parameters", () => {
    it("LSTMCell names and shapes its four weights, with the LSTMBias initializer", () => {
      const cell = new rnn.LSTMCell({ numHidden: 4 });
      expect(cell.prefix).to.equal("lstm_");
      expect(cell.params.names()).to.deep.equal(["lstm_i2h_weight", "lstm_h2h_weight", "lstm_i2h_bias", "lstm_h2h_bias"]);
      expect(cell.params.toRecord().lstm_i2h_bias.attr("__init__")).to.equal('["lstmbias", {"forget_bias": 1.0}]');
      expect(new rnn.LSTMCell({ numHidden: 4, forgetBias: 0.5 }).params.toRecord().lstm_i2h_bias.attr("__init__")).to.equal('["lstmbias", {"forget_bias": 0.5}]');
      expect(cell.gateNames).to.deep.equal(["_i", "_f", "_c", "_o"]);
      expect(cell.stateInfo).to.deep.equal([
        { shape: [0, 4], layout: "NC" },
        { shape: [0, 4], layout: "NC" },
      ]);
      const [outs] = cell.unroll(3, sym.Variable("data"));
      const net = outs[2];
      expect(net.listArguments()).to.deep.equal(["data", "lstm_i2h_weight", "lstm_i2h_bias", "lstm_h2h_weight", "lstm_h2h_bias"]);
      const [args, out] = net.inferShape({ data: [2, 3, 5] });
      expect(args).to.deep.equal([[2, 3, 5], [16, 5], [16], [16, 4], [16]]);
      expect(out).to.deep.equal([[2, 4]]);
    });

    it("GRUCell and RNNCell pack 3 and 1 gates", () => {
      const gru = new rnn.GRUCell({ numHidden: 4 });
      const simple = new rnn.RNNCell({ numHidden: 4, prefix: "r_" });
      expect(gru.params.names()).to.deep.equal(["gru_i2h_weight", "gru_i2h_bias", "gru_h2h_weight", "gru_h2h_bias"]);
      expect(simple.params.names()).to.deep.equal(["r_i2h_weight", "r_i2h_bias", "r_h2h_weight", "r_h2h_bias"]);
      expect(gru.gateNames).to.deep.equal(["_r", "_z", "_o"]);
      const [g] = gru.unroll(2, sym.Variable("data"));
      const [r] = simple.unroll(2, sym.Variable("data"));
      expect(g[1].inferShape({ data: [2, 2, 5] })[0]).to.deep.equal([[2, 2, 5], [12, 5], [12], [12, 4], [12]]);
      expect(r[1].inferShape({ data: [2, 2, 5] })[0]).to.deep.equal([[2, 2, 5], [4, 5], [4], [4, 4], [4]]);
    });

    it("cells built on one RNNParams share their weights", () => {
      const shared = new rnn.RNNParams("enc_");
      const a = new rnn.LSTMCell({ numHidden: 3, prefix: "a_", params: shared });
      const b = new rnn.LSTMCell({ numHidden: 3, prefix: "b_", params: shared });
      const [outA] = a.unroll(1, [sym.Variable("x")]);
      const [outB] = b.unroll(1, outA);
      expect(outB[0].listArguments()).to.deep.equal(["x", "enc_i2h_weight", "enc_i2h_bias", "enc_h2h_weight", "enc_h2h_bias"]);
      expect(outB[0].name).to.equal("b_t0_out");
    });
  });

  describe("node names", () => {
    it("LSTM step nodes are named as MXNet names them", () => {
      withNameManager(() => {
        const cell = new rnn.LSTMCell({ numHidden: 2 });
        const states = cell.beginState();
        expect(states.map((s) => s.name)).to.deep.equal(["lstm_begin_state_0", "lstm_begin_state_1"]);
        expect(states[0].listAttr()).to.deep.equal({ __layout__: "NC", dtype: "float32", shape: "(0, 2)" });
        const [out, next] = cell.call(sym.Variable("x"), states);
        expect(out.name).to.equal("lstm_t0_out");
        expect(next.map((s) => s.name)).to.deep.equal(["lstm_t0_out", "lstm_t0_state"]);
        const ops = out.graph().nodes.filter((n) => n.op).map((n) => `${n.name}:${n.op!.name}`);
        expect(ops).to.deep.equal([
          "lstm_t0_i2h:FullyConnected",
          "lstm_begin_state_0:_zeros",
          "lstm_t0_h2h:FullyConnected",
          "_plus0:elemwise_add",
          "lstm_t0_slice:SliceChannel",
          "lstm_t0_o:Activation",
          "lstm_t0_f:Activation",
          "lstm_begin_state_1:_zeros",
          "_mul0:elemwise_mul",
          "lstm_t0_i:Activation",
          "lstm_t0_c:Activation",
          "_mul1:elemwise_mul",
          "lstm_t0_state:elemwise_add",
          "activation0:Activation",
          "lstm_t0_out:elemwise_mul",
        ]);
        // The second step counts on; unroll restarts the counters.
        expect(cell.call(sym.Variable("x"), next)[0].name).to.equal("lstm_t1_out");
        const [outs, finals] = cell.unroll(2, [sym.Variable("x0"), sym.Variable("x1")]);
        expect(outs.map((o) => o.name)).to.deep.equal(["lstm_t0_out", "lstm_t1_out"]);
        expect(finals.map((s) => s.name)).to.deep.equal(["lstm_t1_out", "lstm_t1_state"]);
      });
    });

    it("beginState takes a dtype, or a function to make the states (e.g. variables fed as inputs)", () => {
      const cell = new rnn.GRUCell({ numHidden: 3 });
      expect(cell.beginState({ dtype: "float64" })[0].attr("dtype")).to.equal("float64");
      const [h0] = cell.beginState({ func: ({ name }) => sym.Variable(name) });
      expect(h0.name).to.equal("gru_begin_state_1");
      const [outs] = cell.unroll(2, sym.Variable("data"), { beginState: [h0] });
      expect(outs[1].listArguments()).to.include("gru_begin_state_1");
    });

    it("GRU keeps MXNet's double underscore; RNN names its activation <prefix>t<i>_out", () => {
      withNameManager(() => {
        const [out] = new rnn.GRUCell({ numHidden: 2 }).call(sym.Variable("x"), [sym.Variable("h")]);
        const names = out.graph().nodes.filter((n) => n.op).map((n) => n.name);
        for (const n of ["gru_t0__i2h", "gru_t0__h2h", "gru_t0__i2h_slice", "gru_t0__h2h_slice", "gru_t0__r_act", "gru_t0__z_act", "gru_t0__h_act", "gru_t0_out"])
          expect(names).to.include(n);
        expect(out.name).to.equal("gru_t0_out");
        const [r] = new rnn.RNNCell({ numHidden: 2, activation: "relu" }).call(sym.Variable("x"), [sym.Variable("h")]);
        expect(r.name).to.equal("rnn_t0_out");
        expect(r.attr("act_type")).to.equal("relu");
      });
    });
  });

  describe("one step against hand-computed values", () => {
    const B = 2;
    const I = 3;
    const H = 2;
    const x = randomMatrix(B, I, 11);
    const h0 = randomMatrix(B, H, 12);
    const c0 = randomMatrix(B, H, 13);

    it("LSTM: gates in the order i, f, c, o", () => {
      const p = randomParams(4, H, I, 5);
      const cell = new rnn.LSTMCell({ numHidden: H });
      const [h1, [, c1]] = cell.call(sym.Variable("x"), [sym.Variable("h0"), sym.Variable("c0")]);
      const got = run(sym.Group([h1, c1]), { x: [B, I], h0: [B, H], c0: [B, H] }, { x: x.flat(), h0: h0.flat(), c0: c0.flat(), ...withPrefix("lstm_", p) });
      const [wantH, wantC] = lstmStep(x, h0, c0, p, H);
      expectClose(got[0], wantH.flat());
      expectClose(got[1], wantC.flat());
    });

    it("LSTM from zero begin states, batch dim inferred", () => {
      const p = randomParams(4, H, I, 6);
      const cell = new rnn.LSTMCell({ numHidden: H });
      const [h1] = cell.call(sym.Variable("x"), cell.beginState({ dtype: "float64" }));
      const got = run(h1, { x: [B, I] }, { x: x.flat(), ...withPrefix("lstm_", p) });
      const zeros = [Array(H).fill(0), Array(H).fill(0)];
      expectClose(got[0], lstmStep(x, zeros, zeros, p, H)[0].flat());
    });

    it("GRU: gates r, z, candidate with the reset gate applied after h2h (cuDNN form)", () => {
      const p = randomParams(3, H, I, 7);
      const [h1] = new rnn.GRUCell({ numHidden: H }).call(sym.Variable("x"), [sym.Variable("h0")]);
      const got = run(h1, { x: [B, I], h0: [B, H] }, { x: x.flat(), h0: h0.flat(), ...withPrefix("gru_", p) });
      expectClose(got[0], gruStep(x, h0, p, H).flat());
    });

    it("RNN: tanh and relu", () => {
      const p = randomParams(1, H, I, 8);
      const pre = fc(x, p.i2h_weight, p.i2h_bias).map((row, b) => row.map((v, j) => v + fc(h0, p.h2h_weight, p.h2h_bias)[b][j]));
      for (const [act, f] of [
        ["tanh", Math.tanh],
        ["relu", (v: number) => Math.max(0, v)],
      ] as const) {
        const [h1] = new rnn.RNNCell({ numHidden: H, activation: act }).call(sym.Variable("x"), [sym.Variable("h0")]);
        const got = run(h1, { x: [B, I], h0: [B, H] }, { x: x.flat(), h0: h0.flat(), ...withPrefix("rnn_", p) });
        expectClose(got[0], pre.flat().map(f));
      }
    });
  });

  describe("unroll", () => {
    const B = 2;
    const T = 3;
    const I = 4;
    const H = 3;
    const p = randomParams(4, H, I, 21);
    // data[b][t] for NTC input.
    const steps = Array.from({ length: T }, (_, t) => randomMatrix(B, I, 30 + t));
    const ntc = Array.from({ length: B }, (_, b) => steps.map((s) => s[b])).flat(2);
    const tnc = steps.flat(2);
    const expected = (() => {
      let h = randomMatrix(B, H, 0).map((r) => r.map(() => 0));
      let c = h;
      return steps.map((x) => {
        [h, c] = lstmStep(x, h, c, p, H);
        return h;
      });
    })();
    const values = { ...withPrefix("lstm_", p) };
    /** A fresh cell and unroll options with float64 zero begin states (the default zeros are float32, as MXNet's). */
    const fresh = (opts: { layout?: string } = {}) => {
      const cell = new rnn.LSTMCell({ numHidden: H });
      return { cell, opts: { ...opts, beginState: cell.beginState({ dtype: "float64" }) } };
    };

    it("NTC, mergeOutputs false/undefined: one output per step", () => {
      const { cell, opts } = fresh({ layout: "NTC" });
      const [outs, states] = cell.unroll(T, sym.Variable("data"), opts);
      expect(outs).to.have.length(T);
      expect(states).to.have.length(2);
      expect(outs[0].inferShape({ data: [B, T, I] })[1]).to.deep.equal([[B, H]]);
      const got = run(sym.Group(outs), { data: [B, T, I] }, { data: ntc, ...values });
      got.forEach((g, t) => expectClose(g, expected[t].flat()));
      const [explicitFalse] = new rnn.LSTMCell({ numHidden: H }).unroll(T, sym.Variable("data"), { mergeOutputs: false });
      expect(explicitFalse).to.have.length(T);
    });

    it("NTC, mergeOutputs true: (batch, T, H)", () => {
      const { cell, opts } = fresh({ layout: "NTC" });
      const [out] = cell.unroll(T, sym.Variable("data"), { ...opts, mergeOutputs: true });
      expect(out).to.be.instanceOf(Symbol);
      expect(out.inferShape({ data: [B, T, I] })[1]).to.deep.equal([[B, T, H]]);
      const got = run(out, { data: [B, T, I] }, { data: ntc, ...values })[0];
      const want = Array.from({ length: B }, (_, b) => expected.map((h) => h[b])).flat(2);
      expectClose(got, want);
    });

    it("TNC, mergeOutputs true and false: (T, batch, H)", () => {
      const m = fresh({ layout: "TNC" });
      const [merged] = m.cell.unroll(T, sym.Variable("data"), { ...m.opts, mergeOutputs: true });
      expect(merged.inferShape({ data: [T, B, I] })[1]).to.deep.equal([[T, B, H]]);
      expectClose(run(merged, { data: [T, B, I] }, { data: tnc, ...values })[0], expected.flat(2));
      const l = fresh({ layout: "TNC" });
      const [list] = l.cell.unroll(T, sym.Variable("data"), l.opts);
      run(sym.Group(list), { data: [T, B, I] }, { data: tnc, ...values }).forEach((g, t) => expectClose(g, expected[t].flat()));
    });

    it("a list of step inputs, merged on request", () => {
      const xs = steps.map((_, t) => sym.Variable(`x${t}`));
      const { cell, opts } = fresh();
      const [out] = cell.unroll(T, xs, { ...opts, mergeOutputs: true });
      const shapes = Object.fromEntries(xs.map((_, t) => [`x${t}`, [B, I]]));
      const feeds = Object.fromEntries(steps.map((s, t) => [`x${t}`, s.flat()]));
      expect(out.inferShape(shapes)[1]).to.deep.equal([[B, T, H]]);
      expectClose(run(out, shapes, { ...feeds, ...values })[0], Array.from({ length: B }, (_, b) => expected.map((h) => h[b])).flat(2));
    });

    it("explicit begin states are used", () => {
      const cell = new rnn.LSTMCell({ numHidden: H });
      const h0 = randomMatrix(B, H, 40);
      const c0 = randomMatrix(B, H, 41);
      const [outs] = cell.unroll(T, sym.Variable("data"), { beginState: [sym.Variable("h0"), sym.Variable("c0")] });
      const got = run(outs[T - 1], { data: [B, T, I], h0: [B, H], c0: [B, H] }, { data: ntc, h0: h0.flat(), c0: c0.flat(), ...values });
      let [h, c] = [h0, c0];
      for (const x of steps) [h, c] = lstmStep(x, h, c, p, H);
      expectClose(got[0], h.flat());
    });

    it("rejects a wrong number of inputs or states, and a layout without T", () => {
      const cell = new rnn.LSTMCell({ numHidden: H });
      expect(() => cell.unroll(3, [sym.Variable("a")])).to.throw(/unroll\(3\) got 1 input/);
      expect(() => cell.call(sym.Variable("a"), [sym.Variable("h")])).to.throw(/needs 2 state/);
      expect(() => cell.unroll(3, sym.Variable("data"), { layout: "NC" })).to.throw(/no time axis/);
    });
  });

  describe("SequentialRNNCell", () => {
    const B = 2;
    const I = 3;
    const H1 = 3;
    const H2 = 2;

    function stack() {
      return new rnn.SequentialRNNCell().add(new rnn.LSTMCell({ numHidden: H1, prefix: "l0_" })).add(new rnn.GRUCell({ numHidden: H2, prefix: "l1_" }));
    }

    it("collects the cells' parameters and states", () => {
      const s = stack();
      expect(s.params.names()).to.deep.equal([
        "l0_i2h_weight",
        "l0_h2h_weight",
        "l0_i2h_bias",
        "l0_h2h_bias",
        "l1_i2h_weight",
        "l1_i2h_bias",
        "l1_h2h_weight",
        "l1_h2h_bias",
      ]);
      expect(s.stateShape).to.deep.equal([
        [0, H1],
        [0, H1],
        [0, H2],
      ]);
      expect(s.beginState().map((x) => x.name)).to.deep.equal(["l0_begin_state_0", "l0_begin_state_1", "l1_begin_state_0"]);
    });

    it("one step feeds each cell's output to the next", () => {
      const pl = randomParams(4, H1, I, 51);
      const pg = randomParams(3, H2, H1, 52);
      const x = randomMatrix(B, I, 53);
      const [h, c, g] = [randomMatrix(B, H1, 54), randomMatrix(B, H1, 55), randomMatrix(B, H2, 56)];
      const [out, next] = stack().call(sym.Variable("x"), [sym.Variable("h"), sym.Variable("c"), sym.Variable("g")]);
      expect(next).to.have.length(3);
      const got = run(sym.Group([out, ...next]), { x: [B, I], h: [B, H1], c: [B, H1], g: [B, H2] }, {
        x: x.flat(),
        h: h.flat(),
        c: c.flat(),
        g: g.flat(),
        ...withPrefix("l0_", pl),
        ...withPrefix("l1_", pg),
      });
      const [h1, c1] = lstmStep(x, h, c, pl, H1);
      const g1 = gruStep(h1, g, pg, H2);
      expectClose(got[0], g1.flat());
      expectClose(got[1], h1.flat());
      expectClose(got[2], c1.flat());
      expectClose(got[3], g1.flat());
    });

    it("unrolls layer by layer and merges only the top layer's outputs", () => {
      const T = 4;
      const [merged, states] = stack().unroll(T, sym.Variable("data"), { mergeOutputs: true });
      expect(states).to.have.length(3);
      expect(merged.inferShape({ data: [B, T, I] })[1]).to.deep.equal([[B, T, H2]]);
      const [list] = stack().unroll(T, sym.Variable("data"));
      expect(list).to.have.length(T);
      expect(list[T - 1].name).to.equal(`l1_t${T - 1}_out`);
      expect(list[T - 1].listArguments()).to.have.length(9);
    });

    it("either the stack or its cells own the parameters, not both", () => {
      const shared = new rnn.RNNParams("s_");
      const s = new rnn.SequentialRNNCell({ params: shared });
      expect(() => s.add(new rnn.LSTMCell({ numHidden: 2, params: new rnn.RNNParams("x_") }))).to.throw(/not both/);
    });
  });
});
