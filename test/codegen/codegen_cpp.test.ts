import { expect } from "chai";
import { renderModule } from "../../compiler/codegen/index.js";
import { cpuKernels, CpuLibrary } from "../../runtime/cpu/index.js";
import { TABLE, kernelSource } from "./table.js";
import { mismatch, prepareCase } from "./run_table.js";

describe("codegen: the table as C++, compiled and compared with the interpreter", function () {
  this.timeout(120000);
  let lib: CpuLibrary;

  before(function () {
    const cxx = cpuKernels.compiler();
    if (!cxx.compiler) {
      console.log(`      codegen C++ tests skipped: ${cxx.error}`);
      this.skip();
    }
    // One module for the whole table: one compiler run.
    lib = cpuKernels.compile(renderModule(TABLE.map((c) => c.kernel), "cpp").source);
  });

  it("renders every kernel with pointer params and zeroOutput only for plain scatters", () => {
    const m = renderModule(TABLE.map((c) => c.kernel), "cpp");
    expect(m.kernels.map((k) => k.name)).to.deep.equal(TABLE.map((c) => c.kernel.name));
    for (const [i, k] of m.kernels.entries()) {
      const c = TABLE[i];
      expect(k.params).to.deep.equal(Array(c.kernel.stage.inputs.length + 1).fill("ptr"));
      expect(k.zeroOutput).to.equal(c.family === "scatter" && !c.kernel.accumulate);
      expect(k.launch).to.equal(undefined);
    }
  });

  it("gives every contraction of the table the GEMM schedule, and nothing else", () => {
    const src = renderModule(TABLE.map((c) => c.kernel), "cpp").source;
    for (const c of TABLE) expect(kernelSource(src, c.kernel.name).includes("// GEMM B="), `${c.kernel.name} takes the GEMM schedule`).to.equal(c.family === "gemm");
  });

  for (const [n, c] of TABLE.entries()) {
    it(`${c.kernel.name} equals evalStage`, () => {
      for (const seed of [n + 1, n + 1000]) {
        const p = prepareCase(c, seed);
        lib.getFunction(c.kernel.name, [...p.inputs.map(() => "ptr" as const), "ptr"]).call([...p.inputs, p.out]);
        const bad = mismatch(c, p);
        if (bad) expect.fail(`${bad} (seed ${seed})`);
      }
    });
  }
});
