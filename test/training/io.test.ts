import { expect } from "chai";
import { NDArray, nd, cpu, reference } from "../../index.js";
import { NDArrayIter } from "../../runtime/training/io.js";
import type { DataBatch, DataIter } from "../../runtime/training/io.js";
import { seed } from "../../runtime/training/random.js";
import { expectError } from "../helpers/expect_error.js";

/** n samples of 2 features [2i, 2i+1], labels i. */
function samples(n: number): { data: NDArray; label: NDArray } {
  return {
    data: nd.array(Array.from({ length: n * 2 }, (_, k) => k), { shape: [n, 2] }),
    label: nd.array(Array.from({ length: n }, (_, i) => i)),
  };
}

/** Label values of each batch until the end of the epoch, with pads. */
function epoch(it: DataIter): { labels: number[][]; pads: number[] } {
  const labels: number[][] = [];
  const pads: number[] = [];
  for (let b = it.next(); b !== null; b = it.next()) {
    labels.push(b.label[0].toArray());
    pads.push(b.pad);
  }
  return { labels, pads };
}

function checkRowsMatchLabels(b: DataBatch): void {
  const d = b.data[0].toArray();
  b.label[0].toArray().forEach((l, r) => expect([d[2 * r], d[2 * r + 1]]).to.deep.equal([2 * l, 2 * l + 1]));
}

describe("training/io NDArrayIter", () => {
  it("describes its inputs with batch shapes, MXNet's default names and dtypes", () => {
    const { data, label } = samples(10);
    const it = new NDArrayIter({ data, label, batchSize: 3 });
    expect(it.provideData).to.deep.equal([{ name: "data", shape: [3, 2], dtype: "float32" }]);
    expect(it.provideLabel).to.deep.equal([{ name: "softmax_label", shape: [3], dtype: "float32" }]);
    const named = new NDArrayIter({ data, label, batchSize: 4, dataName: "x", labelName: "y" });
    expect(named.provideData[0].name).to.equal("x");
    expect(named.provideLabel[0].name).to.equal("y");
    const unlabeled = new NDArrayIter({ data, batchSize: 5 });
    expect(unlabeled.provideLabel).to.deep.equal([]);
    expect(unlabeled.next()!.label).to.deep.equal([]);
  });

  it("pads the last batch by wrapping to the beginning", () => {
    const { data, label } = samples(10);
    const it = new NDArrayIter({ data, label, batchSize: 3 });
    const e = epoch(it);
    expect(e.labels).to.deep.equal([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 0, 1]]);
    expect(e.pads).to.deep.equal([0, 0, 0, 2]);
    expect(it.next()).to.equal(null);
    it.reset();
    expect(epoch(it).labels).to.have.length(4);
  });

  it("pads by tiling when the batch is larger than the data", () => {
    const { data, label } = samples(2);
    const it = new NDArrayIter({ data, label, batchSize: 5 });
    const b = it.next()!;
    expect(b.label[0].toArray()).to.deep.equal([0, 1, 0, 1, 0]);
    expect(b.pad).to.equal(3);
    expect(b.data[0].shape).to.deep.equal([5, 2]);
    expect(b.data[0].toArray()).to.deep.equal([0, 1, 2, 3, 0, 1, 2, 3, 0, 1]);
    expect(it.next()).to.equal(null);
  });

  it("discards the incomplete last batch", () => {
    const { data, label } = samples(10);
    const it = new NDArrayIter({ data, label, batchSize: 3, lastBatchHandle: "discard" });
    expect(epoch(it).labels).to.deep.equal([[0, 1, 2], [3, 4, 5], [6, 7, 8]]);
    it.reset();
    expect(epoch(it).labels).to.deep.equal([[0, 1, 2], [3, 4, 5], [6, 7, 8]]);
  });

  it("rolls the leftover over into the next epoch (MXNet's roll_over)", () => {
    const { data, label } = samples(10);
    const it = new NDArrayIter({ data, label, batchSize: 3, lastBatchHandle: "roll_over" });
    expect(epoch(it).labels).to.deep.equal([[0, 1, 2], [3, 4, 5], [6, 7, 8]]);
    it.reset();
    // MXNet's docstring: after reset the first batch is [sample 9, sample 0, sample 1].
    const e2 = epoch(it);
    expect(e2.labels).to.deep.equal([[9, 0, 1], [2, 3, 4], [5, 6, 7]]);
    expect(e2.pads).to.deep.equal([0, 0, 0]);
    it.reset();
    expect(epoch(it).labels).to.deep.equal([[8, 9, 0], [1, 2, 3], [4, 5, 6], [7, 8, 9]]);
    it.reset();
    expect(epoch(it).labels[0]).to.deep.equal([0, 1, 2]);
  });

  it("roll_over keeps carrying while the data is smaller than a batch", () => {
    const { data, label } = samples(2);
    const it = new NDArrayIter({ data, label, batchSize: 3, lastBatchHandle: "roll_over" });
    expect(epoch(it).labels).to.deep.equal([]);
    it.reset();
    expect(epoch(it).labels).to.deep.equal([[0, 1, 0]]);
    it.reset();
    expect(epoch(it).labels).to.deep.equal([[1, 0, 1]]);
  });

  it("a reset in the middle of an epoch, or hardReset, drops rolled-over samples", () => {
    const { data, label } = samples(10);
    const it = new NDArrayIter({ data, label, batchSize: 3, lastBatchHandle: "roll_over" });
    epoch(it); // leaves sample 9 over
    it.reset();
    it.reset(); // a reset before the carried samples were used: MXNet starts from the beginning
    expect(it.next()!.label[0].toArray()).to.deep.equal([0, 1, 2]);
    epoch(it); // leaves sample 9 over again
    it.hardReset();
    expect(it.next()!.label[0].toArray()).to.deep.equal([0, 1, 2]);
  });

  it("shuffles deterministically by seed, keeping rows with their labels", () => {
    const { data, label } = samples(50);
    const order = (s: number): number[][] => {
      const it = new NDArrayIter({ data, label, batchSize: 7, shuffle: true, seed: s });
      const epochs: number[][] = [];
      for (let e = 0; e < 3; e++) {
        const flat: number[] = [];
        for (let b = it.next(); b !== null; b = it.next()) {
          checkRowsMatchLabels(b);
          expect(b.index).to.deep.equal(b.label[0].toArray());
          flat.push(...b.label[0].toArray().slice(0, 7 - b.pad));
        }
        expect([...flat].sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 50 }, (_, i) => i));
        epochs.push(flat);
        it.reset();
      }
      return epochs;
    };
    const a = order(5);
    expect(order(5)).to.deep.equal(a);
    expect(order(6)[0]).to.not.deep.equal(a[0]);
    expect(a[1]).to.not.deep.equal(a[0]); // reshuffled at reset
    expect(a[0]).to.not.deep.equal(Array.from({ length: 50 }, (_, i) => i));
    // Without a seed, shuffling draws from the shared generator: init.seed makes it repeatable.
    const shared = (): number[] => {
      seed(11);
      const it = new NDArrayIter({ data, label, batchSize: 50, shuffle: true });
      return it.next()!.label[0].toArray();
    };
    expect(shared()).to.deep.equal(shared());
  });

  it("takes several named arrays (fed in name order), keeps dtypes and returns cpu() arrays", () => {
    const n = 4;
    const b = nd.array([10, 11, 12, 13], { dtype: "int32" });
    const a = nd.array(Array.from({ length: n * 6 }, (_, k) => k / 2), { shape: [n, 2, 3], dtype: "float64", ctx: reference() });
    const it = new NDArrayIter({ data: { b, a }, label: { lab: nd.array([1, 0, 1, 0], { dtype: "uint8" }) }, batchSize: 3 });
    expect(it.provideData).to.deep.equal([
      { name: "a", shape: [3, 2, 3], dtype: "float64" },
      { name: "b", shape: [3], dtype: "int32" },
    ]);
    expect(it.provideLabel).to.deep.equal([{ name: "lab", shape: [3], dtype: "uint8" }]);
    const first = it.next()!;
    expect(first.data[0].ctx.toString()).to.equal(cpu().toString());
    expect(first.data[0].toArray()).to.deep.equal(a.toArray().slice(0, 18));
    expect(first.data[1].toArray()).to.deep.equal([10, 11, 12]);
    const second = it.next()!;
    expect(second.data[1].toArray()).to.deep.equal([13, 10, 11]);
    expect(second.label[0].toArray()).to.deep.equal([0, 1, 0]);
    expect(second.pad).to.equal(2);
  });

  it("is iterable over the rest of the epoch", () => {
    const { data, label } = samples(10);
    const it = new NDArrayIter({ data, label, batchSize: 4 });
    expect([...it].map((b) => b.pad)).to.deep.equal([0, 0, 2]);
    expect([...it]).to.have.length(0);
    it.reset();
    expect([...it]).to.have.length(3);
  });

  it("rejects bad arguments with messages that name them", () => {
    const { data } = samples(10);
    expectError(() => new NDArrayIter({ data, label: nd.array([1, 2, 3]), batchSize: 2 }), "data has 10", "softmax_label has 3");
    expectError(() => new NDArrayIter({ data, batchSize: 0 }), "batchSize", "0");
    expectError(() => new NDArrayIter({ data, batchSize: 2, lastBatchHandle: "wrap" as "pad" }), "lastBatchHandle", "wrap");
    expectError(() => new NDArrayIter({ data: nd.zeros([0, 3]), batchSize: 2 }), "no samples");
    expectError(() => new NDArrayIter({ data: { x: data, y: 3 as unknown as NDArray }, batchSize: 2 }), '"y"', "not an NDArray");
  });
});
