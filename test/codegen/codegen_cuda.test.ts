import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { renderModule } from "../../compiler/codegen/index.js";
import { TABLE } from "./table.js";

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
  const kernels = TABLE.map((c) => c.kernel);

  before(async function () {
    const cmd = findNvcc();
    if (!cmd) {
      console.log("      codegen CUDA tests skipped: no nvcc on PATH or in /usr/local/cuda*/bin");
      this.skip();
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-cg-cuda-"));
    const variants: [string, string, boolean][] = [["sm_90", "sm_90", false], ["sm_80", "sm_80", false], ["sm_90_fast", "sm_90", true]];
    try {
      // The three compiles run side by side.
      await Promise.all(
        variants.map(async ([key, arch, fast]) => {
          const src = path.join(dir, `${key}.cu`);
          fs.writeFileSync(src, renderModule(kernels, "cuda", { fastMath: fast }).source);
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

  for (const key of ["sm_90", "sm_80", "sm_90_fast"]) {
    it(`compiles for ${key} with no local-memory spills in the map and reduce kernels`, () => {
      const r = results.get(key)!;
      if (r.status !== 0) expect.fail(`nvcc failed for ${key}:\n${r.output.slice(0, 4000)}`);
      const found = spills(r.output);
      for (const c of TABLE) {
        const s = found.get(c.kernel.name);
        expect(s, `ptxas reported nothing for ${c.kernel.name}`).to.not.equal(undefined);
        if (c.family !== "scatter") expect(s, `${c.kernel.name} spills`).to.deep.equal({ stores: 0, loads: 0 });
      }
    });
  }
});
