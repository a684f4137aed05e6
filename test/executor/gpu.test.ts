/**
 * The compiled executor on gpu(0) (NVRTC-compiled CUDA) against the reference executor: the
 * seed networks, every shared MXNet model file (inference and training at the sizes of
 * shared_models.test.ts), CUDA-graph replay, and test-set accuracy of the trained MNIST and
 * Fashion-MNIST models. Skips when no CUDA device is usable (status() says why); on a machine
 * with one, `KILN_TEST_GPU_OPS=1` also sends every op test's graph through gpu() (op_check).
 */
import { expect } from "chai";
import { join } from "node:path";
import { gpu, withNameManager, reference } from "../../index.js";
import { status } from "../../runtime/cuda/status.js";
import { regressionLoss, smallClassifier, stackedLSTM } from "../../examples/seed_networks.js";
import { SHARED_DATA } from "../helpers/paths.js";
import { compareWithReference, fillSeeded, loadParams, loadSymbolFile } from "./model_compare.js";
import { hasIdxTestSet, idxAccuracy, readIdxTestSet } from "./idx_data.js";
import { CASES, SLOW } from "./shared_model_cases.js";

const cuda = status();

describe("compiled executor (gpu, CUDA) against the reference", function () {
  before(function () {
    if (!cuda.available) {
      console.log(`      skipped: no usable CUDA device (${cuda.reason ?? "none found"})`);
      this.skip();
    }
    console.log(`      ${cuda.devices.map((d) => `gpu(${d.id}): ${d.name}`).join(", ")}`);
  });
  const verbose = (what: string, r: { forward: number; backward: number; ms: { reference: number; compiled: number } }): void => {
    if (process.env.KILN_TEST_VERBOSE)
      console.log(`      ${what}: forward ${r.forward.toExponential(1)}, backward ${r.backward.toExponential(1)}; gpu ${(r.ms.compiled / 1000).toFixed(1)} s`);
  };

  it("seed networks: small classifier, stacked LSTM and regression loss train one step like the reference", function () {
    this.timeout(300000);
    const ints: [RegExp, number][] = [[/label/, 12]];
    verbose("small classifier", compareWithReference(withNameManager(() => smallClassifier(12, 0)), { data: [2, 3, 160, 160] }, { train: true, ints, ctx: gpu() }));
    verbose("stacked LSTM", compareWithReference(withNameManager(() => stackedLSTM({ seqLen: 7, numHidden: 64 })), { audio_data: [2, 7, 75] }, { train: true, ctx: gpu() }));
    verbose("regression", compareWithReference(withNameManager(() => regressionLoss()), { data: [5, 7], label: [5, 1] }, { train: true, ctx: gpu() }));
  });

  for (const c of CASES) {
    (c.infer.slow && !SLOW ? it.skip : it)(`${c.file}: inference, fused and unfused`, function () {
      this.timeout(300000);
      const params = c.infer.epoch ? loadParams(c.file, c.infer.epoch) : undefined;
      verbose(c.file, compareWithReference(loadSymbolFile(c.file, true), c.infer.shapes, { train: false, params, ints: c.ints, dtype: c.infer.dtype, ctx: gpu() }));
    });
    (c.train.slow && !SLOW ? it.skip : it)(`${c.file}: training forward and backward${c.train.dtype === "float64" ? " in float64" : ""}, fused and unfused`, function () {
      this.timeout(600000);
      const r = compareWithReference(loadSymbolFile(c.file, true), c.train.shapes, {
        train: true,
        ints: c.ints,
        dtype: c.train.dtype,
        rel: c.train.dtype === "float64" ? 1e-9 : 1e-4,
        ctx: gpu(),
      });
      verbose(c.file, r);
    });
  }

  it("a repeated forward and backward (CUDA-graph replay) gives the first run's values", function () {
    this.timeout(120000);
    const net = loadSymbolFile("resnet-18", true);
    const shapes = { data: [2, 3, 48, 48] };
    const exe = net.simpleBind({ ctx: gpu(), shapes, gradReq: "write" });
    fillSeeded(exe, { ints: [[/label/, 1000]] });
    const first = exe.forward(true).map((o) => o.toFloat64());
    exe.backward();
    const grads = Object.fromEntries(Object.entries(exe.gradDict).map(([k, v]) => [k, v.toFloat64()]));
    for (let rep = 0; rep < 3; rep++) {
      // Aux states move in training; reset them so each run computes the same thing.
      for (const [name, a] of Object.entries(exe.auxDict)) a.set(name.endsWith("_var") ? 1 : 0);
      const again = exe.forward(true).map((o) => o.toFloat64());
      exe.backward();
      again.forEach((o, i) => expect(Array.from(o)).to.deep.equal(Array.from(first[i]), `output ${i}, run ${rep + 2}`));
      for (const [k, v] of Object.entries(exe.gradDict)) expect(Array.from(v.toFloat64())).to.deep.equal(Array.from(grads[k]), `gradient of ${k}, run ${rep + 2}`);
    }
    const ref = net.simpleBind({ ctx: reference(), shapes, gradReq: "null" });
    expect(ref.outputs.length).to.equal(first.length);
  });

  it("mnist classifies ≥ 98.5% and lenet ≥ 94% of the MNIST test set", function () {
    this.timeout(120000);
    const set = readIdxTestSet(join(SHARED_DATA, "mnist"));
    const a = idxAccuracy(loadSymbolFile("mnist"), loadParams("mnist", "0035"), set, (p) => p / 255, 500, gpu());
    const b = idxAccuracy(loadSymbolFile("lenet"), loadParams("lenet", "0001"), set, (p) => p / 255, 500, gpu());
    if (process.env.KILN_TEST_VERBOSE) console.log(`      MNIST test accuracy on gpu(): mnist ${(a * 100).toFixed(2)}%, lenet ${(b * 100).toFixed(2)}%`);
    expect(a).to.be.at.least(0.985);
    expect(b).to.be.at.least(0.94);
  });

  it("fashion-mnist classifies ≥ 90% of the Fashion-MNIST test set", function () {
    const dir = process.env.KILN_FASHION_MNIST ?? "/usr/share/datasets/fashion-mnist";
    if (!hasIdxTestSet(dir)) this.skip();
    this.timeout(120000);
    const acc = idxAccuracy(loadSymbolFile("fashion-mnist"), loadParams("fashion-mnist", "0039"), readIdxTestSet(dir), (p) => (p / 255 - 0.13) / 0.31, 500, gpu());
    if (process.env.KILN_TEST_VERBOSE) console.log(`      Fashion-MNIST test accuracy on gpu(): ${(acc * 100).toFixed(2)}%`);
    expect(acc).to.be.at.least(0.9);
  });
});
