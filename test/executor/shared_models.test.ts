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
import { compareWithReference, loadParams, loadSymbolFile } from "./model_compare.js";
import { hasIdxTestSet, idxAccuracy, readIdxTestSet } from "./idx_data.js";
import { CASES, SLOW } from "./shared_model_cases.js";
import type { Run } from "./shared_model_cases.js";

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
