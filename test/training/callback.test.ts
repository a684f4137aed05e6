import { expect } from "chai";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nd, sym } from "../../index.js";
import { Speedometer, doCheckpoint, logTrainMetric, ProgressBar, formatFloat } from "../../runtime/training/callback.js";
import { Accuracy, CompositeEvalMetric, Loss } from "../../runtime/training/metric.js";

/** A clock that advances 0.5 s per reading. */
function clock(step = 500): () => number {
  let t = 0;
  return () => (t += step) - step;
}

describe("training/callback", () => {
  it("Speedometer logs speed and metric every `frequent` batches, as MXNet", () => {
    const lines: string[] = [];
    const metric = new Accuracy();
    // Readings: init at t=0; the line at batch 2 reads t=0.5 s, then tic t=1.0 s; batch 4 reads 1.5 s.
    const cb = Speedometer(10, 2, true, { log: (s) => lines.push(s), now: clock() });
    for (let nbatch = 0; nbatch <= 4; nbatch++) {
      metric.update([nd.array([1, 0])], [nd.array([[0, 1], [0, 1]])]);
      cb({ epoch: 0, nbatch, evalMetric: metric });
    }
    expect(lines).to.deep.equal(["Epoch[0] Batch [0-2]\tSpeed: 40.00 samples/sec\taccuracy=0.500000", "Epoch[0] Batch [2-4]\tSpeed: 40.00 samples/sec\taccuracy=0.500000"]);
    // autoReset cleared the local figures after each line; the epoch's global ones remain.
    expect(Number.isNaN(metric.get()[1][0])).to.equal(true);
    expect(metric.getGlobal()[1][0]).to.equal(0.5);
  });

  it("Speedometer without autoReset covers the epoch so far, restarts on a new epoch, and adds the loss", () => {
    const lines: string[] = [];
    const metric = new CompositeEvalMetric(["acc", "ce"]);
    const cb = Speedometer(4, 1, false, { log: (s) => lines.push(s), now: clock(1000) });
    metric.update([nd.array([0])], [nd.array([[0.5, 0.5]])]);
    cb({ epoch: 1, nbatch: 0, evalMetric: metric });
    cb({ epoch: 1, nbatch: 1, evalMetric: metric, loss: 0.25 });
    cb({ epoch: 2, nbatch: 0, evalMetric: metric });
    cb({ epoch: 2, nbatch: 1, evalMetric: metric });
    expect(lines).to.deep.equal([
      "Epoch[1] Batch [0-1]\tSpeed: 4.00 samples/sec\taccuracy=1.000000\tcross-entropy=0.693147\tloss=0.250000",
      "Epoch[2] Batch [0-1]\tSpeed: 4.00 samples/sec\taccuracy=1.000000\tcross-entropy=0.693147",
    ]);
    expect(metric.get()[1][0]).to.equal(1); // not reset
  });

  it("Speedometer does not repeat a loss metric, and logs speed alone without a metric", () => {
    const lines: string[] = [];
    const loss = new Loss();
    loss.update([], [nd.array([0.5])]);
    const cb = Speedometer(1, 1, true, { log: (s) => lines.push(s), now: clock(250) });
    cb({ epoch: 0, nbatch: 0, evalMetric: loss, loss: 0.5 });
    cb({ epoch: 0, nbatch: 1, evalMetric: loss, loss: 0.5 });
    expect(lines).to.deep.equal(["Epoch[0] Batch [0-1]\tSpeed: 4.00 samples/sec\tloss=0.500000"]);
    const bare: string[] = [];
    const cb2 = Speedometer(2, 1, true, { log: (s) => bare.push(s), now: clock(1000) });
    cb2({ epoch: 3, nbatch: 0, evalMetric: undefined as unknown as Accuracy });
    cb2({ epoch: 3, nbatch: 1, evalMetric: undefined as unknown as Accuracy });
    expect(bare).to.deep.equal(["Iter[3] Batch [1]\tSpeed: 2.00 samples/sec"]);
  });

  it("logTrainMetric logs every `period` batches", () => {
    const lines: string[] = [];
    const m = new Accuracy();
    m.update([nd.array([0])], [nd.array([[1, 0]])]);
    const cb = logTrainMetric(2, false, { log: (s) => lines.push(s) });
    for (let nbatch = 0; nbatch < 4; nbatch++) cb({ epoch: 0, nbatch, evalMetric: m });
    expect(lines).to.deep.equal(["Iter[0] Batch[0] Train-accuracy=1.000000", "Iter[0] Batch[2] Train-accuracy=1.000000"]);
  });

  it("doCheckpoint saves every `period` epochs, numbered from 1", () => {
    const dir = mkdtempSync(join(tmpdir(), "kiln-cb-"));
    try {
      const prefix = join(dir, "net");
      const logs: string[] = [];
      const cb = doCheckpoint(prefix, 2, { log: (s) => logs.push(s) });
      const s = sym.FullyConnected({ data: sym.Variable("data"), num_hidden: 2, name: "fc" });
      for (let epoch = 0; epoch < 4; epoch++) cb(epoch, s, { fc_weight: nd.zeros([2, 3]), fc_bias: nd.zeros([2]) }, {});
      expect(["0001", "0002", "0003", "0004"].map((e) => existsSync(`${prefix}-${e}.params`))).to.deep.equal([false, true, false, true]);
      expect(existsSync(`${prefix}-symbol.json`)).to.equal(true);
      expect(logs).to.deep.equal([`Saved checkpoint to "${prefix}-0002.params"`, `Saved checkpoint to "${prefix}-0004.params"`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("ProgressBar prints a line per tenth when not on a terminal", () => {
    const out: string[] = [];
    const bar = new ProgressBar({ total: 100, label: "epoch 1", unit: "batches", width: 10, stream: { write: (s: string) => out.push(s) }, now: clock(100) });
    for (let i = 0; i < 100; i++) bar.tick();
    expect(out).to.have.length(10);
    expect(out.every((s) => s.endsWith("\n") && !s.includes("\r"))).to.equal(true);
    expect(out[0]).to.match(/^epoch 1 \[#·········\] 10\/100   10%  /);
    expect(out[9]).to.match(/^epoch 1 \[##########\] 100\/100  100%  /);
    // 50 ticks of 0.1 s each: 10 batches/s, 50 left -> ETA 0:05.
    expect(out[4]).to.include("50/100").and.include("10.0 batches/s").and.include("ETA 0:05");
    bar.tick();
    expect(out).to.have.length(10); // finished
  });

  it("ProgressBar redraws in place on a terminal and ends with a newline", () => {
    const out: string[] = [];
    const bar = new ProgressBar({ total: 3, label: "compiling", unit: "kernels", stream: { write: (s: string) => out.push(s), isTTY: true }, now: clock(200) });
    bar.tick();
    bar.tick();
    bar.tick();
    expect(out.length).to.be.at.least(3);
    expect(out.every((s) => s.startsWith("\r"))).to.equal(true);
    expect(out[out.length - 1].endsWith("\n")).to.equal(true);
    expect(out[out.length - 1]).to.include("compiling [").and.include("3/3").and.include("kernels/s");
    const early: string[] = [];
    const stopped = new ProgressBar({ total: 10, stream: { write: (s: string) => early.push(s) }, now: clock(1) });
    stopped.update(3);
    stopped.finish("done");
    expect(early[early.length - 1]).to.match(/^done \[.*\] 3\/10/);
  });

  it("formats numbers as Python's %f", () => {
    expect(formatFloat(0.5)).to.equal("0.500000");
    expect(formatFloat(NaN)).to.equal("nan");
    expect(formatFloat(Infinity, 2)).to.equal("inf");
  });
});
