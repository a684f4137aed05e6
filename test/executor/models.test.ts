/**
 * End to end on cpu() with generated C++: the seed networks (small configurations) and the
 * shared MXNet models with their weights give the reference executor's results (float32
 * against float64: relative 1e-4 of each array's largest value), forward and backward, fused
 * and unfused; the MNIST models classify the MNIST test set.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sym, Symbol, cpu, reference, nd, NDArray, withNameManager } from "../../index.js";
import type { Executor } from "../../index.js";
import "../../runtime/executor/compiled_binder.js";
import { idxAccuracy, readIdxTestSet } from "./idx_data.js";
import { smallClassifier, stackedLSTM, regressionLoss, fillRandom } from "../../examples/seed_networks.js";
import { MODELS_DIR, SHARED_DATA } from "../helpers/paths.js";

const REL = 1e-4;

/** max |got − want| ≤ rel · max |want| (+ a floor for arrays of zeros). */
function closeArrays(got: number[], want: number[], what: string, rel = REL): void {
  expect(got.length, `${what} length`).to.equal(want.length);
  const scale = want.reduce((m, w) => Math.max(m, Math.abs(w)), 0);
  let worst = 0;
  let at = -1;
  got.forEach((g, i) => {
    const d = Math.abs(g - want[i]);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  });
  expect(worst <= rel * scale + 1e-6, `${what}: [${at}] cpu ${got[at]}, reference ${want[at]} (scale ${scale})`).to.equal(true);
}

/** Binds `net` on reference() and on cpu() (fused or not) with the same values, runs, compares. */
function compareWithReference(net: Symbol, shapes: Record<string, number[]>, opts: { train: boolean; numClasses?: number; fuse?: boolean }): Executor {
  const gradReq = opts.train ? "write" : "null";
  const ref = net.simpleBind({ ctx: reference(), shapes, gradReq });
  fillRandom(ref, 3, opts.numClasses ?? 0);
  const exe = net.simpleBind({ ctx: cpu(), shapes, gradReq, compile: { fuse: opts.fuse ?? true } });
  for (const [k, v] of Object.entries(ref.argDict)) v.copyTo(exe.argDict[k]);
  for (const [k, v] of Object.entries(ref.auxDict)) v.copyTo(exe.auxDict[k]);
  const want = ref.forward(opts.train).map((o) => o.toArray());
  const got = exe.forward(opts.train).map((o) => o.toArray());
  got.forEach((g, i) => closeArrays(g, want[i], `output ${i}`));
  for (const [k, v] of Object.entries(ref.auxDict)) closeArrays(exe.auxDict[k].toArray(), v.toArray(), `aux ${k}`);
  if (opts.train) {
    const heads = ref.outputs.map((o, i) => nd.array(Array.from({ length: o.size }, (_, k) => Math.sin(k + i)), { shape: o.shape, ctx: reference() }));
    ref.backward(heads);
    exe.backward(heads);
    for (const [k, v] of Object.entries(ref.gradDict)) closeArrays(exe.gradDict[k].toArray(), v.toArray(), `gradient of ${k}`);
  }
  return exe;
}

/** The symbol with every Dropout's p set to 0: its masks are random, checked in random.test. */
function withoutDropout(net: Symbol): Symbol {
  return sym.fromJSON(net.toJSON().replace(/"p": "0\.5"/g, '"p": "0"'));
}

describe("compiled executor (cpu, C++): seed networks", () => {
  for (const fuse of [true, false]) {
    it(`small classifier at 2×3×80×80, forward and backward (${fuse ? "fused" : "unfused"})`, function () {
      this.timeout(120000);
      const net = withoutDropout(withNameManager(() => smallClassifier()));
      compareWithReference(net, { data: [2, 3, 80, 80] }, { train: true, numClasses: 12, fuse });
    });
  }

  it("small classifier trains with dropout: loss gradient sums to zero per sample", function () {
    this.timeout(60000);
    const net = withNameManager(() => smallClassifier());
    const exe = net.simpleBind({ ctx: cpu(), shapes: { data: [2, 3, 80, 80] }, gradReq: "write" });
    fillRandom(exe, 3, 12);
    exe.forward(true);
    exe.backward();
    const gb = exe.gradDict.fc3_bias.toArray();
    expect(Math.abs(gb.reduce((a, b) => a + b, 0))).to.be.below(1e-5);
    expect(exe.gradDict.conv1_weight.toArray().some((v) => v !== 0)).to.equal(true);
  });

  for (const fuse of [true, false]) {
    it(`stacked LSTM (4 steps, 16 hidden), forward and backward (${fuse ? "fused" : "unfused"})`, function () {
      this.timeout(60000);
      const net = withNameManager(() => stackedLSTM({ seqLen: 4, numHidden: 16 }));
      compareWithReference(net, { audio_data: [3, 4, 10] }, { train: true, fuse });
    });
  }

  it("regression loss with a BlockGrad output, forward and backward", () => {
    const net = withNameManager(() => regressionLoss());
    compareWithReference(net, { data: [5, 7], label: [5, 1] }, { train: true });
  });

  it("gradReq add accumulates, null leaves the array alone", () => {
    const net = withNameManager(() => regressionLoss());
    const exe = net.simpleBind({ ctx: cpu(), shapes: { data: [5, 7], label: [5, 1] }, gradReq: { fc_weight: "add", fc_bias: "write", data: "null", label: "null" } });
    fillRandom(exe, 5);
    exe.forward(true);
    exe.backward();
    const once = exe.gradDict.fc_weight.toArray();
    const bias = exe.gradDict.fc_bias.toArray();
    exe.forward(true);
    exe.backward();
    closeArrays(exe.gradDict.fc_weight.toArray(), once.map((g) => 2 * g), "accumulated gradient", 1e-6);
    closeArrays(exe.gradDict.fc_bias.toArray(), bias, "written gradient", 1e-6);
    expect(exe.gradDict.data).to.equal(undefined);
  });
});

function loadModel(name: string, epoch: string): { net: Symbol; args: Record<string, NDArray>; aux: Record<string, NDArray> } {
  const net = sym.fromJSON(readFileSync(join(MODELS_DIR, `${name}-symbol.json`), "utf8"));
  const params = nd.load(join(MODELS_DIR, `${name}-${epoch}.params`)) as Record<string, NDArray>;
  const args: Record<string, NDArray> = {};
  const aux: Record<string, NDArray> = {};
  for (const [k, v] of Object.entries(params)) (k.startsWith("aux:") ? aux : args)[k.replace(/^(arg|aux):/, "")] = v;
  return { net, args, aux };
}

/** Test-set accuracy on cpu(), pixels scaled to [0, 1]. */
export function mnistAccuracy(name: string, epoch: string, batch = 500): number {
  const { net, args, aux } = loadModel(name, epoch);
  return idxAccuracy(net, { args, aux }, readIdxTestSet(join(SHARED_DATA, "mnist")), (p) => p / 255, batch);
}

describe("compiled executor (cpu, C++): shared MXNet models with weights", () => {
  const models: [string, string, number[]][] = [
    ["mnist", "0035", [4, 1, 28, 28]],
    ["lenet", "0001", [4, 1, 28, 28]],
    ["fashion-mnist", "0039", [4, 1, 28, 28]],
    ["2-layer-mlp", "0000", [2, 3, 224, 224]],
  ];
  for (const [name, epoch, shape] of models) {
    it(`${name}: the trained weights give the reference's outputs`, function () {
      this.timeout(60000);
      const { net, args, aux } = loadModel(name, epoch);
      const ref = net.simpleBind({ ctx: reference(), shapes: { data: shape }, gradReq: "null" });
      const exe = net.simpleBind({ ctx: cpu(), shapes: { data: shape }, gradReq: "null" });
      ref.copyParamsFrom(args, aux);
      exe.copyParamsFrom(args, aux);
      const x = Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => (Math.sin(i * 0.37) + 1) / 2);
      ref.argDict.data.set(x);
      exe.argDict.data.set(x);
      closeArrays(exe.forward(false)[0].toArray(), ref.forward(false)[0].toArray(), `${name} output`);
    });
  }

  it("mnist classifies the MNIST test set (≥ 98.5%)", function () {
    this.timeout(120000);
    expect(mnistAccuracy("mnist", "0035")).to.be.at.least(0.985);
  });

  it("lenet classifies the MNIST test set (≥ 94%)", function () {
    this.timeout(120000);
    expect(mnistAccuracy("lenet", "0001")).to.be.at.least(0.94);
  });
});
