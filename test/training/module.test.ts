/**
 * Module: fit converges on a tiny synthetic problem, a run resumed from a checkpoint (with
 * optimizer states) continues the uninterrupted run's loss curve, predict/score agree with
 * the outputs, and losses are reported for SoftmaxOutput and MakeLoss heads.
 */
import { expect } from "chai";
import { mkdtempSync, existsSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { sym, Symbol, cpu, reference, NDArray, KilnError } from "../../index.js";
import type { Context } from "../../index.js";
import { Module } from "../../runtime/training/module.js";
import { NDArrayIter } from "../../runtime/training/io.js";
import { Xavier, seed } from "../../runtime/training/initializer.js";
import { FactorScheduler } from "../../runtime/training/lr_scheduler.js";

const N = 200;
const D = 4;

/** Two classes split by a hyperplane, from a fixed generator. */
function dataset(n = N): { x: NDArray; y: NDArray; labels: number[] } {
  let s = 12345;
  const r = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
  const x = new Float32Array(n * D);
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    let t = 0.2;
    for (let d = 0; d < D; d++) {
      x[i * D + d] = 2 * r() - 1;
      t += x[i * D + d] * (d % 2 ? 1 : -0.7);
    }
    labels.push(t > 0 ? 1 : 0);
  }
  return { x: new NDArray([n, D]).set(x), y: new NDArray([n]).set(labels), labels };
}

/** FC 8 → BatchNorm → relu → FC 2 → softmax: parameters and aux states. */
function net(): Symbol {
  let h = sym.FullyConnected({ data: sym.Variable("data"), num_hidden: 8, name: "fc1" });
  h = sym.BatchNorm({ data: h, fix_gamma: false, name: "bn1" });
  h = sym.Activation({ data: h, act_type: "relu", name: "relu1" });
  h = sym.FullyConnected({ data: h, num_hidden: 2, name: "fc2" });
  return sym.SoftmaxOutput({ data: h, name: "softmax" });
}

const quiet = (): void => {};
const iter = (batchSize = 32, n = N): NDArrayIter => {
  const { x, y } = dataset(n);
  return new NDArrayIter({ data: x, label: y, batchSize });
};
const sgd = () => ({ learning_rate: 0.2, momentum: 0.9, wd: 1e-3, lr_scheduler: new FactorScheduler({ step: 7, factor: 0.8 }) });

describe("training: Module", () => {
  it("fit converges on a tiny synthetic problem and logs loss and accuracy", async () => {
    seed(3);
    const lines: string[] = [];
    const mod = new Module({ symbol: net(), context: cpu(), logger: (l) => lines.push(l) });
    const losses: number[] = [];
    const hist = await mod.fit(iter(), {
      numEpoch: 6,
      evalData: iter(),
      optimizer: "sgd",
      optimizerParams: sgd(),
      initializer: new Xavier(),
      batchEndCallback: (p) => {
        if (p.loss !== undefined) losses.push(p.loss);
      },
    });
    expect(hist).to.have.length(6);
    expect(hist[5].train.accuracy).to.be.above(0.9);
    expect(hist[5].validation!.accuracy).to.be.above(0.9);
    expect(hist[5].trainLoss!).to.be.below(hist[0].trainLoss! * 0.6);
    expect(losses).to.have.length(6 * 7);
    expect(lines).to.include.members([`Epoch[5] Train-accuracy=${hist[5].train.accuracy.toFixed(6)}`, `Epoch[5] Train-loss=${hist[5].trainLoss!.toFixed(6)}`]);
    expect(lines.some((l) => l.startsWith("Epoch[5] Validation-loss="))).to.equal(true);
    // The epoch's loss is the cross-entropy of the probabilities the network outputs.
    const probs = mod.predict(iter())[0].toArray();
    const { labels } = dataset();
    let ce = 0;
    labels.forEach((y, i) => (ce -= Math.log(probs[i * 2 + y] + 1e-12)));
    expect(hist[5].validationLoss!).to.be.closeTo(ce / N, 1e-6);
  });

  it("resumes from a checkpoint with optimizer states on the uninterrupted run's loss curve", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kiln-module-"));
    const prefix = join(dir, "net");
    seed(7);
    const full = new Module({ symbol: net(), context: cpu(), logger: quiet });
    const a = await full.fit(iter(), {
      numEpoch: 4,
      optimizer: "sgd",
      optimizerParams: sgd(),
      initializer: new Xavier(),
      epochEndCallback: (epoch) => full.saveCheckpoint(prefix, epoch + 1, true),
    });
    expect(existsSync(`${prefix}-0002.params`) && existsSync(`${prefix}-0002.states`) && existsSync(`${prefix}-symbol.json`)).to.equal(true);
    const resumed = Module.load(prefix, 2, { context: cpu(), loadOptimizerStates: true, logger: quiet });
    const b = await resumed.fit(iter(), { numEpoch: 4, beginEpoch: 2, optimizer: "sgd", optimizerParams: sgd() });
    expect(b.map((h) => h.epoch)).to.deep.equal([2, 3]);
    for (const k of [0, 1]) {
      expect(b[k].trainLoss!).to.be.closeTo(a[k + 2].trainLoss!, 1e-7);
      expect(b[k].train.accuracy).to.equal(a[k + 2].train.accuracy);
    }
    const pa = full.getParams();
    const pb = resumed.getParams();
    for (const k of Object.keys(pa.argParams)) expect(pb.argParams[k].toArray()).to.deep.equal(pa.argParams[k].toArray());
    for (const k of Object.keys(pa.auxParams)) expect(pb.auxParams[k].toArray()).to.deep.equal(pa.auxParams[k].toArray());
  });

  it("predict drops the padding of the last batch; score agrees with the predictions", () => {
    seed(1);
    const mod = new Module({ symbol: net(), context: cpu(), logger: quiet });
    const it = iter(32, 70); // 3 batches, the last one padded with 26 samples
    mod.bind(it.provideData, it.provideLabel, { forTraining: false });
    mod.initParams({ initializer: new Xavier() });
    const [out] = mod.predict(it);
    expect(out.shape).to.deep.equal([70, 2]);
    const p = out.toArray();
    const { labels } = dataset(70);
    const correct = labels.filter((y, i) => (p[i * 2 + 1] > p[i * 2] ? 1 : 0) === y).length;
    expect(mod.score(it, "acc")).to.deep.equal([["accuracy", correct / 70]]);
    // Rows are the network's outputs of each sample.
    it.reset();
    const first = it.next()!;
    mod.forward(first, false);
    expect(mod.getOutputs()[0].toArray()).to.deep.equal(p.slice(0, 64));
  });

  it("reports the mean output as the loss of a MakeLoss head", () => {
    const diff = sym.FullyConnected({ data: sym.Variable("data"), num_hidden: 1, name: "fc" }).minus(sym.Variable("label"));
    const loss = sym.MakeLoss({ data: sym.square({ data: diff }), name: "mse" });
    const mod = new Module({ symbol: loss, labelNames: ["label"], context: cpu(), logger: quiet });
    const { x } = dataset(8);
    const it = new NDArrayIter({ data: x, label: new NDArray([8, 1]).set([1, 2, 3, 4, 5, 6, 7, 8]), labelName: "label", batchSize: 8 });
    mod.bind(it.provideData, it.provideLabel);
    mod.initParams({ initializer: new Xavier() });
    const batch = it.next()!;
    mod.forward(batch, false);
    const out = mod.getOutputs()[0].toArray();
    expect(mod.batchLoss(batch.label)).to.be.closeTo(out.reduce((s, v) => s + v, 0) / out.length, 1e-9);
  });

  it("keeps fixed parameters and names missing ones", () => {
    seed(2);
    const mod = new Module({ symbol: net(), context: cpu(), fixedParamNames: ["fc1_weight"], logger: quiet });
    const it = iter();
    mod.bind(it.provideData, it.provideLabel);
    mod.initParams({ initializer: new Xavier() });
    const before = mod.getParams().argParams;
    const w1 = before.fc1_weight.toArray();
    const w2 = before.fc2_weight.toArray();
    mod.initOptimizer({ optimizerParams: { learning_rate: 0.5 } });
    mod.forwardBackward(it.next()!);
    mod.update();
    const after = mod.getParams().argParams;
    expect(after.fc1_weight.toArray()).to.deep.equal(w1);
    expect(after.fc2_weight.toArray()).to.not.deep.equal(w2);
    const partial = { ...after };
    delete (partial as Record<string, NDArray>).fc2_bias;
    expect(() => mod.setParams(partial, mod.getParams().auxParams)).to.throw(KilnError, /fc2_bias is not presented/);
  });

  it("trains the same on reference() (float64) and cpu() (float32) for a few steps", async () => {
    const run = async (ctx: Context): Promise<number[]> => {
      seed(5);
      const mod = new Module({ symbol: net(), context: ctx, logger: quiet });
      await mod.fit(iter(), { numEpoch: 1, optimizer: "adam", optimizerParams: { learning_rate: 0.01 }, initializer: new Xavier() });
      return mod.getParams().argParams.fc2_weight.toArray();
    };
    const [r, c] = [await run(reference()), await run(cpu())];
    r.forEach((v, i) => expect(Math.abs(v - c[i]), `fc2_weight[${i}]`).to.be.below(1e-4));
  });
});

describe("examples/train_fashion_mnist", () => {
  it("trains the MLP on the shipped subset and checkpoints every epoch", async () => {
    const { main } = await import("../../examples/train_fashion_mnist.js");
    const dir = mkdtempSync(join(tmpdir(), "kiln-fashion-"));
    const lines: string[] = [];
    const r = await main(["--network", "mlp", "--subset", "--epochs", "2", "--device", "cpu", "--no-progress", "--checkpoint-dir", dir], (l) => lines.push(l));
    expect(r.dataset).to.equal("subset");
    expect(r.trainImages).to.equal(1000);
    expect(r.history).to.have.length(2);
    expect(r.testAccuracy).to.be.above(0.5);
    expect(existsSync(`${r.checkpointPrefix}-0002.params`)).to.equal(true);
    expect(lines.some((l) => l.startsWith("Epoch[1] Validation-loss="))).to.equal(true);
    expect(lines[lines.length - 1]).to.match(/^Final test accuracy \(500 images\): 0\.\d{4}$/);
  });
});
