/** Activation and LeakyReLU: hand values, FD gradients, prelu shapes, rrelu's random slopes. */
import { expect } from "chai";
import { sym, Symbol, reference, nd, InferenceError } from "../../index.js";
import { checkForward, checkGradient, rng } from "../helpers/op_check.js";
import { ReferenceExecutor } from "../../runtime/executor/reference.js";
import { makeComputeCtx, stageOf } from "../../compiler/te/stage.js";
import { evalStage } from "../../compiler/te/interpret.js";

const data = (): Symbol => sym.Variable("data");

/**
 * checkComputes restricted to one op's nodes: in training, rrelu's forward compute (its
 * inference form; training is decomposed) does not apply, but its gradient row's does.
 */
function checkComputeOf(exe: unknown, opName: string): void {
  if (!(exe instanceof ReferenceExecutor)) throw new Error("needs a reference executor");
  const nodes = exe.trace().filter((t) => t.node.op!.name === opName);
  expect(nodes.length, `${opName} nodes`).to.be.greaterThan(0);
  for (const { node, inputs, outputs } of nodes) {
    const ins = inputs.map((t) => ({ shape: t.shape, dtype: "float64" as const }));
    const outs = outputs.map((t) => ({ shape: t.shape, dtype: "float64" as const }));
    node.op!.compute!(makeComputeCtx(ins, outs), node.params as never).forEach((body, k) => {
      const got = evalStage(stageOf(ins, outs[k], body), inputs).data;
      got.forEach((g, i) => expect(Math.abs(g - outputs[k].data[i]), `${opName} output ${k}[${i}]`).to.be.below(1e-12));
    });
  }
}

/** Values in ±[0.1, 1.1], away from the kinks at 0. */
function awayFromZero(n: number, seed: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => (r() < 0.5 ? -1 : 1) * (0.1 + r()));
}

describe("nn: Activation", () => {
  const cases: [string, number[], number[]][] = [
    ["relu", [-2, -0.5, 0.5, 3], [0, 0, 0.5, 3]],
    ["sigmoid", [0, 2, -1, 0], [0.5, 0.8807970779778823, 0.2689414213699951, 0.5]],
    ["tanh", [1, -0.5, 0, 0], [0.7615941559557649, -0.46211715726000974, 0, 0]],
    ["softrelu", [0, 1, 30, -30], [Math.LN2, 1.3132616875182228, 30, 9.357622968840175e-14]],
    ["softsign", [1, -3, 0, 4], [0.5, -0.75, 0, 0.8]],
    ["log_sigmoid", [0, 30, 0, 0], [-Math.LN2, -9.357622968840175e-14, -Math.LN2, -Math.LN2]],
    ["mish", [1, 0, 0, 0], [0.8650983882673103, 0, 0, 0]],
  ];
  for (const [act, x, want] of cases)
    it(`computes ${act} (hand values) and its gradient`, () => {
      const s = sym.Activation({ data: data(), act_type: act as "relu", name: "act" });
      checkForward(s, { shapes: { data: [2, 2] }, values: { data: x }, expected: [want], tol: 1e-12 });
      checkGradient(s, { shapes: { data: [3, 4] }, values: { data: awayFromZero(12, act.length) } });
    });

  it("keeps the shape in both directions and requires act_type", () => {
    const s = sym.Activation({ data: data(), act_type: "tanh", name: "act" }).plus(sym.Variable("y"));
    expect(s.inferShapePartial({ y: [3, 5] })[0]).to.deep.equal([[3, 5], [3, 5]]);
    expect(() => (sym.Activation as (a: object) => Symbol)({ data: data() })).to.throw(/act_type/);
  });
});

describe("nn: LeakyReLU", () => {
  const x = [-2, -1, 1, 2];
  it("computes leaky, elu, selu and gelu (hand values)", () => {
    const run = (args: Omit<Parameters<typeof sym.LeakyReLU>[0], "data">, want: number[]): void => {
      checkForward(sym.LeakyReLU({ data: data(), name: "lr", ...args }), { shapes: { data: [4] }, values: { data: x }, expected: [want], tol: 1e-12 });
    };
    run({}, [-0.5, -0.25, 1, 2]);
    run({ act_type: "leaky", slope: 0.1 }, [-0.2, -0.1, 1, 2]);
    run({ act_type: "elu", slope: 1 }, [Math.exp(-2) - 1, Math.exp(-1) - 1, 1, 2]);
    run({ act_type: "elu", slope: 0.5 }, [0.5 * (Math.exp(-2) - 1), 0.5 * (Math.exp(-1) - 1), 1, 2]);
    const l = 1.0507009873554805;
    run({ act_type: "selu" }, [-1.5201664685956948, -1.1113307378125625, l, 2 * l]);
    run({ act_type: "gelu" }, [-0.04550026389635842, -0.15865525393145707, 0.8413447460685429, 1.9544997361036416]);
  });

  it("uses a learned slope per channel with prelu", () => {
    const s = sym.LeakyReLU({ data: data(), act_type: "prelu", name: "pr" });
    expect(s.listArguments()).to.deep.equal(["data", "pr_gamma"]);
    expect(s.inferShape({ data: [2, 3, 4] })[0]).to.deep.equal([[2, 3, 4], [3]]);
    const v = [-1, 2, -3, 4, 5, -6, -7, 8];
    checkForward(s, {
      shapes: { data: [2, 2, 2] },
      values: { data: v, pr_gamma: [0.1, 0.5] },
      expected: [[-0.1, 2, -1.5, 4, 5, -0.6, -3.5, 8]],
    });
    checkForward(s, { shapes: { data: [2, 2, 2], pr_gamma: [1] }, values: { data: v, pr_gamma: [0.5] }, expected: [v.map((t) => (t > 0 ? t : t / 2))] });
    expect(() => s.inferShape({ data: [2, 3, 4], pr_gamma: [2] })).to.throw(InferenceError, /pr.*LeakyReLU.*gamma \[2\]/);
  });

  it("uses the mean slope for rrelu in inference and random slopes within the bounds in training", () => {
    const s = sym.LeakyReLU({ data: data(), act_type: "rrelu", name: "rr" });
    expect(s.listOutputs()).to.deep.equal(["rr_output"]);
    const mid = (0.125 + 0.334) / 2;
    checkForward(s, { shapes: { data: [4] }, values: { data: x }, expected: [[-2 * mid, -mid, 1, 2]] });
    const exe = s.simpleBind({ ctx: reference(), shapes: { data: [200] }, typeDict: { data: "float64" } });
    const input = Array.from({ length: 200 }, (_, i) => (i % 2 ? 1 + i : -1 - i));
    exe.argDict.data.set(input);
    const out = exe.forward(true)[0].toArray();
    const slopes = out.map((o, i) => o / input[i]).filter((_, i) => input[i] < 0);
    expect(Math.min(...slopes)).to.be.at.least(0.125);
    expect(Math.max(...slopes)).to.be.at.most(0.334);
    expect(new Set(slopes).size).to.be.greaterThan(50);
    // The gradient reads the same slopes: ograd on the positive side, ograd·slope on the negative.
    const head = Array.from({ length: 200 }, (_, i) => 0.01 * i - 1);
    exe.backward(nd.array(head, { ctx: reference(), dtype: "float64" }));
    const grad = exe.gradDict.data.toArray();
    grad.forEach((gv, i) => {
      const want = input[i] > 0 ? head[i] : (head[i] * out[i]) / input[i];
      expect(Math.abs(gv - want)).to.be.below(1e-12);
    });
    checkComputeOf(exe, "_backward_LeakyReLU");
  });

  it("has finite-difference gradients (leaky, elu, selu, gelu, prelu)", () => {
    const g = (args: Omit<Parameters<typeof sym.LeakyReLU>[0], "data">, shape: number[], extra: Record<string, number[]> = {}): void => {
      const n = shape.reduce((a, b) => a * b, 1);
      checkGradient(sym.LeakyReLU({ data: data(), name: "lr", ...args }), { shapes: { data: shape, ...extra }, values: { data: awayFromZero(n, n) } });
    };
    g({ slope: 0.3 }, [3, 4]);
    g({ act_type: "elu", slope: 0.7 }, [3, 4]);
    g({ act_type: "selu" }, [2, 5]);
    g({ act_type: "gelu" }, [2, 5]);
    g({ act_type: "prelu" }, [2, 3, 2]);
    g({ act_type: "prelu" }, [2, 3, 2], { lr_gamma: [1] });
  });
});
