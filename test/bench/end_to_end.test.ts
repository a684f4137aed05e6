/**
 * bench/end_to_end in quick mode on this machine: without a GPU it compiles the MLP's and
 * LeNet's training modules with nvcc and runs the MLP's training step on cpu(), checked against
 * the host reference; with a GPU it times the small models. Checks the JSON it writes.
 */
import { expect } from "chai";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run, models, lenet, mlp } from "../../bench/end_to_end.js";
import { findNvcc } from "../../bench/harness.js";

describe("bench/end_to_end", () => {
  it("builds the networks the issue names", () => {
    const [, out] = lenet().inferShape({ data: [4, 1, 28, 28] });
    expect(out).to.deep.equal([[4, 10]]);
    expect(lenet().listArguments()).to.include.members(["conv1_weight", "conv2_weight", "fc1_weight", "fc2_weight", "softmax_label"]);
    const [args] = mlp().inferShape({ data: [2, 784] });
    expect(args.slice(1, 7)).to.deep.equal([[128, 784], [128], [64, 128], [64], [10, 64], [10]]);
    const names = models().map((m) => m.name);
    expect(names).to.deep.equal(["mlp 784-128-64-10", "lenet", "resnet-18", "resnet-50"]);
    const r18 = models()[2];
    const [, r18out] = r18.build().inferShape({ data: [2, ...r18.image] });
    expect(r18out).to.deep.equal([[2, 1000]]);
  });

  it("runs in quick mode and writes its JSON", async function () {
    this.timeout(60000);
    const outDir = mkdtempSync(join(tmpdir(), "kiln-bench-e2e-"));
    try {
      await run({ repeats: 2, warmup: 1, quick: true, noPeers: true, outDir });
      const files = readdirSync(outDir).filter((f) => f.startsWith("end_to_end-") && f.endsWith(".json"));
      expect(files).to.have.length(1);
      const j = JSON.parse(readFileSync(join(outDir, files[0]), "utf8")) as Record<string, any>;
      expect(j.bench).to.equal("end_to_end");
      expect(j).to.have.property("floor");
      if (j.gpu) {
        for (const m of j.models) {
          expect(m.kiln, m.model).to.have.property("step");
          expect(m.kiln.kernels.perStep).to.be.greaterThan(0);
          expect(m.kiln.check.ok, m.model).to.equal(true);
        }
        return;
      }
      expect(j.gpu).to.equal(false);
      const [mlpRow] = j.cpu;
      expect(mlpRow.model).to.equal("mlp 784-128-64-10");
      expect(mlpRow.kiln.step.imagesPerS).to.be.greaterThan(0);
      expect(mlpRow.kiln.kernels.perStep).to.be.greaterThan(3);
      expect(mlpRow.kiln.check.ok, JSON.stringify(mlpRow.kiln.check)).to.equal(true);
      if (!findNvcc()) return;
      expect(j.compile.ok, JSON.stringify(j.compile.modules).slice(0, 2000)).to.equal(true);
      for (const name of ["mlp 784-128-64-10", "lenet"]) {
        expect(j.compile.modules[name].kernels, name).to.be.greaterThan(0);
        expect(j.compile.modules[name].maxRegisters, name).to.be.greaterThan(0);
      }
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  });
});
