import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { fixturePath, skipSuite, tempDir } from "./helpers.js";

/** nvcc on PATH, else in CUDA_HOME or /usr/local/cuda; undefined when absent. */
function findNvcc(): string | undefined {
  const dirs = [process.env.CUDA_HOME, process.env.CUDA_PATH, "/usr/local/cuda"].filter((d): d is string => !!d);
  for (const cmd of ["nvcc", ...dirs.map((d) => path.join(d, "bin", "nvcc"))]) {
    const r = spawnSync(cmd, ["--version"], { encoding: "utf8" });
    if (r.status === 0) return cmd;
  }
  return undefined;
}

describe("CUDA test kernels compile with nvcc (sm_90 CUBIN)", function () {
  this.timeout(120000);
  let nvcc: string | undefined;
  let out: string;

  before(function () {
    nvcc = findNvcc();
    if (!nvcc) skipSuite(this, "nvcc not found (PATH, CUDA_HOME, CUDA_PATH, /usr/local/cuda)");
    out = tempDir("kiln-nvcc-");
  });

  const kernels = fs.readdirSync(fixturePath("cuda")).filter((f) => f.endsWith(".cu"));

  it("has the fixtures the GPU suite launches", () => {
    expect(kernels).to.include.members(["vector_add.cu", "reduce_sum.cu", "scalar_args.cu"]);
  });

  for (const file of kernels) {
    it(file, () => {
      const cubin = path.join(out, file.replace(/\.cu$/, ".cubin"));
      const r = spawnSync(nvcc as string, ["-cubin", "-arch=sm_90", "-Werror", "all-warnings", "-o", cubin, fixturePath("cuda", file)], {
        encoding: "utf8",
      });
      expect(r.status, `${nvcc} failed on ${file}:\n${r.stderr}`).to.equal(0);
      const bytes = fs.readFileSync(cubin);
      expect(bytes.subarray(0, 4).toString("latin1")).to.equal("\x7fELF");
      // The kernel keeps its unmangled name (extern "C"), which cuModuleGetFunction needs.
      expect(bytes.includes(Buffer.from(file.replace(/\.cu$/, "")))).to.equal(true);
    });
  }
});
