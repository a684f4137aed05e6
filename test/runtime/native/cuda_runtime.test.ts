/**
 * The CUDA runtime against a real GPU: allocation, copies, NVRTC, launches, events, graphs and
 * the caching allocator. Skipped, with the reason from cuda.status(), where no GPU is usable.
 */
import { expect } from "chai";
import { DTYPES, DType } from "../../../compiler/base/dtype.js";
import { KilnError } from "../../../compiler/base/errors.js";
import { cuda, CudaCompileError, CudaDevice, CudaError, CudaModule } from "../../../runtime/cuda/index.js";
import { KernelCache } from "../../../runtime/cache/kernel_cache.js";
import { compileCuda } from "../../../runtime/cuda/compile.js";
import { NDArray } from "../../../runtime/ndarray.js";
import { cpu, gpu, reference } from "../../../runtime/context.js";
import { fixturePath, gpuSkipReason, moduleUrl, readFixture, runChild, skipSuite, tempDir } from "./helpers.js";

function sample(dtype: DType, n: number): number[] {
  return Array.from({ length: n }, (_, i) => (dtype === "uint8" ? i % 250 : dtype.startsWith("float") ? ((i % 9) - 4) * 0.25 : (i % 9) - 4));
}

describe("CUDA runtime on a GPU", function () {
  this.timeout(120000);
  let dev: CudaDevice;
  let cache: KernelCache;
  let cacheDir: string;
  const compile = (file: string, opts: { ptx?: boolean } = {}): CudaModule =>
    new CudaModule(dev, compileCuda(readFixture("cuda", file), dev.props.computeCapability, { cache, ...opts }));

  before(function () {
    const why = gpuSkipReason();
    if (why) skipSuite(this, why);
    dev = cuda.device(0);
    cacheDir = tempDir("kiln-cuda-cache-");
    cache = new KernelCache({ dir: cacheDir });
  });

  it("reports the device: name, compute capability, memory, SMs", () => {
    const s = cuda.status();
    expect(s.available).to.equal(true);
    expect(s.devices[0]).to.deep.equal(dev.props);
    expect(dev.props.arch).to.equal(`sm_${dev.props.computeCapability.join("")}`);
    expect(dev.props.totalMemory).to.be.above(1 << 30);
    expect(dev.props.smCount).to.be.above(0);
  });

  it("allocates and copies host->device->device->host, and zero-fills", () => {
    const n = 1000;
    const src = Float32Array.from({ length: n }, (_, i) => i * 1.5);
    const a = dev.allocZeroed(n * 4);
    const b = dev.allocZeroed(n * 4);
    const zeros = new Float32Array(n).fill(7);
    dev.download(zeros, b.ptr);
    expect(zeros.every((v) => v === 0)).to.equal(true);
    dev.upload(a.ptr, src);
    dev.copy(b.ptr, a.ptr, n * 4);
    const back = new Float32Array(n);
    dev.download(back, b.ptr);
    expect(Array.from(back)).to.deep.equal(Array.from(src));
    // Synchronous variants of the same bindings.
    const sync = new Float32Array(n);
    dev.cu.cuMemcpyDtoH(sync, a.ptr);
    expect(sync[999]).to.equal(999 * 1.5);
    dev.allocator.free(a);
    dev.allocator.free(b);
  });

  for (const dtype of DTYPES) {
    it(`NDArray ${dtype} on gpu(0): set/toArray, bytes, copyTo every context and back`, () => {
      const vals = sample(dtype, 257);
      const g = new NDArray([257], dtype, gpu(0)).set(vals);
      expect(g.toArray()).to.deep.equal(vals);
      const bytes = g.toBytes();
      expect(Array.from(new NDArray([257], dtype, gpu(0)).setBytes(bytes).toBytes())).to.deep.equal(Array.from(bytes));
      expect(g.copyTo(cpu()).toArray()).to.deep.equal(vals);
      expect(g.copyTo(reference()).toArray()).to.deep.equal(vals);
      expect(g.copyTo(gpu(0)).toArray()).to.deep.equal(vals);
      expect(new NDArray([257], dtype).set(vals).copyTo(gpu(0)).toArray()).to.deep.equal(vals);
      expect(new NDArray([257], dtype, reference()).set(vals).copyTo(gpu(0)).toArray()).to.deep.equal(vals);
      expect(g.copyTo(new NDArray([257], "float64", gpu(0))).toArray()).to.deep.equal(vals);
      g.dispose();
      expect(() => g.devicePointer()).to.throw(/after dispose/);
    });
  }

  it("new gpu arrays are zeros (nd.zeros relies on it)", () => {
    const a = new NDArray([3, 5], "float32", gpu(0)).set(9);
    a.dispose();
    const b = new NDArray([3, 5], "float32", gpu(0)); // likely the same block, reused
    expect(b.toArray().every((v) => v === 0)).to.equal(true);
  });

  it("NVRTC compiles vector_add to CUBIN (or PTX), caches it, and the launch adds", () => {
    const m = compile("vector_add.cu");
    const supported = cuda.status().nvrtc.cubinArchs.includes(dev.props.computeCapability[0] * 10 + dev.props.computeCapability[1]);
    expect(m.image.kind).to.equal(supported ? "cubin" : "ptx");
    expect(compile("vector_add.cu").image.hit).to.equal("memory");
    const n = 100_003;
    const a = new NDArray([n], "float32", gpu(0)).set(Array.from({ length: n }, (_, i) => i));
    const b = new NDArray([n], "float32", gpu(0)).set(Array.from({ length: n }, (_, i) => 2 * i));
    const out = new NDArray([n], "float32", gpu(0));
    m.getFunction("vector_add", ["ptr", "ptr", "ptr", "int64"]).launch({ grid: 120, block: 256 }, [a, b, out, n]);
    const got = out.toArray();
    for (const i of [0, 1, 4097, n - 1]) expect(got[i]).to.equal(3 * i);
  });

  it("a second process finds the CUBIN in the disk cache and runs no NVRTC", () => {
    compile("vector_add.cu");
    const child = runChild(
      `import { cuda } from ${JSON.stringify(moduleUrl("runtime/cuda/index.js"))};
       import { defaultKernelCache } from ${JSON.stringify(moduleUrl("runtime/cache/kernel_cache.js"))};
       import { readFileSync } from "node:fs";
       const m = cuda.compile(readFileSync(${JSON.stringify(fixturePath("cuda", "vector_add.cu"))}, "utf8"));
       console.log(JSON.stringify({ hit: m.image.hit, builds: defaultKernelCache().stats.builds }));`,
      { KILN_CACHE_DIR: cacheDir },
    );
    expect(child).to.deep.equal({ hit: "disk", builds: 0 });
  });

  it("PTX images load and run too (the driver JITs them)", () => {
    const m = compile("vector_add.cu", { ptx: true });
    expect(m.image.kind).to.equal("ptx");
    const a = new NDArray([4], "float32", gpu(0)).set([1, 2, 3, 4]);
    const out = new NDArray([4], "float32", gpu(0));
    m.getFunction("vector_add", ["ptr", "ptr", "ptr", "int64"]).launch({ grid: 1, block: 32 }, [a, a, out, 4]);
    expect(out.toArray()).to.deep.equal([2, 4, 6, 8]);
  });

  it("a reduction with shared memory and warp shuffles sums exactly", () => {
    const m = compile("reduce_sum.cu");
    const n = 1 << 20;
    const vals = Array.from({ length: n }, (_, i) => (i % 11) - 5);
    const want = vals.reduce((s, v) => s + v, 0);
    const input = new NDArray([n], "float32", gpu(0)).set(vals);
    const out = new NDArray([1], "float32", gpu(0));
    const block = 256;
    m.getFunction("reduce_sum", ["ptr", "ptr", "int32"]).launch({ grid: 4 * dev.props.smCount, block, sharedBytes: (block / 32) * 4 }, [input, out, n]);
    expect(out.asScalar()).to.equal(want);
  });

  it("scalar arguments of every dtype arrive intact", () => {
    const m = compile("scalar_args.cu");
    const out = new NDArray([8], "float64", gpu(0));
    m.getFunction("scalar_args", ["ptr", "float32", "float64", "int32", "int64", "uint8", "int8", "float16", "int32"]).launch(
      { grid: 1, block: 1 },
      [out, 1.25, Math.PI, -123456, 2 ** 40 + 3, 250, -100, -0.1, 7],
    );
    expect(out.toArray()).to.deep.equal([1.25, Math.PI, -123456, 2 ** 40 + 3, 250, -100, -0.0999755859375, 7]);
  });

  it("a compile error throws with NVRTC's log and the saved source's path", () => {
    const bad = `extern "C" __global__ void broken(float* x) { x[0] = undeclared_thing_q; }\n`;
    let err: unknown;
    try {
      compileCuda(bad, dev.props.computeCapability, { cache });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(CudaCompileError);
    const e = err as CudaCompileError;
    expect(e.log).to.include("undeclared_thing_q");
    expect(e.message).to.include(e.sourcePath).and.include("NVRTC_ERROR_COMPILATION");
  });

  it("driver failures name the call, the code and its name", () => {
    const m = compile("vector_add.cu");
    const k = m.getFunction("vector_add", ["ptr", "ptr", "ptr", "int64"]);
    const a = new NDArray([1], "float32", gpu(0));
    let err: unknown;
    try {
      k.launch({ grid: 1, block: 4096 }, [a, a, a, 1]); // more threads than a block may have
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(CudaError);
    expect((err as CudaError).call).to.equal("cuLaunchKernel");
    expect((err as CudaError).codeName).to.equal("CUDA_ERROR_INVALID_VALUE");
    expect((err as CudaError).message).to.match(/cuLaunchKernel failed: CUDA_ERROR_INVALID_VALUE \(1\)/);
    expect(() => m.getFunction("no_such_kernel", ["ptr"])).to.throw(CudaError, /cuModuleGetFunction\("no_such_kernel"\).*CUDA_ERROR_NOT_FOUND/);
  });

  it("events time device work", () => {
    const m = compile("vector_add.cu");
    const n = 1 << 22;
    const a = new NDArray([n], "float32", gpu(0));
    const k = m.getFunction("vector_add", ["ptr", "ptr", "ptr", "int64"]);
    const ms = cuda.time(() => {
      for (let i = 0; i < 10; i++) k.launch({ grid: 4 * dev.props.smCount, block: 256 }, [a, a, a, n]);
    });
    expect(ms).to.be.above(0).and.below(10_000);
    const e1 = cuda.event().record();
    const e2 = cuda.event().record();
    expect(e2.elapsedSince(e1)).to.be.at.least(0);
    e1.destroy();
    e2.destroy();
  });

  it("captures launches into a graph and replays them with new input values", () => {
    const m = compile("vector_add.cu");
    const k = m.getFunction("vector_add", ["ptr", "ptr", "ptr", "int64"]);
    const n = 4096;
    const a = new NDArray([n], "float32", gpu(0)).set(1);
    const b = new NDArray([n], "float32", gpu(0)).set(2);
    const t = new NDArray([n], "float32", gpu(0));
    const out = new NDArray([n], "float32", gpu(0));
    dev.synchronize();
    const graph = cuda.capture(() => {
      k.launch({ grid: 16, block: 256 }, [a, b, t, n]); // t = a + b
      k.launch({ grid: 16, block: 256 }, [t, t, out, n]); // out = 2t
    });
    expect(out.toArray()[0]).to.equal(0); // nothing ran during capture
    graph.launch();
    expect(out.toArray()[n - 1]).to.equal(6);
    a.set(10);
    graph.launch();
    graph.launch();
    expect(out.toArray()[7]).to.equal(24);
    graph.destroy();
    expect(() => graph.launch()).to.throw(/after destroy/);
  });

  it("the allocator reuses freed blocks and empties its cache on request", () => {
    cuda.synchronize();
    const before = dev.allocator.stats;
    const x = new NDArray([1 << 20], "float32", gpu(0));
    const p = x.devicePointer();
    x.dispose();
    const y = new NDArray([1 << 20], "float32", gpu(0));
    expect(y.devicePointer()).to.equal(p);
    const after = dev.allocator.stats;
    expect(after.reuses).to.be.above(before.reuses);
    expect(after.peakBytes).to.be.at.least(4 << 20);
    y.dispose();
    cuda.emptyCache();
    expect(dev.allocator.stats.cachedBytes).to.equal(0);
    expect(dev.allocator.stats.reservedBytes).to.equal(dev.allocator.stats.currentBytes);
  });

  it("out of memory says how much was asked and what is free", () => {
    expect(() => dev.allocator.alloc(2 ** 50)).to.throw(KilnError, /gpu\(0\): out of memory allocating .* MiB free of/);
  });
});
