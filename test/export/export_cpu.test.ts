/**
 * Exporting the shared MNIST models for cpu: the folder builds with the system toolchain (make,
 * else cmake, else the compiler directly), its example program run on fixed inputs gives the
 * compiled executor's outputs (the executor's own -O3 -march=native build against the export's
 * portable -O2: within 1e-5 relative), and the generated TypeScript wrapper gives them too
 * through Kiln's kernel cache. The C runtime refuses mismatched or damaged files with messages
 * that name them.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { sym, cpu, NDArray } from "../../index.js";
import { exportModel, loadExportedModel, readScheduleFile, ExportResult } from "../../runtime/export/index.js";
import { MODELS, SharedModel, KILN_MODULE, buildExport, executorOutputs, expectClose, has, paramsPath, run, runExample, seededInput, symbolPath, tempDir } from "./helpers.js";

interface Built {
  result: ExportResult;
  example: string;
  input: Float32Array;
  want: number[];
}

describe("export: cpu", function () {
  this.timeout(180000);
  const root = tempDir("cpu");
  const built = new Map<string, Built>();
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  const setup = async (m: SharedModel): Promise<Built> => {
    const have = built.get(m.name);
    if (have) return have;
    const dir = path.join(root, m.name);
    const result = await exportModel(symbolPath(m), { shapes: { data: [m.batch, 1, 28, 28] }, params: paramsPath(m), target: "cpu", out: dir, kilnModule: KILN_MODULE });
    const example = buildExport(dir);
    const input = seededInput(m.batch * 784, 11 + m.batch);
    const b = { result, example, input, want: executorOutputs(m, input) };
    built.set(m.name, b);
    return b;
  };

  for (const m of MODELS) {
    it(`${m.name}: the built example matches the compiled executor (1e-5 relative)`, async () => {
      const b = await setup(m);
      expect(b.result.inputs).to.deep.equal([{ name: "data", dtype: "float32", shape: [m.batch, 1, 28, 28] }]);
      expect(b.result.outputs[0].shape).to.deep.equal([m.batch, 10]);
      expect(b.result.weights.length).to.equal(8);
      for (const f of ["kernels.cpp", "kernel_table.cpp", "schedule.txt", "weights.bin", "kiln_model.h", "kiln_model.c", "example.c", "Makefile", "CMakeLists.txt", "model.ts", "model.js", "model.d.ts", "README.md"])
        expect(fs.existsSync(path.join(b.result.dir, f)), f).to.equal(true);
      const { outputs, stdout } = runExample(b.example, b.result.dir, [b.input]);
      expectClose(outputs, b.want, 1e-5, `${m.name} example`);
      expect(stdout).to.include(`output 0 ${b.result.outputs[0].name} float32 (${m.batch},10)`);
      // The schedule on disk is what the export reported.
      const s = readScheduleFile(path.join(b.result.dir, "schedule.txt"));
      expect(s.steps.length).to.equal(b.result.steps);
      expect(s.weights.map((w) => w.name)).to.deep.equal(b.result.weights.map((w) => w.name));
    });

    it(`${m.name}: the TypeScript wrapper gives the executor's outputs`, async () => {
      const b = await setup(m);
      const wrapper = (await import(new URL(`file://${path.join(b.result.dir, "model.js")}`).href)) as {
        load(dir?: string): { run(i: { data: Float32Array }): Record<string, Float32Array>; dispose(): void; outputShapes: Record<string, readonly number[]> };
        outputNames: readonly string[];
        inputShapes: Record<string, readonly number[]>;
      };
      expect(wrapper.inputShapes.data).to.deep.equal([m.batch, 1, 28, 28]);
      const model = wrapper.load();
      const out = model.run({ data: b.input });
      expect(Object.keys(out)).to.deep.equal([...wrapper.outputNames]);
      // Same source, same compiler flags as the executor: equal up to rounding noise.
      expectClose(out[wrapper.outputNames[0]], b.want, 1e-6, `${m.name} wrapper`);
      model.dispose();
    });
  }

  it("builds with cmake as well, to the same outputs", async function () {
    if (!has("cmake")) this.skip();
    const b = await setup(MODELS[0]);
    const dir = b.result.dir;
    for (const args of [["-S", ".", "-B", "cmake-build", "-DCMAKE_BUILD_TYPE=Release"], ["--build", "cmake-build", "-j", "2"]]) {
      const r = run("cmake", args, { cwd: dir });
      expect(r.status, `cmake ${args.join(" ")}\n${r.stdout}\n${r.stderr}`).to.equal(0);
    }
    const { outputs } = runExample(path.join(dir, "cmake-build", "example"), dir, [b.input]);
    expectClose(outputs, b.want, 1e-5, "cmake example");
  });

  it("the wrapper's types: names, shapes and dtypes are literal types; a wrong array type does not compile", async () => {
    const b = await setup(MODELS[0]);
    const { Project } = await import("ts-morph");
    const project = new Project({ useInMemoryFileSystem: true, compilerOptions: { strict: true, target: 9 /* ES2022 */, module: 7 /* ES2022 */, noEmit: true } });
    // The Kiln import is stubbed: this checks the wrapper's own declarations.
    project.createSourceFile("/model.ts", fs.readFileSync(path.join(b.result.dir, "model.ts"), "utf8").replace(/from "[^"]*runtime\/export\/index\.js"/, 'from "./stub"').replace('from "node:url"', 'from "./url"'));
    project.createSourceFile("/stub.ts", "export function loadExportedModel(dir: string, o: object): { run(i: Record<string, ArrayBufferView>): Record<string, unknown>; dispose(): void } { throw new Error(dir + String(o)); }");
    project.createSourceFile("/url.ts", "export function fileURLToPath(u: unknown): string { return String(u); }");
    const out = b.result.outputs[0].name;
    project.createSourceFile(
      "/good.ts",
      `import { load, inputShapes, outputShapes, outputNames, type Inputs } from "./model";
       const batch: 4 = inputShapes.data[0];
       const classes: 10 = outputShapes.${out}[1];
       const name: "${out}" = outputNames[0];
       const inputs: Inputs = { data: new Float32Array(3136) };
       const scores: Float32Array = load("x").run(inputs).${out};
       export { batch, classes, name, scores };`,
    );
    project.createSourceFile("/bad.ts", `import type { Inputs } from "./model";\nexport const inputs: Inputs = { data: new Float64Array(3136) };`);
    type Chain = { getMessageText(): string; getNext(): Chain[] | undefined };
    const flatten = (t: string | Chain): string => (typeof t === "string" ? t : [t.getMessageText(), ...(t.getNext() ?? []).map(flatten)].join(" "));
    const errors = (file: string): string[] => project.getSourceFileOrThrow(file).getPreEmitDiagnostics().map((d) => flatten(d.getMessageText()));
    expect(errors("/good.ts")).to.deep.equal([]);
    expect(errors("/model.ts")).to.deep.equal([]);
    expect(errors("/bad.ts").join("\n")).to.match(/Float64Array/);
  });

  it("the C runtime refuses a damaged weights file and a schedule of another export, naming them", async () => {
    const mn = await setup(MODELS[0]);
    const le = await setup(MODELS[1]);
    const dir = path.join(root, "damaged");
    fs.mkdirSync(dir, { recursive: true });
    // mnist's library with lenet's schedule and weights: the kernels do not match.
    fs.copyFileSync(path.join(le.result.dir, "schedule.txt"), path.join(dir, "schedule.txt"));
    fs.copyFileSync(path.join(le.result.dir, "weights.bin"), path.join(dir, "weights.bin"));
    let r = run(mn.example, ["-m", dir]);
    expect(r.status).to.equal(1);
    expect(r.stderr).to.include(`${dir}/schedule.txt was exported with kernels`).and.include("rebuild from the same export");
    // mnist's schedule with a truncated weights file.
    fs.copyFileSync(path.join(mn.result.dir, "schedule.txt"), path.join(dir, "schedule.txt"));
    const weights = fs.readFileSync(path.join(mn.result.dir, "weights.bin"));
    fs.writeFileSync(path.join(dir, "weights.bin"), weights.subarray(0, weights.length - 100));
    r = run(mn.example, ["-m", dir]);
    expect(r.status).to.equal(1);
    expect(r.stderr).to.include(`${dir}/weights.bin`).and.include("runs past the end of the file");
    // lenet's weights under mnist's schedule: names differ.
    fs.copyFileSync(path.join(le.result.dir, "weights.bin"), path.join(dir, "weights.bin"));
    r = run(mn.example, ["-m", dir]);
    expect(r.stderr).to.include("no weight named hybridsequential9_conv0_weight");
    // A schedule cut short.
    fs.copyFileSync(path.join(mn.result.dir, "weights.bin"), path.join(dir, "weights.bin"));
    const text = fs.readFileSync(path.join(mn.result.dir, "schedule.txt"), "utf8");
    fs.writeFileSync(path.join(dir, "schedule.txt"), text.slice(0, text.indexOf("steps ")));
    r = run(mn.example, ["-m", dir]);
    expect(r.stderr).to.include("no `end` record");
    fs.writeFileSync(path.join(dir, "schedule.txt"), text.replace(/step 1 (\d+) 2 a0/, "step 1 $1 2 x0"));
    r = run(mn.example, ["-m", dir]);
    expect(r.stderr).to.match(/schedule\.txt:\d+: bad ref x0/);
    // The input file must have the input's size.
    fs.writeFileSync(path.join(dir, "short.raw"), new Uint8Array(10));
    r = run(mn.example, ["-m", mn.result.dir, path.join(dir, "short.raw")]);
    expect(r.stderr).to.include("wrong size (expected 12544 bytes)");
  });

  it("a Symbol with BatchNorm aux states and an unused label, weights as { argParams, auxParams }", async () => {
    const data = sym.Variable("data");
    const conv = sym.Convolution({ data, num_filter: 4, kernel: [3, 3], name: "c1" });
    const bn = sym.BatchNorm({ data: conv, fix_gamma: false, name: "bn1" });
    const fc = sym.FullyConnected({ data: sym.Activation({ data: bn, act_type: "relu" }), num_hidden: 5, name: "fc" });
    const net = sym.SoftmaxOutput({ data: fc, name: "softmax" });
    const shapes = { data: [2, 3, 6, 6], softmax_label: [2] };
    const [argShapes, , auxShapes] = net.inferShape(shapes);
    const fill = (shape: readonly number[], seed: number, lo: number, hi: number): NDArray => {
      const v = seededInput(shape.reduce((a, b) => a * b, 1), seed).map((x) => lo + (hi - lo) * x);
      return new NDArray([...shape]).set(v);
    };
    const argParams: Record<string, NDArray> = {};
    const auxParams: Record<string, NDArray> = {};
    net.listArguments().forEach((n, i) => n !== "data" && n !== "softmax_label" && (argParams[n] = fill(argShapes[i], 100 + i, -0.5, 0.5)));
    net.listAuxiliaryStates().forEach((n, i) => (auxParams[n] = fill(auxShapes[i], 200 + i, n.endsWith("var") ? 0.5 : -0.2, n.endsWith("var") ? 1.5 : 0.2)));
    const r = await exportModel(net, { shapes, params: { argParams, auxParams }, target: "cpu", out: path.join(root, "bn"), kilnModule: KILN_MODULE, name: "bn-net" });
    expect(r.inputs.map((t) => t.name)).to.deep.equal(["data"]);
    expect(r.notes.join("\n")).to.include("left out: softmax_label");
    expect(r.weights.map((w) => w.name)).to.include.members(["bn1_moving_mean", "bn1_moving_var", "bn1_gamma"]);
    const input = seededInput(2 * 3 * 36, 3);
    const exe = net.bind({ ctx: cpu(), args: { ...argParams, data: new NDArray([2, 3, 6, 6]).set(input), softmax_label: new NDArray([2]) }, auxStates: auxParams, gradReq: "null" });
    exe.forward(false);
    const model = loadExportedModel(r.dir);
    expectClose(model.run({ data: input })["softmax_output"] as Float32Array, exe.outputs[0].toArray(), 1e-6, "bn-net");
  });

  it("the TypeScript loader checks its inputs and the kernels' source", async () => {
    const b = await setup(MODELS[0]);
    const model = loadExportedModel(b.result.dir);
    expect(() => model.run({ data: new Float64Array(3136) })).to.throw("input data must be a Float32Array (float32), got Float64Array");
    expect(() => model.run({ data: new Float32Array(10) })).to.throw("input data has 10 values; float32(4,1,28,28) needs 3136");
    expect(() => model.run({})).to.throw("input data (float32(4,1,28,28)) is missing");
    expect(() => model.run({ data: b.input, label: b.input })).to.throw("unknown input label");
    const dir = path.join(root, "edited");
    fs.cpSync(b.result.dir, dir, { recursive: true });
    fs.appendFileSync(path.join(dir, "kernels.cpp"), "\n// edited\n");
    expect(() => loadExportedModel(dir)).to.throw("kernels.cpp does not match schedule.txt");
  });
});
