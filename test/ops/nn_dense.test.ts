/** FullyConnected and Convolution: forward against hand values and a naive loop, FD gradients, shape inference. */
import { expect } from "chai";
import { sym, Symbol, InferenceError, ParamError } from "../../index.js";
import { checkForward, checkGradient, rng } from "../helpers/op_check.js";

const x = (name = "data"): Symbol => sym.Variable(name);
const randoms = (n: number, seed: number): number[] => {
  const r = rng(seed);
  return Array.from({ length: n }, () => 2 * r() - 1);
};

describe("nn: FullyConnected", () => {
  it("computes data · weightᵀ + bias (hand values)", () => {
    const fc = sym.FullyConnected({ data: x(), num_hidden: 2, name: "fc" });
    checkForward(fc, {
      shapes: { data: [2, 3] },
      values: { data: [1, 2, 3, 4, 5, 6], fc_weight: [1, 0, -1, 2, 1, 0], fc_bias: [0.5, -1] },
      expected: [[-1.5, 3, -1.5, 12]],
      expectedShapes: [[2, 2]],
    });
  });

  it("flattens trailing dims with flatten=True and drops the bias with no_bias", () => {
    const fc = sym.FullyConnected({ data: x(), num_hidden: 1, no_bias: true, name: "fc" });
    expect(fc.listArguments()).to.deep.equal(["data", "fc_weight"]);
    checkForward(fc, {
      shapes: { data: [2, 2, 2] },
      values: { data: [1, 2, 3, 4, 5, 6, 7, 8], fc_weight: [1, -1, 2, 0.5] },
      expected: [[1 - 2 + 6 + 2, 5 - 6 + 14 + 4]],
      expectedShapes: [[2, 1]],
    });
  });

  it("applies to the last axis with flatten=False (naive loop)", () => {
    const fc = sym.FullyConnected({ data: x(), num_hidden: 5, flatten: false, name: "fc" });
    const data = randoms(24, 3);
    const w = randoms(20, 4);
    const b = randoms(5, 5);
    const want: number[] = [];
    for (let r = 0; r < 6; r++)
      for (let h = 0; h < 5; h++) {
        let s = b[h];
        for (let k = 0; k < 4; k++) s += data[r * 4 + k] * w[h * 4 + k];
        want.push(s);
      }
    checkForward(fc, { shapes: { data: [2, 3, 4] }, values: { data, fc_weight: w, fc_bias: b }, expected: [want], expectedShapes: [[2, 3, 5]] });
  });

  it("infers weight, bias and output from the data, and the batch back from the output", () => {
    const fc = sym.FullyConnected({ data: x(), num_hidden: 7, name: "fc" });
    expect(fc.inferShape({ data: [5, 3, 4] })).to.deep.equal([[[5, 3, 4], [7, 12], [7]], [[5, 7]], []]);
    const fc2 = sym.FullyConnected({ data: x(), num_hidden: 3, flatten: false, name: "fc2" });
    expect(fc2.inferShape({ data: [2, 4, 6] })[0]).to.deep.equal([[2, 4, 6], [3, 6], [3]]);
    const sum = sym.FullyConnected({ data: x(), num_hidden: 7, name: "fc" }).plus(x("c"));
    const [args] = sum.inferShapePartial({ data: [0, 12], c: [5, 7] });
    expect(args).to.deep.equal([[5, 12], [7, 12], [7], [5, 7]]);
  });

  it("leaves a branch unknown when its data is unknown (MXNet's partial example)", () => {
    const data = x("data");
    const prev = x("prevstate");
    const a = sym.FullyConnected({ data, num_hidden: 128, name: "x2h" });
    const b = sym.FullyConnected({ data: prev, num_hidden: 128, name: "h2h" });
    const out = a.plus(b);
    const names = out.listArguments();
    const [args] = out.inferShapePartial({ data: [10, 64] });
    const shapeOf = (n: string): number[] => args[names.indexOf(n)];
    expect(shapeOf("x2h_weight")).to.deep.equal([128, 64]);
    expect(shapeOf("h2h_weight")).to.deep.equal([]);
    expect(() => out.inferShape({ data: [10, 64] })).to.throw(/h2h_weight/);
    const [full] = out.inferShape({ data: [10, 64], prevstate: [10, 128] });
    expect(full[names.indexOf("h2h_weight")]).to.deep.equal([128, 128]);
  });

  it("names the node, the op and the shapes when the weight does not fit", () => {
    const fc = sym.FullyConnected({ data: x(), num_hidden: 7, name: "fc1" });
    let err: unknown;
    try {
      fc.inferShape({ data: [5, 12], fc1_weight: [7, 10] });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(InferenceError);
    const msg = (err as Error).message;
    expect(msg).to.contain("fc1").and.contain("FullyConnected").and.contain("[7,10]").and.contain("[7,12]");
  });

  it("requires num_hidden", () => {
    expect(() => (sym.FullyConnected as (a: object) => Symbol)({ data: x(), name: "fc" })).to.throw(ParamError, /num_hidden/);
  });

  it("has finite-difference gradients (flatten, no flatten, no bias)", () => {
    checkGradient(sym.FullyConnected({ data: x(), num_hidden: 3, name: "fc" }), { shapes: { data: [2, 2, 3] } });
    checkGradient(sym.FullyConnected({ data: x(), num_hidden: 2, flatten: false, name: "fc" }), { shapes: { data: [2, 3, 4] } });
    checkGradient(sym.FullyConnected({ data: x(), num_hidden: 4, no_bias: true, name: "fc" }), { shapes: { data: [3, 5] } });
  });
});

interface ConvOpts {
  kernel: number[];
  stride?: number[];
  pad?: number[];
  dilate?: number[];
  group?: number;
  filters: number;
}

/** A direct convolution over an explicitly zero-padded copy of the input. */
function naiveConv(data: number[], shape: number[], w: number[], b: number[] | null, o: ConvOpts): { out: number[]; shape: number[] } {
  const [n, c, ...sp] = shape;
  const nd = sp.length;
  const stride = o.stride ?? sp.map(() => 1);
  const pad = o.pad ?? sp.map(() => 0);
  const dil = o.dilate ?? sp.map(() => 1);
  const g = o.group ?? 1;
  const padded = sp.map((s, i) => s + 2 * pad[i]);
  const outSp = sp.map((_, i) => Math.floor((padded[i] - dil[i] * (o.kernel[i] - 1) - 1) / stride[i]) + 1);
  // 1-D and 2-D only: treat 1-D as height 1.
  const [OH, OW] = nd === 1 ? [1, outSp[0]] : outSp;
  const [KH, KW] = nd === 1 ? [1, o.kernel[0]] : o.kernel;
  const [SH, SW] = nd === 1 ? [1, stride[0]] : stride;
  const [DH, DW] = nd === 1 ? [1, dil[0]] : dil;
  const [PH, PW] = nd === 1 ? [0, pad[0]] : pad;
  const [IH, IW] = nd === 1 ? [1, sp[0]] : sp;
  const P = (ni: number, ci: number, h: number, wv: number): number => {
    const hh = h - PH;
    const ww = wv - PW;
    return hh < 0 || ww < 0 || hh >= IH || ww >= IW ? 0 : data[((ni * c + ci) * IH + hh) * IW + ww];
  };
  const cg = c / g;
  const fg = o.filters / g;
  const out: number[] = [];
  for (let ni = 0; ni < n; ni++)
    for (let f = 0; f < o.filters; f++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let s = b ? b[f] : 0;
          const grp = Math.floor(f / fg);
          for (let ci = 0; ci < cg; ci++)
            for (let kh = 0; kh < KH; kh++)
              for (let kw = 0; kw < KW; kw++)
                s += P(ni, grp * cg + ci, oh * SH + kh * DH, ow * SW + kw * DW) * w[((f * cg + ci) * KH + kh) * KW + kw];
          out.push(s);
        }
  return { out, shape: [n, o.filters, ...outSp] };
}

describe("nn: Convolution", () => {
  it("convolves 1-D data (hand values, with and without pad)", () => {
    const conv = sym.Convolution({ data: x(), kernel: [3], num_filter: 1, no_bias: true, name: "c" });
    checkForward(conv, { shapes: { data: [1, 1, 5] }, values: { data: [1, 2, 3, 4, 5], c_weight: [1, 0, -1] }, expected: [[-2, -2, -2]] });
    const padded = sym.Convolution({ data: x(), kernel: [3], pad: [1], num_filter: 1, no_bias: true, name: "c" });
    checkForward(padded, { shapes: { data: [1, 1, 5] }, values: { data: [1, 2, 3, 4, 5], c_weight: [1, 0, -1] }, expected: [[-2, -2, -2, -2, 4]] });
  });

  const cases: [string, number[], ConvOpts][] = [
    ["2-D plain", [2, 2, 5, 5], { kernel: [3, 3], filters: 3 }],
    ["2-D stride 2 pad 1", [1, 2, 6, 5], { kernel: [3, 2], stride: [2, 2], pad: [1, 1], filters: 2 }],
    ["2-D dilate 2", [1, 1, 7, 7], { kernel: [3, 3], dilate: [2, 2], filters: 2 }],
    ["2-D groups 2", [2, 4, 4, 4], { kernel: [2, 2], group: 2, filters: 4 }],
    ["1-D stride 2 pad 2 dilate 2", [2, 3, 9], { kernel: [3], stride: [2], pad: [2], dilate: [2], filters: 2 }],
    ["1-D depthwise", [1, 3, 6], { kernel: [2], group: 3, filters: 3 }],
  ];
  for (const [label, shape, o] of cases)
    it(`matches a naive loop: ${label}`, () => {
      const size = shape.reduce((a, b) => a * b, 1);
      const data = randoms(size, 11);
      const wsize = o.filters * (shape[1] / (o.group ?? 1)) * o.kernel.reduce((a, b) => a * b, 1);
      const w = randoms(wsize, 12);
      const b = randoms(o.filters, 13);
      const want = naiveConv(data, shape, w, b, o);
      const conv = sym.Convolution({
        data: x(),
        kernel: o.kernel,
        stride: o.stride,
        pad: o.pad,
        dilate: o.dilate,
        num_group: o.group,
        num_filter: o.filters,
        name: "c",
      });
      checkForward(conv, { shapes: { data: shape }, values: { data, c_weight: w, c_bias: b }, expected: [want.out], expectedShapes: [want.shape] });
    });

  it("infers weight, bias and output shapes", () => {
    const conv = sym.Convolution({ data: x(), kernel: [3, 3], stride: [2, 2], pad: [1, 1], num_filter: 4, name: "c" });
    expect(conv.inferShape({ data: [2, 3, 7, 7] })).to.deep.equal([[[2, 3, 7, 7], [4, 3, 3, 3], [4]], [[2, 4, 4, 4]], []]);
    const dil = sym.Convolution({ data: x(), kernel: [3, 3], stride: [2, 2], dilate: [2, 2], num_filter: 4, name: "c" });
    expect(dil.inferShape({ data: [1, 3, 7, 7] })[1]).to.deep.equal([[1, 4, 2, 2]]);
    const grp = sym.Convolution({ data: x(), kernel: [3, 3], num_group: 3, num_filter: 6, no_bias: true, name: "c" });
    expect(grp.inferShape({ data: [1, 3, 5, 5] })[0]).to.deep.equal([[1, 3, 5, 5], [6, 1, 3, 3]]);
  });

  it("fills the batch, the channels and stride-1 spatial sizes of the data backwards", () => {
    const conv = sym.Convolution({ data: x(), kernel: [3, 3], pad: [1, 0], num_filter: 4, name: "c" }).plus(x("y"));
    const [args] = conv.inferShapePartial({ data: [0, 0, 0, 0], c_weight: [4, 2, 3, 3], y: [2, 4, 5, 6] });
    expect(args[0]).to.deep.equal([2, 2, 5, 8]);
  });

  it("reports bad shapes and params clearly", () => {
    const big = sym.Convolution({ data: x(), kernel: [5], num_filter: 1, name: "c1" });
    expect(() => big.inferShape({ data: [1, 1, 3] })).to.throw(InferenceError, /c1.*Convolution.*kernel size 5.*3/);
    const grp = sym.Convolution({ data: x(), kernel: [1], num_filter: 2, num_group: 2, name: "c2" });
    expect(() => grp.inferShape({ data: [1, 3, 4] })).to.throw(InferenceError, /c2.*not divisible by num_group 2/);
    const rank = sym.Convolution({ data: x(), kernel: [3, 3], num_filter: 1, name: "c3" });
    expect(() => rank.inferShape({ data: [1, 1, 5] })).to.throw(InferenceError, /c3.*\[1,1,5\].*4 dims/);
    const nhwc = sym.Convolution({ data: x(), kernel: [3, 3], num_filter: 1, layout: "NHWC", name: "c4" });
    expect(() => nhwc.inferShape({ data: [1, 5, 5, 1] })).to.throw(InferenceError, /NHWC/);
    expect(() => sym.Convolution({ data: x(), kernel: [3, 3], stride: [1, 1, 1], num_filter: 1, name: "c5" }).inferShape({ data: [1, 1, 5, 5] })).to.throw(
      /stride \(1, 1, 1\)/,
    );
    expect(() => (sym.Convolution as (a: object) => Symbol)({ data: x(), kernel: [3], name: "c6" })).to.throw(ParamError, /num_filter/);
  });

  it("prints its params the way MXNet does", () => {
    const conv = sym.Convolution({ data: x(), kernel: [3, 3], num_filter: 8, name: "c" });
    expect(conv.attrDict().c).to.deep.equal({ kernel: "(3, 3)", num_filter: "8" });
  });

  it("has finite-difference gradients (1-D and 2-D, stride, pad, dilate, groups, no_bias)", () => {
    const g = (args: Parameters<typeof sym.Convolution>[0], shape: number[]): void =>
      checkGradient(sym.Convolution({ data: x(), name: "c", ...args }), { shapes: { data: shape } });
    g({ kernel: [3], num_filter: 2 }, [2, 2, 6]);
    g({ kernel: [3], stride: [2], pad: [2], dilate: [2], num_filter: 2 }, [1, 2, 7]);
    g({ kernel: [2, 2], num_filter: 2, num_group: 2, no_bias: true }, [1, 4, 3, 3]);
    g({ kernel: [3, 2], stride: [2, 1], pad: [1, 1], num_filter: 2 }, [1, 2, 4, 3]);
    g({ kernel: [2, 2], dilate: [2, 1], num_filter: 1 }, [2, 1, 4, 3]);
  });
});
