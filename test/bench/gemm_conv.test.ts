/**
 * bench/gemm_conv in quick mode on this machine: without a GPU it compiles the cases' CUDA
 * kernels with nvcc (ptxas report) and times a few of the graphs on cpu() with a host check;
 * with a GPU it times the quick cases. Either way the JSON it writes must hold what the
 * benchmark issue asks for.
 */
import { expect } from "chai";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run, allCases, flopsOf, gemmView } from "../../bench/gemm_conv.js";
import { findNvcc } from "../../bench/harness.js";

describe("bench/gemm_conv", () => {
  it("counts FLOPs of the GEMM view (2MNK, twice for data + weight gradients)", () => {
    const cases = allCases();
    const dense = cases.find((c) => c.name.startsWith("dense 4096"))!;
    expect(gemmView(dense)).to.deep.equal({ M: 4096, N: 4096, K: 4096 });
    expect(flopsOf(dense)).to.equal(2 * 4096 ** 3);
    const stem = cases.find((c) => c.name.startsWith("conv 7x7/2"))!;
    expect(gemmView(stem)).to.deep.equal({ M: 32 * 112 * 112, N: 64, K: 3 * 49 });
    const grad = cases.find((c) => c.grad && c.kind === "conv")!;
    expect(flopsOf(grad)).to.equal(2 * 2 * (32 * 28 * 28) * 128 * (128 * 9));
  });

  it("runs in quick mode and writes its JSON", async function () {
    this.timeout(60000);
    const outDir = mkdtempSync(join(tmpdir(), "kiln-bench-gemm-"));
    try {
      await run({ repeats: 2, warmup: 1, quick: true, noPeers: true, outDir });
      const files = readdirSync(outDir).filter((f) => f.startsWith("gemm_conv-") && f.endsWith(".json"));
      expect(files).to.have.length(1);
      const j = JSON.parse(readFileSync(join(outDir, files[0]), "utf8")) as Record<string, any>;
      expect(j.bench).to.equal("gemm_conv");
      expect(j.device).to.have.property("kind");
      expect(j).to.have.property("floor");
      if (j.gpu) {
        expect(j.cases.length).to.be.greaterThan(0);
        for (const c of j.cases) {
          expect(c.kiln, c.case).to.have.property("ms");
          expect(c.kiln.checkOk, `${c.case} ${c.precision}`).to.equal(true);
        }
        return;
      }
      expect(j.gpu).to.equal(false);
      expect(j.cpu.length).to.be.greaterThan(0);
      for (const r of j.cpu) {
        expect(r, r.case).to.not.have.property("error");
        expect(r.ms.median).to.be.greaterThan(0);
        expect(r.checkOk, `${r.case}: max rel err ${r.maxRelErr}`).to.equal(true);
      }
      if (!findNvcc()) return;
      expect(j.compile.ok, JSON.stringify(j.compile.modules).slice(0, 2000)).to.equal(true);
      expect(Object.keys(j.compile.modules)).to.include.members(["forward fp32", "forward tf32", "grad fp32", "grad tf32"]);
      // Every case's kernels appear in the ptxas report with their registers.
      for (const c of j.compile.cases) {
        const mod = j.compile.modules[`${c.grad ? "grad" : "forward"} fp32`];
        for (const k of c.kernels) {
          const rep = mod.kernels.find((r: { name: string }) => r.name === k);
          expect(rep, `${c.case}: ${k} in the ptxas report`).to.not.equal(undefined);
          expect(rep.registers).to.be.greaterThan(0);
        }
      }
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  });
});
