/**
 * Runs the GPU suite (cuda_runtime, cuda_status) against test doubles of libcuda and NVRTC
 * (test/fixtures/fake_cuda), so the bindings, argument packing, device storage, allocator,
 * events and graph code paths run on machines without a GPU too. The doubles execute the test
 * kernels in C on host memory; real numerics and real driver behaviour are only checked where a
 * GPU exists (the same suite, unskipped). Also checks how status reports a driver without a device.
 */
import { expect } from "chai";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { fixturePath, moduleUrl, packageRoot, runChild, skipSuite, tempDir } from "./helpers.js";

function findCc(): string | undefined {
  for (const cc of ["cc", "gcc", "clang"]) if (spawnSync(cc, ["--version"]).status === 0) return cc;
  return undefined;
}

function mochaBin(): string {
  for (const from of [import.meta.url, path.join(packageRoot(), "package.json")]) {
    try {
      return path.join(path.dirname(createRequire(from).resolve("mocha/package.json")), "bin", "mocha.js");
    } catch {
      /* try the next */
    }
  }
  throw new Error("mocha not found");
}

interface MochaJson {
  stats: { passes: number; failures: number; pending: number };
  failures: Array<{ fullTitle: string; err: { message: string } }>;
}

describe("GPU suite against fake libcuda/libnvrtc (no GPU needed)", function () {
  this.timeout(120000);
  let env: NodeJS.ProcessEnv;

  before(function () {
    const cc = findCc();
    if (!cc) skipSuite(this, "no C compiler (cc, gcc, clang) to build the fake driver");
    const dir = tempDir("kiln-fake-cuda-");
    const libs: Record<string, string> = { fake_libcuda: path.join(dir, "libcuda.so.1"), fake_libnvrtc: path.join(dir, "libnvrtc.so.12") };
    for (const [name, out] of Object.entries(libs)) {
      const r = spawnSync(cc as string, ["-shared", "-fPIC", "-O1", "-o", out, fixturePath("fake_cuda", `${name}.c`), "-lm"], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`building ${name}: ${r.stderr}`);
    }
    env = { KILN_CUDA_PATH: libs.fake_libcuda, KILN_NVRTC_PATH: libs.fake_libnvrtc, KILN_CACHE_DIR: path.join(dir, "cache") };
  });

  it("the CUDA runtime and status suites pass, unskipped", () => {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const files = ["cuda_runtime.test.js", "cuda_status.test.js"].map((f) => path.join(here, f));
    const r = spawnSync(process.execPath, [mochaBin(), "--no-config", "--reporter", "json", "--timeout", "120000", ...files], {
      encoding: "utf8",
      env: { ...process.env, ...env },
      maxBuffer: 64 << 20,
    });
    const json = r.stdout.slice(r.stdout.indexOf("{"));
    let report: MochaJson;
    try {
      report = JSON.parse(json) as MochaJson;
    } catch {
      throw new Error(`mocha child produced no report (status ${r.status}):\n${r.stdout}\n${r.stderr}`);
    }
    const failed = report.failures.map((f) => `${f.fullTitle}: ${f.err.message}`).join("\n");
    expect(report.stats.failures, failed).to.equal(0);
    // Only the "without a GPU" test is pending: the fake device makes the GPU tests run.
    expect(report.stats.pending).to.equal(1);
    expect(report.stats.passes).to.be.above(25);
  });

  it("a driver that sees no device is reported as such, with its path", () => {
    const s = runChild(
      `import { cuda } from ${JSON.stringify(moduleUrl("runtime/cuda/index.js"))};
       import { devices } from ${JSON.stringify(moduleUrl("runtime/devices.js"))};
       let use; try { cuda.device(0); } catch (e) { use = e.name + ": " + e.message; }
       console.log(JSON.stringify({ s: cuda.status(), devices: devices(), use }));`,
      { ...env, FAKE_CUDA_DEVICES: "0" },
    ) as { s: ReturnType<typeof import("../../../runtime/cuda/index.js").cuda.status>; devices: string[]; use: string };
    expect(s.s.available).to.equal(false);
    expect(s.s.driver.loaded).to.equal(true);
    expect(s.s.driver.version).to.equal("12.4");
    expect(s.s.reason).to.include(env.KILN_CUDA_PATH).and.include("no CUDA device is visible").and.include("CUDA_ERROR_NO_DEVICE");
    expect(s.s.nvrtc.loaded).to.equal(true);
    expect(s.s.nvrtc.cubinArchs).to.include(90);
    expect(s.devices).to.deep.equal(["cpu(0)"]);
    expect(s.use).to.match(/^CudaUnavailableError: gpu\(0\): no usable GPU: .*no CUDA device is visible/);
  });
});
