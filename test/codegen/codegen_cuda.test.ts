import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { renderModule } from "../../compiler/codegen/index.js";
import { Case, TABLE, kernelSource } from "./table.js";
import { GEMM_COMPILE_ONLY } from "./gemm_table.js";

/** nvcc on PATH, else the newest /usr/local/cuda*\/bin/nvcc; undefined when there is none. */
function findNvcc(): string | undefined {
  if (spawnSync("nvcc", ["--version"], { encoding: "utf8" }).status === 0) return "nvcc";
  const dirs = fs.existsSync("/usr/local") ? fs.readdirSync("/usr/local").filter((d) => /^cuda/.test(d)).sort().reverse() : [];
  for (const d of dirs) {
    const p = path.join("/usr/local", d, "bin", "nvcc");
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

interface Compiled {
  status: number | null;
  output: string;
}

function nvcc(cmd: string, args: string[]): Promise<Compiled> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args);
    let output = "";
    p.stdout.on("data", (d) => (output += d));
    p.stderr.on("data", (d) => (output += d));
    p.on("close", (status) => resolve({ status, output }));
  });
}

/** ptxas -v's per-function spill counts: `Function properties for NAME` then `… N bytes spill stores, M bytes spill loads`. */
function spills(output: string): Map<string, { stores: number; loads: number }> {
  const out = new Map<string, { stores: number; loads: number }>();
  let fn: string | undefined;
  for (const line of output.split("\n")) {
    const f = /Function properties for (\w+)/.exec(line);
    if (f) fn = f[1];
    const s = /(\d+) bytes spill stores, (\d+) bytes spill loads/.exec(line);
    if (s && fn) {
      out.set(fn, { stores: Number(s[1]), loads: Number(s[2]) });
      fn = undefined;
    }
  }
  return out;
}

describe("codegen: the table as CUDA, compiled by nvcc", function () {
  this.timeout(180000);
  const results = new Map<string, Compiled>();
  // The table, and large contractions the interpreter is too slow for (compile-only).
  const big: Case[] = GEMM_COMPILE_ONLY.map((g) => ({ kernel: g.kernel, fills: [], family: g.gemm ? "gemm" : "reduce" }));
  const cases = [...TABLE, ...big];
  const kernels = cases.map((c) => c.kernel);
  const casesOf = (variant: string): Case[] =>
    variant.endsWith("tf32") ? cases.filter((c) => c.family === "gemm") : variant.endsWith("fast") ? cases.filter((c) => c.family !== "gemm") : cases;

  before(async function () {
    const cmd = findNvcc();
    if (!cmd) {
      console.log("      codegen CUDA tests skipped: no nvcc on PATH or in /usr/local/cuda*/bin");
      this.skip();
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-cg-cuda-"));
    // The TF32 variants render the float32 contractions with mma.sync (taken on sm_80+); nothing
    // else changes with the option, so they compile only the GEMM cases. Fast math changes the
    // math functions of map and reduce kernels: that variant leaves the GEMM cases out.
    const variants: [string, string, boolean, boolean][] = [
      ["sm_90", "sm_90", false, false],
      ["sm_80", "sm_80", false, false],
      ["sm_90_fast", "sm_90", true, false],
      ["sm_80_tf32", "sm_80", false, true],
      ["sm_90_tf32", "sm_90", false, true],
    ];
    try {
      // The compiles run side by side.
      await Promise.all(
        variants.map(async ([key, arch, fast, tf32]) => {
          const src = path.join(dir, `${key}.cu`);
          fs.writeFileSync(src, renderModule(casesOf(key).map((c) => c.kernel), "cuda", { fastMath: fast, tf32 }).source);
          const args = ["-cubin", `-arch=${arch}`, "-std=c++17", "-Xptxas", "-v", "-o", path.join(dir, `${key}.cubin`), src];
          if (fast) args.push("--use_fast_math");
          results.set(key, await nvcc(cmd, args));
        }),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reports launch shapes for every kernel", () => {
    const m = renderModule(kernels, "cuda");
    for (const k of m.kernels) {
      expect(k.launch, k.name).to.not.equal(undefined);
      const { grid, block } = k.launch!;
      expect(grid[0] * grid[1] * grid[2]).to.be.at.least(1);
      expect(block[0] % 32, `${k.name}: whole warps`).to.equal(0);
      expect(block[0]).to.be.at.most(1024);
    }
  });

  it("tiles large products 128x128 per block (8x8 per thread), small ones 32x32", () => {
    const m = renderModule(kernels, "cuda");
    const launch = (name: string) => m.kernels.find((k) => k.name === name)!.launch!;
    // FullyConnected 1024x1024 (K 512): 8 x 8 blocks of 128x128 fill fewer than 132 SMs, so 64x64.
    expect(launch("gemm_big_fc_0")).to.deep.equal({ grid: [16, 16, 1], block: [64, 1, 1], sharedBytes: 0 });
    // A 3x3 convolution's forward at batch 32, 28x28: 128 filters x 25088 positions.
    expect(launch("gemm_big_conv3x3_fwd_0")).to.deep.equal({ grid: [1, 196, 1], block: [256, 1, 1], sharedBytes: 0 });
    // 8 groups of 32 filters: a batch of 8 products, 32 rows each.
    expect(launch("gemm_big_resnext_0").grid[2]).to.equal(8);
    expect(launch("cg_gemm_dot_0")).to.deep.equal({ grid: [1, 1, 1], block: [64, 1, 1], sharedBytes: 0 });
  });

  it("gives every contraction the GEMM schedule, with TF32 mma.sync for float32 only when asked", () => {
    for (const tf32 of [false, true]) {
      const m = renderModule(kernels, "cuda", { tf32 });
      for (const c of cases) {
        const body = kernelSource(m.source, c.kernel.name);
        expect(body.includes("// GEMM B="), `${c.kernel.name} takes the GEMM schedule`).to.equal(c.family === "gemm");
        const f32 = c.family === "gemm" && c.kernel.stage.inputs.every((t) => t.dtype === "float32" || t.dtype === "float16");
        expect(body.includes("kiln_mma_tf32("), `${c.kernel.name} uses tensor cores`).to.equal(tf32 && f32);
      }
      expect(m.source.includes("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32")).to.equal(tf32);
    }
  });

  for (const key of ["sm_90", "sm_80", "sm_90_fast", "sm_80_tf32", "sm_90_tf32"]) {
    it(`compiles for ${key} with no local-memory spills in the map, reduce and GEMM kernels`, () => {
      const r = results.get(key)!;
      if (r.status !== 0) expect.fail(`nvcc failed for ${key}:\n${r.output.slice(0, 4000)}`);
      const found = spills(r.output);
      for (const c of casesOf(key)) {
        const s = found.get(c.kernel.name);
        expect(s, `ptxas reported nothing for ${c.kernel.name}`).to.not.equal(undefined);
        if (c.family !== "scatter") expect(s, `${c.kernel.name} spills`).to.deep.equal({ stores: 0, loads: 0 });
      }
    });
  }
});
