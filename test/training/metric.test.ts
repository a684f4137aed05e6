import { expect } from "chai";
import { nd, reference } from "../../index.js";
import { Accuracy, TopKAccuracy, CrossEntropy, MSE, MAE, RMSE, F1, Loss, CompositeEvalMetric, CustomMetric, EvalMetric, create } from "../../runtime/training/metric.js";
import { expectError } from "../helpers/expect_error.js";

// The hand examples of MXNet's metric docstrings.
const probs = () => nd.array([[0.3, 0.7], [0, 1], [0.4, 0.6]]);
const classes = () => nd.array([0, 1, 1]);
const regPred = () => nd.array([3, -0.5, 2, 7], { shape: [4, 1] });
const regLabel = () => nd.array([2.5, 0, 2, 8], { shape: [4, 1] });

function value(m: EvalMetric): number {
  const [, values] = m.get();
  expect(values).to.have.length(1);
  return values[0];
}

describe("training/metric", () => {
  it("Accuracy: argmax over axis 1 against the labels", () => {
    const m = new Accuracy();
    expect(Number.isNaN(value(m))).to.equal(true);
    m.update([classes()], [probs()]);
    expect(m.get()).to.deep.equal([["accuracy"], [2 / 3]]);
    m.update([nd.array([1])], [nd.array([[0.9, 0.1]])]);
    expect(value(m)).to.equal(2 / 4);
    // Predictions shaped like the labels are class indices already.
    const direct = new Accuracy();
    direct.update([nd.array([1, 2, 3])], [nd.array([1, 2, 0])]);
    expect(value(direct)).to.equal(2 / 3);
    // Classes on another axis: (N=2, C=3, T=2) with axis 1 against labels (2, 2).
    const seq = new Accuracy(1);
    const p = nd.array([[[0, 1], [5, 0], [1, 2]], [[3, 3], [0, 9], [1, 1]]]);
    // argmax over C: sample 0 -> [1, 2], sample 1 -> [0, 1]
    seq.update([nd.array([[1, 2], [0, 0]])], [p]);
    expect(value(seq)).to.equal(3 / 4);
    const last = new Accuracy(-1);
    last.update([nd.array([1, 0])], [nd.array([[0, 2], [1, 0]])]);
    expect(value(last)).to.equal(1);
  });

  it("reads predictions from any context and dtype", () => {
    const m = new Accuracy();
    m.update([nd.array([0, 1, 1], { dtype: "int32" })], [nd.array([[0.3, 0.7], [0, 1], [0.4, 0.6]], { ctx: reference() })]);
    m.update([classes()], [nd.array([[0.3, 0.7], [0, 1], [0.4, 0.6]], { dtype: "float16" })]);
    expect(value(m)).to.equal(4 / 6);
  });

  it("TopKAccuracy counts labels among the k best classes", () => {
    const m = new TopKAccuracy(2);
    expect(m.name).to.equal("top_k_accuracy_2");
    const p = nd.array([
      [0.1, 0.5, 0.3, 0.1], // top2 {1,2}
      [0.4, 0.1, 0.2, 0.3], // top2 {0,3}
      [0.25, 0.25, 0.25, 0.25], // ties: the lower indices {0,1}
    ]);
    m.update([nd.array([2, 2, 1])], [p]);
    expect(value(m)).to.equal(2 / 3);
    const t3 = new TopKAccuracy(3);
    t3.update([nd.array([2, 2, 1])], [p]);
    expect(value(t3)).to.equal(3 / 3);
    const big = new TopKAccuracy(10);
    big.update([nd.array([3])], [nd.array([[1, 2, 3, 0]])]);
    expect(value(big)).to.equal(1);
  });

  it("CrossEntropy: mean of -log(p[label] + eps)", () => {
    const m = new CrossEntropy();
    m.update([classes()], [probs()]);
    expect(m.name).to.equal("cross-entropy");
    // MXNet's docstring value 0.57159948348999023 (= -(ln 0.3 + ln 1 + ln 0.6)/3 with float32 inputs).
    expect(value(m)).to.be.closeTo(0.57159948348999023, 1e-7);
    expect(value(m)).to.be.closeTo(-(Math.log(Math.fround(0.3) + 1e-12) + Math.log(1 + 1e-12) + Math.log(Math.fround(0.6) + 1e-12)) / 3, 1e-15);
  });

  it("MSE, MAE, RMSE: each batch's mean, averaged over batches (MXNet 1.x)", () => {
    const mse = new MSE();
    const mae = new MAE();
    const rmse = new RMSE();
    for (const m of [mse, mae, rmse]) m.update([regLabel()], [regPred()]);
    expect(value(mse)).to.equal(0.375);
    expect(value(mae)).to.equal(0.5);
    expect(value(rmse)).to.equal(Math.sqrt(0.375));
    expect(value(rmse)).to.be.closeTo(0.612372457981, 1e-7); // MXNet's docstring (computed in float32)
    // One-dimensional arrays work too; a second batch of errors [1, 1] (mse 1) averages per batch.
    mse.update([nd.array([1, 2])], [nd.array([2, 3])]);
    expect(value(mse)).to.equal((0.375 + 1) / 2);
    expectError(() => mse.update([nd.array([1, 2, 3])], [nd.array([1, 2])]), "mse", "(3,)", "(2,)");
  });

  it("F1 of a binary classifier, macro- or micro-averaged", () => {
    const m = new F1();
    m.update([classes()], [probs()]);
    expect(value(m)).to.be.closeTo(0.8, 1e-15);
    // Second batch: predictions [1, 0], labels [0, 0]: tp 0, fp 1 -> F1 0.
    const p2 = nd.array([[0.2, 0.8], [0.9, 0.1]]);
    const l2 = nd.array([0, 0]);
    m.update([l2], [p2]);
    expect(value(m)).to.be.closeTo(0.4, 1e-15);
    const micro = new F1("micro");
    micro.update([classes()], [probs()]);
    micro.update([l2], [p2]);
    // Over both batches: tp 2, fp 2, fn 0 -> precision 1/2, recall 1, F1 2/3.
    expect(value(micro)).to.be.closeTo(2 / 3, 1e-15);
    expectError(() => m.update([nd.array([0, 1, 2])], [nd.array([[1, 0], [0, 1], [1, 0]])]), "binary");
  });

  it("Loss is the mean of the outputs", () => {
    const m = new Loss();
    m.update([], [nd.array([1, 5]), nd.array([[3]])]);
    expect(value(m)).to.equal(3);
    m.update([nd.array([7])], [nd.array([0, 0, 0])]);
    expect(value(m)).to.equal(9 / 6);
  });

  it("keeps local and global figures apart", () => {
    const m = new Accuracy();
    m.update([classes()], [probs()]);
    m.resetLocal();
    expect(Number.isNaN(value(m))).to.equal(true);
    m.update([nd.array([0])], [nd.array([[1, 0]])]);
    expect(value(m)).to.equal(1);
    expect(m.getGlobal()).to.deep.equal([["accuracy"], [3 / 4]]);
    expect(m.getGlobalNameValue()).to.deep.equal([["accuracy", 3 / 4]]);
    m.reset();
    expect(Number.isNaN(m.getGlobal()[1][0])).to.equal(true);
  });

  it("CompositeEvalMetric lists all its metrics", () => {
    const c = new CompositeEvalMetric([new Accuracy(), "f1"]);
    c.update([classes()], [probs()]);
    const [names, values] = c.get();
    expect(names).to.deep.equal(["accuracy", "f1"]);
    expect(values[0]).to.equal(2 / 3);
    expect(values[1]).to.be.closeTo(0.8, 1e-15);
    c.add("ce");
    expect(c.getMetric(2)).to.be.instanceOf(CrossEntropy);
    c.reset();
    expect(c.get()[1].every(Number.isNaN)).to.equal(true);
    expectError(() => c.getMetric(5), "5");
  });

  it("updateDict picks labels and outputs by name", () => {
    const m = new Accuracy(1, "accuracy", { outputNames: ["softmax_output"], labelNames: ["softmax_label"] });
    m.updateDict({ softmax_label: classes(), other_label: nd.array([5]) }, { aux_output: nd.array([1]), softmax_output: probs() });
    expect(value(m)).to.equal(2 / 3);
  });

  it("create takes MXNet's names, instances, functions and lists", () => {
    expect(create("acc")).to.be.instanceOf(Accuracy);
    expect(create("accuracy").name).to.equal("accuracy");
    expect(create("top_k_accuracy", { top_k: 5 }).name).to.equal("top_k_accuracy_5");
    expect(create("ce")).to.be.instanceOf(CrossEntropy);
    expect(create("mse")).to.be.instanceOf(MSE);
    expect(create("mae")).to.be.instanceOf(MAE);
    expect(create("rmse")).to.be.instanceOf(RMSE);
    expect(create("f1")).to.be.instanceOf(F1);
    expect(create("loss")).to.be.instanceOf(Loss);
    const a = new Accuracy();
    expect(create(a)).to.equal(a);
    const list = create(["acc", "ce"]) as CompositeEvalMetric;
    expect(list).to.be.instanceOf(CompositeEvalMetric);
    expect(list.metrics.map((m) => m.name)).to.deep.equal(["accuracy", "cross-entropy"]);
    const custom = create(function meanSum(label, pred) {
      return label.toArray().reduce((s, x) => s + x, 0) + pred.toArray().reduce((s, x) => s + x, 0);
    });
    expect(custom).to.be.instanceOf(CustomMetric);
    expect(custom.name).to.equal("meanSum");
    custom.update([regLabel()], [regPred()]);
    expect(value(custom)).to.equal(24);
    const pairs = new CustomMetric(() => [3, 4], "pairs");
    pairs.update([classes()], [probs()]);
    expect(value(pairs)).to.equal(0.75);
    expectError(() => create("precision"), "precision", "acc");
    expectError(() => new Accuracy().update([classes()], []), "1 labels but 0 predictions");
  });
});
