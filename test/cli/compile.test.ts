/** `kiln compile`: the files it writes agree with each other and with the symbol. */
import { expect } from "chai";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { MODELS_DIR } from "../helpers/paths.js";
import { expectStatus, kiln, tempDir } from "./cli_helper.js";

interface KernelsJSON {
  target: string;
  train: boolean;
  kernels: { index: number; name: string; phase: string; ops: string[]; nodes: string[]; fused: boolean; output: string; outputShape: number[] }[];
}
interface MemoryJSON {
  naiveBytes: number;
  plannedBytes: number;
  arenaBytes: number;
  entries: { entry: string; offset: number; bytes: number; shape: number[] }[];
}

describe("kiln compile", () => {
  const t = tempDir("compile");
  after(() => t.remove());
  const mnist = join(MODELS_DIR, "mnist-symbol.json");

  it("writes module.cpp, kernels.json and memory.json for the C++ target and checks that the source builds", function () {
    this.timeout(60000);
    const out = join(t.dir, "mnist-cpu");
    const r = expectStatus(kiln(["compile", mnist, "--shape", "data=4,1,28,28", "--params", join(MODELS_DIR, "mnist-0035.params"), "--out", out, "--build"]), 0).stdout;
    const source = readFileSync(join(out, "module.cpp"), "utf8");
    const k = JSON.parse(readFileSync(join(out, "kernels.json"), "utf8")) as KernelsJSON;
    const m = JSON.parse(readFileSync(join(out, "memory.json"), "utf8")) as MemoryJSON;
    expect(k.target).to.equal("cpp");
    expect(k.kernels.length).to.be.greaterThan(0);
    for (const kernel of k.kernels) expect(source, kernel.name).to.include(`void ${kernel.name}(`);
    // Every op node of the symbol is computed by some kernel; the last writes the output.
    const ops = (JSON.parse(readFileSync(mnist, "utf8")) as { nodes: { op: string; name: string }[] }).nodes.filter((n) => n.op !== "null");
    const computed = new Set(k.kernels.flatMap((x) => x.nodes));
    for (const n of ops) expect([...computed].some((c) => c === n.name || c.startsWith(`${n.name}_`)), n.name).to.equal(true);
    expect(k.kernels[k.kernels.length - 1].outputShape).to.deep.equal([4, 10]);
    // The plan: arena entries lie inside the arena, planned ≤ naive.
    expect(m.plannedBytes).to.be.at.most(m.naiveBytes);
    for (const e of m.entries) {
      expect(e.offset + e.bytes, e.entry).to.be.at.most(m.arenaBytes);
      expect(e.bytes, e.entry).to.be.at.least(4 * e.shape.reduce((a, d) => a * d, 1));
    }
    expect(r).to.match(new RegExp(`Kernels: ${k.kernels.length} launches`));
    expect(r).to.match(/Memory: planned .* vs naive/);
    expect(r).to.match(/planMemory\s+\d+\.\d/);
    expect(r).to.match(/Build: .*(compiled the module in|found the module in the kernel cache)/);
  });

  it("--target cuda --train writes module.cu with forward and backward kernels, no GPU needed", function () {
    this.timeout(30000);
    const out = join(t.dir, "mnist-cuda");
    const r = expectStatus(kiln(["compile", mnist, "--shape", "data=8,1,28,28", "--target", "cuda", "--train", "--out", out, "--no-kernels"]), 0).stdout;
    expect(existsSync(join(out, "module.cpp"))).to.equal(false);
    const source = readFileSync(join(out, "module.cu"), "utf8");
    expect(source).to.include("__global__");
    const k = JSON.parse(readFileSync(join(out, "kernels.json"), "utf8")) as { train: boolean; kernels: { phase: string; launch?: { grid: number[]; block: number[] } }[] };
    expect(k.train).to.equal(true);
    expect(k.kernels.some((x) => x.phase === "backward")).to.equal(true);
    expect(k.kernels.every((x) => x.launch && x.launch.grid.length === 3 && x.launch.block[0] > 0)).to.equal(true);
    expect(r).to.include("training program");
  });

  it("ResNet-18 inference fuses: fewer kernels than layers, and the plan beats naive allocation", function () {
    this.timeout(30000);
    const out = join(t.dir, "r18");
    expectStatus(kiln(["compile", join(MODELS_DIR, "resnet-18-symbol.json"), "--shape", "data=1,3,224,224", "--out", out, "--no-kernels"]), 0);
    const k = JSON.parse(readFileSync(join(out, "kernels.json"), "utf8")) as KernelsJSON;
    const m = JSON.parse(readFileSync(join(out, "memory.json"), "utf8")) as MemoryJSON;
    expect(k.kernels.length).to.be.below(71);
    expect(k.kernels.filter((x) => x.fused).length).to.be.greaterThan(10);
    expect(m.plannedBytes).to.be.below(m.naiveBytes / 2);
  });

  it("a .params file that does not fit the network is an error naming the array", () => {
    // 32×32 digits leave 5×5 maps before the dense layer, which then needs (20, 625), not the trained (20, 400).
    const r = kiln(["compile", mnist, "--shape", "data=1,1,32,32", "--params", join(MODELS_DIR, "mnist-0035.params"), "--out", join(t.dir, "x")]);
    expect(r.status).to.equal(1);
    expect(r.stderr).to.include("hybridsequential9_dense0");
    const other = kiln(["compile", mnist, "--shape", "data=1,1,28,28", "--params", join(MODELS_DIR, "lenet-0001.params"), "--out", join(t.dir, "x")]);
    expect(other.status).to.equal(1);
    expect(other.stderr).to.include("none of the network's arguments");
  });
});
