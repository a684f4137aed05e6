import { expect } from "chai";
import { loadNative, tryLoadNative, addonCandidates } from "../../../runtime/native/loader.js";

describe("native addon", () => {
  it("loads after npm install, from the package's build folder", () => {
    const r = tryLoadNative();
    expect(r.error, r.error).to.equal(undefined);
    expect(r.path).to.match(/runtime\/native\/build\/(Release|Debug)\/kiln_native\.node$/);
    expect(addonCandidates()).to.include(r.path);
  });

  it("exposes the CUDA, NVRTC and CPU bindings without loading any CUDA library", () => {
    const a = loadNative();
    for (const f of ["cudaLoad", "cuInit", "cuMemAlloc", "cuLaunchKernel", "cuStreamBeginCapture", "nvrtcLoad", "nvrtcCompile", "cpuOpen", "cpuCall"])
      expect(a, f).to.have.property(f).that.is.a("function");
    expect(a.abiVersion).to.equal(1);
  });

  it("reports a library that cannot be opened instead of throwing", () => {
    const a = loadNative();
    if (a.cudaLoaded()) return; // a real driver is already in; nothing to probe
    const why = a.cudaLoad("/nonexistent/libcuda.so.1");
    expect(why).to.be.a("string").and.to.include("/nonexistent/libcuda.so.1");
  });

  it("rejects arguments of the wrong type with a TypeError", () => {
    const a = loadNative();
    expect(() => a.cpuCall(0n, [])).to.throw(TypeError, /non-null kernel address/);
    expect(() => (a.cpuOpen as unknown as (x: number) => bigint)(42)).to.throw(TypeError, /library path/);
  });

  it("says what failed when dlopen of a CPU library fails", () => {
    expect(() => loadNative().cpuOpen("/nonexistent/k.so")).to.throw(/dlopen\(\/nonexistent\/k\.so\) failed/);
  });
});
