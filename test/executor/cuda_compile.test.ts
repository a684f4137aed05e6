/**
 * The CUDA path without a GPU: the programs the compiled executor would run on gpu() for the
 * seed networks and shared models (forward and backward, fused) are rendered as CUDA and
 * compiled by nvcc for sm_90 and sm_80; ptxas must report no local-memory spills for the
 * elementwise (map) and reduction kernels. Skipped without nvcc. (With a GPU, the executor
 * tests run on gpu() through the same modules via NVRTC.)
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sym, withNameManager } from "../../index.js";
import type { Kernel } from "../../compiler/ir/kernel.js";
import { renderModule } from "../../compiler/codegen/index.js";
import { compileSymbol } from "../../runtime/executor/compile_symbol.js";
import { smallClassifier, stackedLSTM, regressionLoss } from "../../examples/seed_networks.js";
import { MODELS_DIR } from "../helpers/paths.js";

function findNvcc(): string | undefined {
  if (spawnSync("nvcc", ["--version"], { encoding: "utf8" }).status === 0) return "nvcc";
  const dirs = fs.existsSync("/usr/local") ? fs.readdirSync("/usr/local").filter((d) => /^cuda/.test(d)).sort().reverse() : [];
  for (const d of dirs) {
    const p = path.join("/usr/local", d, "bin", "nvcc");
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

function run(cmd: string, args: string[]): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args);
    let output = "";
    p.stdout.on("data", (d) => (output += d));
    p.stderr.on("data", (d) => (output += d));
    p.on("close", (status) => resolve({ status, output }));
  });
}

/** The distinct kernels of the programs gpu() executors would compile for these graphs. */
function programKernels(): Kernel[] {
  const out = new Map<string, Kernel>();
  const add = (kernels: readonly Kernel[]): void => kernels.forEach((k) => out.set(k.name, k));
  withNameManager(() => {
    const model = (n: string) => sym.fromJSON(readFileSync(join(MODELS_DIR, `${n}-symbol.json`), "utf8"));
    add(compileSymbol(smallClassifier(), { shapes: { data: [8, 3, 80, 80] }, isTrain: true }).program.kernels);
    add(compileSymbol(smallClassifier(), { shapes: { data: [8, 3, 80, 80] } }).program.kernels);
    add(compileSymbol(stackedLSTM({ seqLen: 4, numHidden: 32 }), { shapes: { audio_data: [8, 4, 16] }, isTrain: true }).program.kernels);
    add(compileSymbol(regressionLoss(), { shapes: { data: [8, 7], label: [8, 1] }, isTrain: true }).program.kernels);
    for (const n of ["mnist", "lenet", "2-layer-mlp"]) add(compileSymbol(model(n), { shapes: { data: n === "2-layer-mlp" ? [2, 3, 224, 224] : [64, 1, 28, 28] } }).program.kernels);
    add(compileSymbol(model("resnet-18"), { shapes: { data: [4, 3, 64, 64] }, isTrain: true }).program.kernels);
    add(compileSymbol(model("resnet-18"), { shapes: { data: [4, 3, 224, 224] } }).program.kernels);
  });
  return [...out.values()];
}

describe("compiled executor: CUDA programs compiled by nvcc (no GPU needed)", function () {
  this.timeout(300000);
  const results = new Map<string, { status: number | null; output: string }>();
  let kernels: Kernel[] = [];

  before(async function () {
    const cmd = findNvcc();
    if (!cmd) {
      console.log("      skipped: no nvcc");
      this.skip();
    }
    kernels = programKernels();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-pl-cuda-"));
    try {
      const src = path.join(dir, "program.cu");
      fs.writeFileSync(src, renderModule(kernels, "cuda").source);
      await Promise.all(
        ["sm_90", "sm_80"].map(async (arch) =>
          results.set(arch, await run(cmd!, ["-cubin", `-arch=${arch}`, "-std=c++17", "-Xptxas", "-v", "-o", path.join(dir, `${arch}.cubin`), src])),
        ),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const arch of ["sm_90", "sm_80"]) {
    it(`every kernel compiles for ${arch}`, () => {
      const r = results.get(arch)!;
      expect(r.status, r.output.split("\n").filter((l) => /error/.test(l)).slice(0, 10).join("\n")).to.equal(0);
    });
  }

  it("elementwise and reduction kernels do not spill to local memory (sm_90)", () => {
    const out = results.get("sm_90")!.output;
    const spilled: string[] = [];
    let fn: string | undefined;
    for (const line of out.split("\n")) {
      const f = /Function properties for (\w+)/.exec(line);
      if (f) fn = f[1];
      const s = /(\d+) bytes spill stores, (\d+) bytes spill loads/.exec(line);
      if (s && fn) {
        if (Number(s[1]) + Number(s[2]) > 0) spilled.push(fn);
        fn = undefined;
      }
    }
    const families = new Map(kernels.map((k) => [k.name, k.stage.body.kind]));
    expect(spilled.filter((n) => families.get(n) === "map" || families.get(n) === "reduce")).to.deep.equal([]);
    expect(kernels.length).to.be.greaterThan(100);
  });
});
