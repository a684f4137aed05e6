/**
 * bench/compile_time.ts in quick mode on this machine (no GPU): the passes' times, rendering,
 * the C++ path's cold / warm / disk ready times (child processes with their own cache
 * directory), and nvcc on LeNet's CUDA module; checks the JSON it wrote.
 */
import { expect } from "chai";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../bench/compile_time.js";

describe("bench/compile_time", function () {
  this.timeout(90000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), "kiln-bench-compile-time-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("runs in quick mode and writes its JSON", async () => {
    await run({ repeats: 2, warmup: 1, quick: true, noPeers: true, outDir: dir });
    const files = readdirSync(dir).filter((f) => f.startsWith("compile_time-") && f.endsWith(".json"));
    expect(files).to.have.length(1);
    const r = JSON.parse(readFileSync(join(dir, files[0]), "utf8"));
    expect(r.bench).to.equal("compile_time");
    expect(r.device).to.have.property("kind");
    const names = r.passes.map((p: { name: string }) => p.name);
    for (const n of ["decompose", "fuse", "lower", "planMemory"]) expect(names).to.include(n);
    for (const p of r.passes) expect(p.median).to.be.at.least(0);
    expect(r.passesTotal.median).to.be.greaterThan(0);
    expect(r.render.cuda.median).to.be.greaterThan(0);
    expect(r.render.kernels).to.be.greaterThan(10);

    const cpp = r.readyTimes.find((x: { target: string }) => x.target === "cpp");
    if (!cpp.error?.startsWith("no C++ compiler")) {
      expect(cpp.error, cpp.error).to.equal(undefined);
      expect(cpp.hitsAsExpected).to.equal(true);
      expect(cpp.cold.hit).to.equal("miss");
      expect(cpp.cold.compilerMs).to.be.greaterThan(0);
      expect(cpp.warm.hit).to.equal("memory");
      expect(cpp.warm.compilerMs).to.equal(0);
      expect(cpp.disk.hit).to.equal("disk");
      expect(cpp.disk.compilerMs).to.equal(0);
      expect(cpp.warm.readyMs).to.be.lessThan(cpp.cold.readyMs);
    }
    if (r.nvcc.length) {
      const lenet = r.nvcc.find((x: { model: string }) => x.model === "lenet");
      expect(lenet.ok, lenet.error).to.equal(true);
      expect(lenet.kernels.length).to.be.greaterThan(0);
    }
  });
});
