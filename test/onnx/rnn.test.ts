/**
 * ONNX LSTM and GRU import against values computed by hand: ONNX's gate orders (LSTM i,o,f,c;
 * GRU z,r,h) differ from MXNet's fused RNN (i,f,c,o), so each gate gets its own weight here,
 * and a bidirectional LSTM's second direction must equal a reverse-direction LSTM.
 */
import { expect } from "chai";
import { importOnnx, OnnxImportResult } from "../../compiler/onnx/importer.js";
import { reference } from "../../runtime/context.js";
import "../../runtime/executor/reference.js";
import { buildModel, AttrSpec, TensorSpec } from "./model_builder.js";

const sig = (x: number): number => 1 / (1 + Math.exp(-x));
// Weights and inputs are float32 in the model: compare at float32 precision.

function run(m: OnnxImportResult, feeds: Record<string, number[]>, shapes: Record<string, number[]>): number[][] {
  const exe = m.symbol.simpleBind({ ctx: reference(), shapes, gradReq: "null" });
  for (const [k, t] of Object.entries(m.argParams)) exe.argDict[k].set(t.values);
  return exe.forward(false, feeds).map((o) => o.toArray());
}

function rnnModel(op: string, W: TensorSpec, R: TensorSpec, extra: TensorSpec[], attrs: Record<string, AttrSpec>, outputs: string[]): Uint8Array {
  const inits = [W, R, ...extra];
  return buildModel({
    nodes: [{ op, inputs: ["x", "W", "R", "", "", "h0", "c0"], outputs, attrs: { hidden_size: { i: 1 }, ...attrs } }],
    inputs: [{ name: "x", dims: [2, 1, 1] }],
    outputs: outputs.map((name) => ({ name })),
    initializers: inits,
    opset: 14,
  });
}

describe("onnx/rnn: LSTM and GRU gate orders", () => {
  it("LSTM: W, R and B hold the gates as input, output, forget, cell", () => {
    const [wi, wo, wf, wc] = [0.5, -0.3, 0.8, 1.2];
    const [ri, ro, rf, rc] = [0.1, 0.2, -0.4, 0.3];
    const bytes = rnnModel(
      "LSTM",
      { name: "W", dims: [1, 4, 1], values: [wi, wo, wf, wc] },
      { name: "R", dims: [1, 4, 1], values: [ri, ro, rf, rc] },
      [
        { name: "h0", dims: [1, 1, 1], values: [0.25] },
        { name: "c0", dims: [1, 1, 1], values: [-0.6] },
      ],
      {},
      ["y", "yh", "yc"],
    );
    const xs = [0.7, -1.1];
    let h = 0.25;
    let c = -0.6;
    const ys: number[] = [];
    for (const x of xs) {
      const i = sig(wi * x + ri * h);
      const o = sig(wo * x + ro * h);
      const f = sig(wf * x + rf * h);
      const g = Math.tanh(wc * x + rc * h);
      c = f * c + i * g;
      h = o * Math.tanh(c);
      ys.push(h);
    }
    const [y, yh, yc] = run(importOnnx(bytes), { x: xs }, { x: [2, 1, 1] });
    y.forEach((v, k) => expect(v).to.be.closeTo(ys[k], 1e-6));
    expect(yh[0]).to.be.closeTo(h, 1e-6);
    expect(yc[0]).to.be.closeTo(c, 1e-6);
  });

  it("GRU: W and R hold the gates as update, reset, hidden (linear_before_reset 0 and 1)", () => {
    const [wz, wr, wh] = [0.4, -0.7, 0.9];
    const [rz, rr, rh] = [0.3, 0.5, -0.8];
    const bias = [0.1, -0.2, 0.05, 0.3, 0.15, -0.25]; // Wbz Wbr Wbh Rbz Rbr Rbh
    for (const lbr of [0, 1]) {
      const bytes = buildModel({
        nodes: [{ op: "GRU", inputs: ["x", "W", "R", "B", "", "h0"], outputs: ["y", "yh"], attrs: { hidden_size: { i: 1 }, linear_before_reset: { i: lbr } } }],
        inputs: [{ name: "x", dims: [2, 1, 1] }],
        outputs: [{ name: "y" }, { name: "yh" }],
        initializers: [
          { name: "W", dims: [1, 3, 1], values: [wz, wr, wh] },
          { name: "R", dims: [1, 3, 1], values: [rz, rr, rh] },
          { name: "B", dims: [1, 6], values: bias },
          { name: "h0", dims: [1, 1, 1], values: [-0.4] },
        ],
        opset: 14,
      });
      const xs = [1.3, -0.2];
      let h = -0.4;
      const ys: number[] = [];
      for (const x of xs) {
        const z = sig(wz * x + rz * h + bias[0] + bias[3]);
        const r = sig(wr * x + rr * h + bias[1] + bias[4]);
        const hh = lbr ? Math.tanh(wh * x + bias[2] + r * (rh * h + bias[5])) : Math.tanh(wh * x + bias[2] + rh * (r * h) + bias[5]);
        h = (1 - z) * hh + z * h;
        ys.push(h);
      }
      const [y, yh] = run(importOnnx(bytes), { x: xs }, { x: [2, 1, 1] });
      y.forEach((v, k) => expect(v, `linear_before_reset=${lbr}`).to.be.closeTo(ys[k], 1e-6));
      expect(yh[0]).to.be.closeTo(h, 1e-6);
    }
  });

  it("a bidirectional LSTM's second direction is the reverse LSTM", () => {
    const w = [0.5, -0.3, 0.8, 1.2];
    const r = [0.1, 0.2, -0.4, 0.3];
    const w2 = [-0.2, 0.6, 0.1, -0.9];
    const r2 = [0.3, -0.1, 0.2, 0.4];
    const model = (direction: string, W: number[], R: number[], dirs: number): Uint8Array =>
      buildModel({
        nodes: [{ op: "LSTM", inputs: ["x", "W", "R"], outputs: ["y", "yh"], attrs: { hidden_size: { i: 1 }, direction: { s: direction } } }],
        inputs: [{ name: "x", dims: [3, 1, 1] }],
        outputs: [{ name: "y" }, { name: "yh" }],
        initializers: [
          { name: "W", dims: [dirs, 4, 1], values: W },
          { name: "R", dims: [dirs, 4, 1], values: R },
        ],
        opset: 14,
      });
    const xs = [0.3, -0.8, 1.5];
    const [yb, yhb] = run(importOnnx(model("bidirectional", [...w, ...w2], [...r, ...r2], 2)), { x: xs }, { x: [3, 1, 1] });
    const [yf, yhf] = run(importOnnx(model("forward", w, r, 1)), { x: xs }, { x: [3, 1, 1] });
    const [yr, yhr] = run(importOnnx(model("reverse", w2, r2, 1)), { x: xs }, { x: [3, 1, 1] });
    // Y is (seq, dirs, batch, hidden): step t holds [forward_t, reverse_t].
    expect(yb).to.deep.equal(xs.flatMap((_, t) => [yf[t], yr[t]]));
    expect(yhb).to.deep.equal([yhf[0], yhr[0]]);
  });
});
