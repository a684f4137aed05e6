/**
 * Exporting for cuda. Without a GPU: the kernels compile with nvcc to CUBIN (sm_90) and PTX
 * (skipped without nvcc); the host runtime builds with no CUDA toolkit at all (the driver is
 * opened at run time) and, against the test double of the driver (test/fixtures/fake_cuda),
 * gets as far as loading the kernel images, whose rejection it reports by file name. With a GPU
 * (cuda.isAvailable()), the example and the TypeScript wrapper run the shared MNIST model and
 * agree with the compiled executor on cpu().
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { cuda } from "../../index.js";
import { exportModel, parseSchedule, ExportResult } from "../../runtime/export/index.js";
import { findNvcc } from "../../runtime/export/cuda_images.js";
import { REPO_ROOT } from "../helpers/paths.js";
import { MODELS, KILN_MODULE, buildExport, executorOutputs, expectClose, has, paramsPath, run, runExample, seededInput, symbolPath, tempDir } from "./helpers.js";

describe("export: cuda", function () {
  this.timeout(180000);
  const root = tempDir("cuda");
  const nvcc = findNvcc();
  const m = MODELS[0];
  let result: ExportResult | undefined;
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  const exported = async (): Promise<ExportResult> =>
    (result ??= await exportModel(symbolPath(m), {
      shapes: { data: [m.batch, 1, 28, 28] },
      params: paramsPath(m),
      target: "cuda",
      out: path.join(root, "mnist"),
      archs: ["sm_90"],
      kilnModule: KILN_MODULE,
    }));

  it("writes kernels.cu and a schedule with a launch shape for every kernel", async () => {
    const r = await exported();
    const s = parseSchedule(fs.readFileSync(path.join(r.dir, "schedule.txt"), "utf8"));
    expect(s.target).to.equal("cuda");
    for (const k of s.kernels) {
      expect(k.launch, k.name).to.not.equal(undefined);
      expect(k.launch!.grid[0] * k.launch!.block[0], k.name).to.be.greaterThan(0);
    }
    expect(fs.readFileSync(path.join(r.dir, "kernels.cu"), "utf8")).to.include('extern "C" __global__');
  });

  it("compiles the kernels with nvcc to CUBIN for sm_90 and PTX", async function () {
    if (!nvcc) this.skip();
    const r = await exported();
    expect(r.images.map((i) => i.file)).to.deep.equal(["kernels.sm_90.cubin", "kernels.compute_90.ptx"]);
    const cubin = fs.readFileSync(path.join(r.dir, "kernels.sm_90.cubin"));
    expect(cubin.subarray(0, 4).toString("latin1")).to.equal("\x7fELF");
    const ptx = fs.readFileSync(path.join(r.dir, "kernels.compute_90.ptx"), "utf8");
    expect(ptx).to.match(/\.target sm_90/);
    for (const k of parseSchedule(fs.readFileSync(path.join(r.dir, "schedule.txt"), "utf8")).kernels) expect(ptx, k.name).to.include(`.entry ${k.name}(`);
  });

  it("without nvcc, says how to make the images", async () => {
    const r = await exportModel(symbolPath(m), { shapes: { data: [1, 1, 28, 28] }, params: paramsPath(m), target: "cuda", out: path.join(root, "no-nvcc"), nvcc: false, kilnModule: KILN_MODULE });
    if (r.images.length === 0) expect(r.notes.join("\n")).to.include("`make images`");
    else expect(r.images.every((i) => i.compiler === "NVRTC")).to.equal(true);
    expect(fs.readFileSync(path.join(r.dir, "Makefile"), "utf8")).to.include("kernels.sm_%.cubin: kernels.cu");
  });

  it("the host runtime builds without CUDA and reports a driver that rejects the images, by file", async function () {
    const cc = has("cc") ? "cc" : has("gcc") ? "gcc" : undefined;
    if (!cc) this.skip();
    const r = await exported();
    const example = buildExport(r.dir, true);
    const fake = path.join(root, "libcuda-fake.so");
    const b = run(cc, ["-shared", "-fPIC", "-O1", "-o", fake, path.join(REPO_ROOT, "test/fixtures/fake_cuda/fake_libcuda.c"), "-lm"]);
    expect(b.status, b.stderr).to.equal(0);
    const env = { ...process.env, KILN_CUDA_PATH: fake };
    const res = run(example, ["-m", r.dir], { env });
    expect(res.status).to.equal(1);
    // The double reports compute capability 9.0 and accepts only its own images.
    if (nvcc) expect(res.stderr).to.include("cuModuleLoadData rejected every kernel image for sm_90").and.include(`${r.dir}/kernels.sm_90.cubin`);
    else expect(res.stderr).to.include("has no kernel image for this GPU (sm_90)").and.include("make images ARCHS=90");
  });

  it("on a GPU: the example and the wrapper agree with the compiled executor on cpu()", async function () {
    if (!cuda.isAvailable() || !nvcc) this.skip();
    const [major, minor] = cuda.device(0).props.computeCapability;
    const r = await exportModel(symbolPath(m), {
      shapes: { data: [m.batch, 1, 28, 28] },
      params: paramsPath(m),
      target: "cuda",
      out: path.join(root, "gpu"),
      archs: [`sm_${major}${minor}`],
      kilnModule: KILN_MODULE,
    });
    const example = buildExport(r.dir, true);
    const input = seededInput(m.batch * 784, 5);
    const want = executorOutputs(m, input);
    expectClose(runExample(example, r.dir, [input]).outputs, want, 1e-4, "cuda example");
    const wrapper = (await import(new URL(`file://${path.join(r.dir, "model.js")}`).href)) as {
      load(dir?: string): { run(i: { data: Float32Array }): Record<string, Float32Array>; dispose(): void };
      outputNames: readonly string[];
    };
    const model = wrapper.load();
    expectClose(model.run({ data: input })[wrapper.outputNames[0]], want, 1e-4, "cuda wrapper");
    model.dispose();
  });
});
