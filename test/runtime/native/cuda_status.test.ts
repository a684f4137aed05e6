import { expect } from "chai";
import { cuda, CudaUnavailableError } from "../../../runtime/cuda/index.js";
import { devices, defaultContext } from "../../../runtime/devices.js";
import { gpu } from "../../../runtime/context.js";
import { NDArray } from "../../../runtime/ndarray.js";
import { nvrtcSearch, libcudaSearch, describeTried } from "../../../runtime/cuda/library_search.js";
import { chooseTarget } from "../../../runtime/cuda/compile.js";
import { versionMismatch } from "../../../runtime/cuda/status.js";
import { CudaError, cuResultName, toCudaError } from "../../../runtime/cuda/errors.js";
import { moduleUrl, runChild } from "./helpers.js";

describe("cuda.status and devices", () => {
  it("never throws and reports every piece", () => {
    const s = cuda.status();
    expect(s.native.loaded).to.equal(true);
    expect(s).to.have.keys("available", "native", "driver", "nvrtc", "deviceCount", "devices", "warnings", ...(s.reason ? ["reason"] : []));
    if (s.available) {
      expect(s.devices.length).to.equal(s.deviceCount).and.to.be.above(0);
      for (const d of s.devices) {
        expect(d.name).to.be.a("string").and.not.equal("");
        expect(d.arch).to.match(/^sm_\d+$/);
        expect(d.totalMemory).to.be.above(0);
        expect(d.smCount).to.be.above(0);
      }
      expect(s.driver.version).to.match(/^\d+\.\d+$/);
      expect(s.nvrtc.version).to.match(/^\d+\.\d+$/);
    } else {
      // Says what is missing and where it looked.
      expect(s.reason).to.be.a("string").and.match(/libcuda|NVRTC|device|addon/);
      if (!s.driver.loaded) {
        expect(s.driver.searched).to.include("libcuda.so.1");
        expect(s.reason).to.include("libcuda.so.1");
      }
      if (!s.nvrtc.loaded) expect(s.nvrtc.searched).to.include("libnvrtc.so.12");
      expect(cuda.formatStatus(s)).to.match(/CUDA driver: /);
    }
  });

  it("lists cpu(0) first and a gpu per usable device", () => {
    const d = devices();
    expect(d[0]).to.equal("cpu(0)");
    const s = cuda.status();
    expect(d.length).to.equal(1 + (s.available ? s.deviceCount : 0));
  });

  it("gpu(id) is only a name until used; using it without a GPU says why", function () {
    const ctx = gpu(0);
    expect(String(ctx)).to.equal("gpu(0)");
    if (cuda.status().available) this.skip();
    expect(() => new NDArray([2], "float32", ctx)).to.throw(CudaUnavailableError, /gpu\(0\).*(libcuda|device|addon)/);
    expect(() => cuda.device(0)).to.throw(CudaUnavailableError);
    // Everything else keeps working.
    expect(new NDArray([2]).set([1, 2]).toArray()).to.deep.equal([1, 2]);
  });

  it("defaultContext follows KILN_DEVICE", () => {
    expect(String(defaultContext({}))).to.equal("cpu(0)");
    expect(String(defaultContext({ KILN_DEVICE: "cpu" }))).to.equal("cpu(0)");
    expect(String(defaultContext({ KILN_DEVICE: "cuda" }))).to.equal("gpu(0)");
    expect(String(defaultContext({ KILN_DEVICE: "gpu:1" }))).to.equal("gpu(1)");
    expect(String(defaultContext({ KILN_DEVICE: "reference" }))).to.equal("reference(0)");
    expect(() => defaultContext({ KILN_DEVICE: "tpu" })).to.throw(/KILN_DEVICE=tpu/);
  });

  it("honours KILN_CUDA_PATH and KILN_NVRTC_PATH first, and says so when they are wrong", function () {
    this.timeout(30000);
    const env = { KILN_CUDA_PATH: "/nonexistent/libcuda.so.1", KILN_NVRTC_PATH: "/nonexistent/nvrtc-dir" };
    expect(libcudaSearch(env).candidates[0]).to.deep.equal({ path: "/nonexistent/libcuda.so.1", origin: "KILN_CUDA_PATH" });
    expect(nvrtcSearch(env).candidates[0].origin).to.equal("KILN_NVRTC_PATH");
    // A fresh process, since probes run once per process.
    const s = runChild(
      `import { cuda } from ${JSON.stringify(moduleUrl("runtime/cuda/index.js"))};
       console.log(JSON.stringify(cuda.status()));`,
      env,
    ) as ReturnType<typeof cuda.status>;
    expect(s.driver.searched[0]).to.equal("/nonexistent/libcuda.so.1");
    expect(s.nvrtc.searched[0]).to.equal("/nonexistent/nvrtc-dir");
    if (!s.driver.loaded) expect(s.driver.error).to.include("/nonexistent/libcuda.so.1 (not found)");
  });

  it("groups identical failures when describing the search", () => {
    const text = describeTried(
      [
        { path: "a.so", error: "not found" },
        { path: "b.so", error: "not found" },
        { path: "c.so", error: "wrong ELF class" },
      ],
      ["/opt/x"],
    );
    expect(text).to.equal("a.so, b.so (not found); c.so (wrong ELF class); searched directories: /opt/x");
  });

  it("compiles to CUBIN when NVRTC knows the arch, else to PTX for the newest older one", () => {
    expect(chooseTarget(90, { archs: [75, 80, 86, 89, 90] })).to.deep.equal({ option: "sm_90", kind: "cubin" });
    expect(chooseTarget(100, { archs: [75, 80, 90] })).to.deep.equal({ option: "compute_90", kind: "ptx" });
    expect(chooseTarget(90, { archs: [] })).to.deep.equal({ option: "compute_90", kind: "ptx" });
  });
});

describe("cuda.status version checks", () => {
  it("warns when NVRTC is a newer major version than the driver", () => {
    expect(versionMismatch(12040, [13, 0])).to.match(/NVRTC 13\.0 is newer than the driver \(CUDA 12\.4\)/);
    expect(versionMismatch(13000, [12, 8])).to.equal(undefined);
    expect(versionMismatch(undefined, [12, 8])).to.equal(undefined);
  });
});

describe("CUDA error naming", () => {
  it("names the call, the code and, when the library cannot, Kiln's own name for it", () => {
    const raw = Object.assign(new Error("cuLaunchKernel failed: CUresult (700): fake"), { call: "cuLaunchKernel", code: 700, codeName: "" });
    const e = toCudaError(raw) as CudaError;
    expect(e).to.be.instanceOf(CudaError);
    expect(e.message).to.equal("cuLaunchKernel failed: CUDA_ERROR_ILLEGAL_ADDRESS (700): fake");
    expect(e.codeName).to.equal("CUDA_ERROR_ILLEGAL_ADDRESS");
    expect(cuResultName(12345)).to.equal("CUresult 12345");
    const plain = new TypeError("argument 0: expected a stream");
    expect(toCudaError(plain)).to.equal(plain);
  });
});
