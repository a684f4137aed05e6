/**
 * Every symbol file in ../shared/data/mxnet-models on cpu() (generated C++) against the
 * reference executor, fused and unfused (and fused against unfused): inference at a small input
 * the file's pooling accepts (the trained weights where the file has them, else seeded ones),
 * and training — forward with batch statistics, backward, aux updates — at a tiny size.
 * float32 on cpu() against the float64 reference, 1e-4 of each array's scale (model_compare.ts).
 *
 * Inputs are as small as shape inference allows, with two limits from BatchNorm in training:
 * it needs several values per channel at the deepest stage (ResNets: 2×3×48×48 gives 2·2·2),
 * since with two the normalized values are ±1 and the gradient is pure rounding noise.
 *
 * Graphs whose reference run alone takes tens of seconds run only with KILN_SLOW_TESTS=1:
 * Inception-BN (its 7×7 average pool needs a 205×205 input), and training of ResNet-50,
 * ResNet-152, Inception-BN and the char LSTM. These deep training graphs run in float64 on
 * cpu() too: in float32 their gradients at such small batches are not well-conditioned
 * (BatchNorm over 8 values per channel, and ReLU masks that flip on rounding-size changes of
 * their inputs), so float64 is what shows the compiled program computes the same function.
 *
 * The Fashion-MNIST accuracy test needs the Debian package dataset-fashion-mnist
 * (/usr/share/datasets/fashion-mnist, or KILN_FASHION_MNIST) and skips without it.
 */
import { expect } from "chai";
import { readdirSync } from "node:fs";
import { MODELS_DIR } from "../helpers/paths.js";
import type { DType } from "../../index.js";
import { compareWithReference, loadParams, loadSymbolFile } from "./model_compare.js";
import { hasIdxTestSet, idxAccuracy, readIdxTestSet } from "./idx_data.js";

const SLOW = process.env.KILN_SLOW_TESTS === "1";

/** The char LSTM's inputs: 129 steps of character ids and three layers' begin states (512 hidden). */
function charLstmShapes(batch: number): Record<string, number[]> {
  const shapes: Record<string, number[]> = {};
  for (let t = 0; t < 129; t++) shapes[`data/${t}`] = [batch];
  for (let l = 0; l < 3; l++) for (const s of ["h", "c"]) shapes[`l${l}_init_${s}`] = [batch, 512];
  return shapes;
}

const image = (n: number, c: number, h: number, w = h): Record<string, number[]> => ({ data: [n, c, h, w] });

interface Run {
  shapes: Record<string, number[]>;
  slow?: boolean;
  dtype?: DType;
  /** Trained weights of `<file>-<epoch>.params` (inference only). */
  epoch?: string;
}

interface ModelCase {
  file: string;
  infer: Run;
  train: Run;
  /** Integer arguments: labels and Embedding indices. */
  ints?: [RegExp, number][];
}

const label = (classes: number): [RegExp, number][] => [[/label/, classes]];

const CASES: ModelCase[] = [
  { file: "mnist", infer: { shapes: image(4, 1, 28), epoch: "0035" }, train: { shapes: image(2, 1, 28) } },
  { file: "lenet", infer: { shapes: image(4, 1, 28), epoch: "0001" }, train: { shapes: image(2, 1, 28) } },
  { file: "fashion-mnist", infer: { shapes: image(4, 1, 28), epoch: "0039" }, train: { shapes: image(2, 1, 28) } },
  { file: "2-layer-mlp", infer: { shapes: image(2, 3, 224), epoch: "0000" }, train: { shapes: image(2, 3, 8) } },
  { file: "legacy-mlp-v0.8", infer: { shapes: { data: [8, 784] } }, train: { shapes: { data: [8, 784] } }, ints: label(10) },
  { file: "squeezenet-v1.1", infer: { shapes: image(1, 3, 64) }, train: { shapes: image(2, 3, 64) } },
  { file: "mobilenet_v2", infer: { shapes: image(1, 3, 32) }, train: { shapes: image(2, 3, 32) }, ints: label(1000) },
  { file: "vgg16-reduced", infer: { shapes: image(1, 3, 20) }, train: { shapes: image(1, 3, 20) }, ints: label(1000) },
  { file: "resnet-18", infer: { shapes: image(1, 3, 32) }, train: { shapes: image(2, 3, 48) }, ints: label(1000) },
  { file: "resnet-50", infer: { shapes: image(1, 3, 32) }, train: { shapes: image(2, 3, 48), slow: true, dtype: "float64" }, ints: label(63) },
  { file: "resnet-152", infer: { shapes: image(1, 3, 32) }, train: { shapes: image(2, 3, 48), slow: true, dtype: "float64" } },
  { file: "inception-bn-100", infer: { shapes: image(1, 3, 205), slow: true }, train: { shapes: image(1, 3, 205), slow: true, dtype: "float64" }, ints: label(10) },
  { file: "char-lstm-obama", infer: { shapes: charLstmShapes(1) }, train: { shapes: charLstmShapes(1), slow: true, dtype: "float64" }, ints: [[/^data\//, 84], [/^label\//, 84]] },
];

describe("compiled executor (cpu, C++): every shared MXNet model file against the reference", () => {
  it("the table covers every symbol file", () => {
    const files = readdirSync(MODELS_DIR)
      .filter((f) => f.endsWith("-symbol.json"))
      .map((f) => f.replace(/-symbol\.json$/, ""));
    expect(CASES.map((c) => c.file).sort()).to.deep.equal(files.sort());
  });

  for (const c of CASES) {
    const what = (mode: string, r: Run): string =>
      `${c.file}: ${mode} at ${Object.keys(r.shapes).length > 1 ? `batch ${Object.values(r.shapes)[0][0]}` : Object.values(r.shapes)[0].join("×")}` +
      `${r.epoch ? " with its trained weights" : ""}${r.dtype === "float64" ? " in float64" : ""}, fused and unfused${r.slow ? " (KILN_SLOW_TESTS)" : ""}`;

    (c.infer.slow && !SLOW ? it.skip : it)(what("inference", c.infer), function () {
      this.timeout(300000);
      // inception-bn's Dropout has mode "always" (masks in inference too); masks are random, so p = 0.
      const net = loadSymbolFile(c.file, true);
      const params = c.infer.epoch ? loadParams(c.file, c.infer.epoch) : undefined;
      compareWithReference(net, c.infer.shapes, { train: false, params, ints: c.ints, dtype: c.infer.dtype });
    });

    (c.train.slow && !SLOW ? it.skip : it)(what("training forward and backward", c.train), function () {
      this.timeout(600000);
      // Dropout masks come from Philox on cpu() and another generator on reference(): p = 0 here.
      const net = loadSymbolFile(c.file, true);
      compareWithReference(net, c.train.shapes, { train: true, ints: c.ints, dtype: c.train.dtype, rel: c.train.dtype === "float64" ? 1e-9 : 1e-4 });
    });
  }
});

describe("compiled executor (cpu, C++): the shared Fashion-MNIST model on the Fashion-MNIST test set", () => {
  const dir = process.env.KILN_FASHION_MNIST ?? "/usr/share/datasets/fashion-mnist";

  /*
   * The model (MentalBlood/mxnet_mnist_evaluation_scripts) was trained on pixels normalized as
   * in MXNet's Gluon crash course, (p/255 − 0.13)/0.31: that gives 91.4% here. The repository's
   * evaluation script feeds p/255 alone, which gives 38% (most images read as "pullover").
   */
  it("classifies ≥ 90% of the 10,000 test images with (p/255 − 0.13)/0.31 inputs", function () {
    if (!hasIdxTestSet(dir)) {
      console.log(`      skipped: no Fashion-MNIST test set in ${dir} (apt-get install dataset-fashion-mnist, or set KILN_FASHION_MNIST)`);
      this.skip();
    }
    this.timeout(120000);
    const set = readIdxTestSet(dir);
    expect(set.count).to.equal(10000);
    const acc = idxAccuracy(loadSymbolFile("fashion-mnist"), loadParams("fashion-mnist", "0039"), set, (p) => (p / 255 - 0.13) / 0.31);
    if (process.env.KILN_TEST_VERBOSE) console.log(`      Fashion-MNIST test accuracy ${(acc * 100).toFixed(2)}%`);
    expect(acc).to.be.at.least(0.9);
  });
});
