import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { cpuKernels, CpuCompileError } from "../../../runtime/cpu/index.js";
import { KernelCache } from "../../../runtime/cache/kernel_cache.js";
import { NDArray } from "../../../runtime/ndarray.js";
import { toHalf } from "../../../runtime/host_buffer.js";
import { fixturePath, moduleUrl, readFixture, runChild, skipSuite, tempDir } from "./helpers.js";

describe("CPU kernels (system C++ compiler + kernel cache + addon)", function () {
  this.timeout(120000);
  let cache: KernelCache;
  let cacheDir: string;

  before(function () {
    const cxx = cpuKernels.compiler();
    if (!cxx.compiler) skipSuite(this, cxx.error ?? "no C++ compiler");
    cacheDir = tempDir("kiln-cpu-cache-");
    cache = new KernelCache({ dir: cacheDir, disk: true });
  });

  it("saxpy: scalars of three dtypes, OpenMP loop, right values", () => {
    const lib = cpuKernels.compile(readFixture("cpu", "saxpy.cpp"), { cache });
    const n = 10007;
    const x = new NDArray([n]).set(Array.from({ length: n }, (_, i) => i * 0.25));
    const y = new NDArray([n]).set(Array.from({ length: n }, (_, i) => -i));
    lib.getFunction("saxpy", ["ptr", "ptr", "float32", "float64", "int64"]).call([y, x, 3, 0.5, n]);
    const got = y.toArray();
    for (const i of [0, 1, 77, n - 1]) expect(got[i]).to.equal(Math.fround(3 * i * 0.25 - i + 0.5));
  });

  it("an OpenMP reduction sums in parallel", () => {
    const lib = cpuKernels.compile(readFixture("cpu", "reduce_omp.cpp"), { cache });
    const n = 1 << 20;
    const input = new Float32Array(n);
    for (let i = 0; i < n; i++) input[i] = (i % 11) - 5; // exact in float, sum known
    let want = 0;
    for (let i = 0; i < n; i++) want += input[i];
    const out = new Float64Array(2);
    lib.getFunction("reduce_sum", ["ptr", "ptr", "int32"]).call([input, out, n]);
    expect(out[0]).to.equal(want);
    expect(out[1]).to.be.at.least(1);
  });

  it("every scalar dtype arrives intact (f16 as its bits)", () => {
    const lib = cpuKernels.compile(readFixture("cpu", "scalar_args.cpp"), { cache });
    const out = new NDArray([8], "float64");
    const k = lib.getFunction("scalar_args", ["ptr", "float32", "float64", "int32", "int64", "uint8", "int8", "float16", "int32"]);
    k.call([out, 1.25, Math.PI, -123456, 2 ** 40 + 3, 250, -100, -0.1, 7]);
    const v = out.toArray();
    expect(v.slice(0, 6)).to.deep.equal([1.25, Math.PI, -123456, 2 ** 40 + 3, 250, -100]);
    expect(v[6]).to.equal(-0.0999755859375); // the float16 nearest -0.1
    expect(toHalf(-0.1)).to.equal(0xae66);
    expect(v[7]).to.equal(7);
    k.call([out, 0, 0, 0, 2n ** 62n, 0, 0, 0, 0]);
    expect(out.toArray()[3]).to.equal(2 ** 62);
  });

  it("compiles once per source: the same source is a memory hit, a new process a disk hit", () => {
    const src = readFixture("cpu", "saxpy.cpp");
    const before = { ...cache.stats };
    cpuKernels.compile(src, { cache });
    expect(cache.stats.memoryHits).to.equal(before.memoryHits + 1);
    expect(cache.stats.builds).to.equal(before.builds);
    // A second process with the same cache directory runs no compiler.
    const child = runChild(
      `import { cpuKernels } from ${JSON.stringify(moduleUrl("runtime/cpu/index.js"))};
       import { defaultKernelCache } from ${JSON.stringify(moduleUrl("runtime/cache/kernel_cache.js"))};
       import * as fs from "node:fs";
       const lib = cpuKernels.compile(fs.readFileSync(${JSON.stringify(fixturePath("cpu", "saxpy.cpp"))}, "utf8"));
       const y = new Float32Array([1, 2]);
       lib.getFunction("saxpy", ["ptr", "ptr", "float32", "float64", "int64"]).call([y, new Float32Array([10, 20]), 2, 0, 2n]);
       console.log(JSON.stringify({ stats: defaultKernelCache().stats, runs: cpuKernels.compilerRuns, y: Array.from(y) }));`,
      { KILN_CACHE_DIR: cacheDir },
    ) as { stats: KernelCache["stats"]; runs: number; y: number[] };
    expect(child.runs).to.equal(0);
    expect(child.stats.builds).to.equal(0);
    expect(child.stats.diskHits).to.equal(1);
    expect(child.y).to.deep.equal([21, 42]);
  });

  it("bad C++ throws with the compiler's message and the saved source's path", () => {
    const bad = `extern "C" void broken(void* const* args) { return undeclared_identifier_xyz; }\n`;
    let err: unknown;
    try {
      cpuKernels.compile(bad, { cache });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(CpuCompileError);
    const e = err as CpuCompileError;
    expect(e.message).to.include("undeclared_identifier_xyz");
    expect(e.sourcePath.startsWith(path.join(cacheDir, "src"))).to.equal(true);
    expect(e.message).to.include(e.sourcePath);
    expect(fs.readFileSync(e.sourcePath, "utf8")).to.equal(bad);
  });

  it("a corrupt cache entry is detected and rebuilt", () => {
    const src = `extern "C" void fill7(void* const* args) { *static_cast<int*>(args[0]) = 7; }\n`;
    cpuKernels.compile(src, { cache });
    const entries = listEntries(cacheDir);
    const fresh = new KernelCache({ dir: cacheDir, disk: true });
    // Flip a byte in the payload of every entry file: verification must reject them all.
    for (const f of entries) {
      const b = fs.readFileSync(f);
      b[b.length - 1] ^= 0xff;
      fs.writeFileSync(f, b);
    }
    const lib = cpuKernels.compile(src, { cache: fresh });
    expect(fresh.stats.corrupt).to.be.at.least(1);
    expect(fresh.stats.builds).to.equal(1);
    const out = new Int32Array(1);
    lib.getFunction("fill7", ["ptr"]).call([out]);
    expect(out[0]).to.equal(7);
  });

  it("rejects wrong argument lists before calling native code", () => {
    const lib = cpuKernels.compile(readFixture("cpu", "saxpy.cpp"), { cache });
    const k = lib.getFunction("saxpy", ["ptr", "ptr", "float32", "float64", "int64"]);
    expect(() => k.call([new Float32Array(1)])).to.throw(/expects 5 arguments/);
    expect(() => k.call([1, new Float32Array(1), 1, 1, 1])).to.throw(/expected a host array/);
    expect(() => lib.getFunction("nope", ["ptr"])).to.throw(/dlsym\(nope\)/);
    expect(() => lib.getFunction("saxpy", ["float128" as "ptr"])).to.throw(/unknown kernel parameter type/);
  });
});

function listEntries(dir: string): string[] {
  const out: string[] = [];
  for (const shard of fs.readdirSync(dir)) {
    const d = path.join(dir, shard);
    if (!fs.statSync(d).isDirectory() || shard === "src") continue;
    for (const f of fs.readdirSync(d)) if (f.endsWith(".kiln")) out.push(path.join(d, f));
  }
  return out;
}
