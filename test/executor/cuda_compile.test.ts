/**
 * The CUDA path without a GPU: the programs the compiled executor would run on gpu() for the
 * seed networks and shared models (forward and backward, fused) are rendered as CUDA and
 * compiled by nvcc for sm_90 and sm_80; ptxas must report no local-memory spills for the
 * elementwise (map), reduction and scatter kernels (GEMM/convolution kernels' spills are
 * reported, not failed: that family's schedules are tuned separately). Skipped without nvcc.
 * (With a GPU, the executor tests run on gpu() through the same modules via NVRTC.)
 *
 * Graphs: small configurations of the seed networks and models (all kernels), and every shared
 * model file and seed network at its usual input (model_graphs.ts): their elementwise,
 * reduction and scatter kernels for inference, and for training one such kernel per code shape
 * (the CUDA source with its numbers blanked) not already covered. KILN_SLOW_TESTS=1 compiles
 * every kernel of the usual-size programs, GEMM/convolution included (~2,700 kernels, minutes of
 * nvcc per architecture on a small machine): that is where shape-dependent register
 * allocation shows.
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
import { prepare } from "../../compiler/codegen/prepare.js";
import { findContraction } from "../../compiler/codegen/contraction.js";
import { accumulatorType } from "../../compiler/codegen/gemm.js";
import { TARGETS } from "../../compiler/codegen/targets.js";
import { sharedModelGraphs, seedNetworkGraphs } from "./model_graphs.js";

const SLOW = process.env.KILN_SLOW_TESTS === "1";

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

/** The family renderModule picks for a kernel on CUDA (index.ts): a reduce that is a contraction with a GEMM schedule is "gemm". */
function family(k: Kernel): "map" | "reduce" | "scatter" | "gemm" {
  const kind = k.stage.body.kind;
  if (kind !== "reduce") return kind;
  const p = prepare(k, TARGETS.cuda, false);
  const c = findContraction(p);
  return c && TARGETS.cuda.gemmSchedule({ batch: c.B, m: c.M, n: c.N, k: c.K, acc: accumulatorType(p), tf32: false }) ? "gemm" : "reduce";
}

/** The kernel's CUDA code with its name and every number blanked: kernels equal under it differ only in constants. */
function codeShape(k: Kernel): string {
  const src = renderModule([k], "cuda").source;
  return src.slice(src.indexOf("// kernel ")).split(k.name).join("K").replace(/\b\d+(\.\d+)?(e[-+]?\d+)?[fuUlL]*\b/g, "#");
}

/** The distinct kernels of the programs gpu() executors would compile for these graphs. */
function programKernels(): Kernel[] {
  const out = new Map<string, Kernel>();
  const add = (kernels: readonly Kernel[]): void => kernels.forEach((k) => out.set(k.name, k));
  const shapes = new Set<string>();
  /** GEMM kernels of the usual-size graphs only with KILN_SLOW_TESTS=1: they are most of nvcc's time. */
  const wanted = (k: Kernel): boolean => SLOW || family(k) !== "gemm";
  /** Kernels of a code shape not seen yet (all of them with KILN_SLOW_TESTS=1). */
  const addNewShapes = (kernels: readonly Kernel[]): void => {
    for (const k of kernels) {
      if (out.has(k.name) || !wanted(k)) continue;
      const shape = codeShape(k);
      if (SLOW || !shapes.has(shape)) out.set(k.name, k);
      shapes.add(shape);
    }
  };
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
  const usual = [...sharedModelGraphs(), ...seedNetworkGraphs()];
  for (const g of usual) add(compileSymbol(g.symbol(), { shapes: g.shapes }).program.kernels.filter(wanted));
  for (const k of out.values()) shapes.add(codeShape(k));
  for (const g of usual) addNewShapes(compileSymbol(g.symbol(), { shapes: g.shapes, isTrain: true }).program.kernels);
  return [...out.values()];
}

describe("compiled executor: CUDA programs compiled by nvcc (no GPU needed)", function () {
  this.timeout(SLOW ? 3600000 : 300000);
  const results = new Map<string, { status: number | null; output: string }>();
  let kernels: Kernel[] = [];

  before(async function () {
    const cmd = findNvcc();
    if (!cmd) {
      console.log("      skipped: no nvcc");
      this.skip();
    }
    const t0 = performance.now();
    kernels = programKernels();
    const t1 = performance.now();
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
    if (process.env.KILN_TEST_VERBOSE)
      console.log(`      ${kernels.length} kernels: compiled and rendered in ${((t1 - t0) / 1000).toFixed(1)} s, nvcc (both archs at once) ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  });

  for (const arch of ["sm_90", "sm_80"]) {
    it(`every kernel compiles for ${arch}`, () => {
      const r = results.get(arch)!;
      expect(r.status, r.output.split("\n").filter((l) => /error/.test(l)).slice(0, 10).join("\n")).to.equal(0);
    });
  }

  /** Kernels with spill stores or loads in ptxas's report for `arch`. */
  function spilled(arch: string): string[] {
    const out: string[] = [];
    let fn: string | undefined;
    for (const line of results.get(arch)!.output.split("\n")) {
      const f = /Function properties for (\w+)/.exec(line);
      if (f) fn = f[1];
      const s = /(\d+) bytes spill stores, (\d+) bytes spill loads/.exec(line);
      if (s && fn) {
        if (Number(s[1]) + Number(s[2]) > 0) out.push(fn);
        fn = undefined;
      }
    }
    return out;
  }

  for (const arch of ["sm_90", "sm_80"]) {
    it(`elementwise, reduction and scatter kernels do not spill to local memory (${arch}); GEMM spills are reported`, () => {
      expect(kernels.length).to.be.greaterThan(100);
      const families = new Map(kernels.map((k) => [k.name, family(k)]));
      const count = (f: string): number => [...families.values()].filter((x) => x === f).length;
      const byFamily = (f: string): string[] => spilled(arch).filter((n) => families.get(n) === f);
      const gemm = byFamily("gemm");
      if (process.env.KILN_TEST_VERBOSE || gemm.length)
        console.log(
          `      ${arch}: ${count("map")} map, ${count("reduce")} reduce, ${count("scatter")} scatter, ${count("gemm")} gemm kernels;` +
            ` GEMM kernels that spill: ${gemm.length ? gemm.join(", ") : "none"}`,
        );
      expect([...byFamily("map"), ...byFamily("reduce"), ...byFamily("scatter")]).to.deep.equal([]);
    });
  }
});
