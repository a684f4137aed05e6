/**
 * `kiln train`: the options of examples/train_fashion_mnist.ts, a short run on the shipped
 * subset, and its checkpoint read back by `kiln run` with the same test accuracy.
 */
import { expect } from "chai";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../helpers/paths.js";
import { expectStatus, kiln, kilnAsync, tempDir } from "./cli_helper.js";

describe("kiln train", () => {
  const t = tempDir("train");
  after(() => t.remove());

  it("--help lists the training program's options", () => {
    const h = expectStatus(kiln(["train", "--help"]), 0).stdout;
    for (const o of ["--network", "--epochs", "--batch-size", "--lr", "--momentum", "--wd", "--lr-factor", "--device", "--data-dir", "--checkpoint-dir", "--subset", "--seed", "--progress"])
      expect(h, o).to.include(o);
    expect(h).to.include('"lenet", "mlp"');
  });

  it("rejects a bad network, device or epoch count as usage errors", async function () {
    this.timeout(30000);
    const rs = await Promise.all([["--network", "resnet"], ["--device", "tpu"], ["--epochs", "0"]].map((a) => kilnAsync(["train", ...a])));
    for (const r of rs) expect(r.status, r.stderr).to.equal(2);
  });

  it("trains the MLP for an epoch on the subset, and `kiln run` on its checkpoint gives the accuracy it reported", function () {
    this.timeout(60000);
    const ckpt = join(t.dir, "ckpt");
    const r = expectStatus(kiln(["train", "--network", "mlp", "--epochs", "1", "--subset", "--no-progress", "--checkpoint-dir", ckpt, "--device", "cpu"]), 0).stdout;
    const acc = /Final test accuracy \(500 images\): (\d\.\d{4})/.exec(r);
    expect(acc, r).to.not.equal(null);
    expect(Number(acc![1])).to.be.above(0.3); // ten classes: far better than chance after one epoch
    const prefix = join(ckpt, "fashion-mnist-mlp");
    expect(existsSync(`${prefix}-symbol.json`)).to.equal(true);
    expect(existsSync(`${prefix}-0001.params`)).to.equal(true);
    const subset = join(REPO_ROOT, "examples", "data", "fashion-mnist-subset");
    const run = expectStatus(
      kiln([
        "run", `${prefix}-symbol.json`, "--params", `${prefix}-0001.params`,
        "--input", `data=${join(subset, "subset-t10k-images-idx3-ubyte.gz")}`, "--shape", "data=100,784",
        "--scale", "255", "--mean", "0.286", "--std", "0.353", "--labels", join(subset, "subset-t10k-labels-idx1-ubyte.gz"), "--rows", "0",
      ]),
      0,
    ).stdout;
    expect(run).to.include(`Accuracy: top-1 ${acc![1]}`);
  });
});
