/**
 * bench/memory.ts in quick mode on this machine (no GPU): the plan of every case, the MLP's CUDA
 * compile check and its cpu() step; checks the JSON it wrote.
 */
import { expect } from "chai";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../bench/memory.js";

describe("bench/memory", function () {
  this.timeout(60000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), "kiln-bench-memory-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("runs in quick mode and writes its JSON", async () => {
    await run({ repeats: 2, warmup: 1, quick: true, noPeers: true, outDir: dir });
    const files = readdirSync(dir).filter((f) => f.startsWith("memory-") && f.endsWith(".json"));
    expect(files).to.have.length(1);
    const r = JSON.parse(readFileSync(join(dir, files[0]), "utf8"));
    expect(r.bench).to.equal("memory");
    expect(r.device).to.have.property("kind");
    expect(r.floor).to.be.an("object");
    expect(r.cases).to.have.length(6);
    const models = new Set(r.cases.map((c: { model: string }) => c.model));
    expect([...models]).to.have.members(["resnet-50", "resnet-18", "mlp"]);
    for (const c of r.cases) {
      expect(c.plan.plannedBytes, `${c.model} mirror=${c.mirror}`).to.be.greaterThan(0);
      expect(c.plan.plannedBytes).to.be.at.most(c.plan.naiveBytes * 1.01);
      expect(c.plan.argBytes).to.be.greaterThan(0);
      expect(c.plan.gradBytes).to.be.greaterThan(0);
      expect(c.plan.gradBytes).to.be.lessThan(c.plan.argBytes); // no gradient for data and label
    }
    const r50 = (mirror: boolean) => r.cases.find((c: { model: string; mirror: boolean }) => c.model === "resnet-50" && c.mirror === mirror).plan;
    expect(r50(true).plannedBytes).to.be.lessThan(r50(false).plannedBytes);
    expect(r50(true).mirrored).to.be.greaterThan(0);
    if (!r.gpu) {
      expect(r.cpu.check.ok, r.cpu.check.detail).to.equal(true);
      expect(r.cpu.step.median).to.be.greaterThan(0);
    }
    expect(r.peers.ok).to.equal(false);
    // The compile report: the MLP's CUDA module through nvcc (when nvcc is here).
    expect(r.compileReports.length).to.be.greaterThan(0);
    const mlp = r.compileReports.find((x: { model: string }) => x.model === "mlp");
    if (mlp.error !== "nvcc not found") {
      expect(mlp.ok, mlp.error).to.equal(true);
      expect(mlp.kernels.length).to.be.greaterThan(0);
      expect(mlp.kernels[0]).to.have.keys(["name", "registers", "spillBytes", "sharedBytes"]);
    }
  });
});
