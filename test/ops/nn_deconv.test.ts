/** Deconvolution: hand values, adjointness with Convolution, target_shape, FD gradients. */
import { expect } from "chai";
import { sym, Symbol, reference, InferenceError } from "../../index.js";
import { checkForward, checkGradient, rng } from "../helpers/op_check.js";

const data = (): Symbol => sym.Variable("data");
type DeconvArgs = Omit<Parameters<typeof sym.Deconvolution>[0], "data" | "name">;
const deconv = (args: DeconvArgs): Symbol => sym.Deconvolution({ data: data(), name: "dc", ...args });
const randoms = (n: number, seed: number): number[] => {
  const r = rng(seed);
  return Array.from({ length: n }, () => 2 * r() - 1);
};

/** Runs a single-output symbol on float64 arrays given by name. */
function run(s: Symbol, shapes: Record<string, number[]>, values: Record<string, number[]>): number[] {
  const typeDict = Object.fromEntries(s.listArguments().map((n) => [n, "float64" as const]));
  const exe = s.simpleBind({ ctx: reference(), shapes, typeDict, gradReq: "null" });
  for (const [k, v] of Object.entries(values)) exe.argDict[k].set(v);
  return exe.forward(false)[0].toArray();
}

describe("nn: Deconvolution", () => {
  const x = { data: [1, 2], dc_weight: [1, 10, 100] };
  it("scatters each input through the kernel (hand values)", () => {
    const spec = { shapes: { data: [1, 1, 2] }, values: x };
    checkForward(deconv({ kernel: [3], num_filter: 1 }), { ...spec, expected: [[1, 12, 120, 200]] });
    checkForward(deconv({ kernel: [3], stride: [2], num_filter: 1 }), { ...spec, expected: [[1, 10, 102, 20, 200]] });
    checkForward(deconv({ kernel: [3], stride: [2], pad: [1], num_filter: 1 }), { ...spec, expected: [[10, 102, 20]] });
    checkForward(deconv({ kernel: [3], stride: [2], pad: [1], adj: [1], num_filter: 1 }), { ...spec, expected: [[10, 102, 20, 200]] });
    checkForward(deconv({ kernel: [3], num_filter: 1, no_bias: false }), { shapes: { data: [1, 1, 2] }, values: { ...x, dc_bias: [0.5] }, expected: [[1.5, 12.5, 120.5, 200.5]] });
  });

  const cases: [string, number[], DeconvArgs][] = [
    ["1-D stride 2 pad 1", [2, 2, 4], { kernel: [3], stride: [2], pad: [1], num_filter: 3 }],
    ["2-D dilate and groups", [1, 4, 3, 3], { kernel: [2, 3], dilate: [2, 1], num_group: 2, num_filter: 2 }],
    ["2-D stride 2 pad 1", [1, 2, 3, 2], { kernel: [3, 3], stride: [2, 2], pad: [1, 1], num_filter: 2 }],
  ];
  for (const [label, shape, args] of cases)
    it(`is the adjoint of Convolution with the same weight: ${label}`, () => {
      const d = deconv(args);
      const [argShapes, [outShape]] = d.inferShape({ data: shape });
      const w = randoms(argShapes[1].reduce((a, b) => a * b, 1), 2);
      const xv = randoms(shape.reduce((a, b) => a * b, 1), 3);
      const yv = randoms(outShape.reduce((a, b) => a * b, 1), 4);
      const dx = run(d, { data: shape }, { data: xv, dc_weight: w });
      const conv = sym.Convolution({
        data: data(),
        kernel: args.kernel,
        stride: args.stride,
        pad: args.pad,
        dilate: args.dilate,
        num_group: args.num_group,
        num_filter: shape[1],
        no_bias: true,
        name: "c",
      });
      const cy = run(conv, { data: outShape }, { data: yv, c_weight: w });
      expect(cy.length).to.equal(xv.length);
      const lhs = dx.reduce((s, v, i) => s + v * yv[i], 0);
      const rhs = cy.reduce((s, v, i) => s + v * xv[i], 0);
      expect(Math.abs(lhs - rhs)).to.be.below(1e-12);
    });

  it("infers weight and output shapes, with target_shape choosing pad and adj", () => {
    const d = deconv({ kernel: [3, 3], stride: [2, 2], pad: [1, 1], adj: [1, 1], num_filter: 5 });
    expect(d.listArguments()).to.deep.equal(["data", "dc_weight"]);
    expect(d.inferShape({ data: [1, 3, 4, 4] })).to.deep.equal([[[1, 3, 4, 4], [3, 5, 3, 3]], [[1, 5, 8, 8]], []]);
    const t = deconv({ kernel: [3, 3], stride: [2, 2], target_shape: [8, 7], num_filter: 4, num_group: 2, no_bias: false });
    expect(t.inferShape({ data: [1, 2, 4, 4] })).to.deep.equal([[[1, 2, 4, 4], [2, 2, 3, 3], [4]], [[1, 4, 8, 7]], []]);
    expect(() => deconv({ kernel: [3], stride: [2], target_shape: [9], num_filter: 1, name: "dc9" } as DeconvArgs).inferShape({ data: [1, 1, 3] })).to.throw(
      InferenceError,
      /target_shape \(9,\) is too big/,
    );
    expect(() => deconv({ kernel: [3], stride: [2], adj: [2], num_filter: 1 }).inferShape({ data: [1, 1, 3] })).to.throw(InferenceError, /adj \(2,\)/);
  });

  it("has finite-difference gradients", () => {
    const g = (args: DeconvArgs, shape: number[]): void => checkGradient(deconv(args), { shapes: { data: shape } });
    g({ kernel: [3], stride: [2], pad: [1], adj: [1], num_filter: 2, no_bias: false }, [2, 2, 3]);
    g({ kernel: [2, 2], num_group: 2, num_filter: 2 }, [1, 2, 2, 3]);
    g({ kernel: [2, 2], dilate: [2, 1], stride: [1, 2], target_shape: [4, 3], num_filter: 1, no_bias: false }, [1, 2, 2, 2]);
  });
});
