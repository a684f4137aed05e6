/**
 * bench/cpu_inference.ts in quick mode (the MNIST models at batch 1 and 8 on cpu()): Kiln's
 * side alone (--no-peers), checked against the reference executor; then, where
 * onnxruntime-node is installed, once more with ONNX Runtime on the exported models.
 */
import { expect } from "chai";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run, loadOrt } from "../../bench/cpu_inference.js";
import { cpuKernels } from "../../runtime/cpu/index.js";

interface Case {
  model: string;
  batch: number;
  ok: boolean;
  kiln: { ms: { median: number; p10: number; p90: number; n: number }; imagesPerS: number; error?: string };
  ort?: { ms: { median: number }; imagesPerS: number; error?: string };
  compare: { maxAbsKilnVsReference?: number; maxAbsKilnVsOrt?: number; top1AgreeKilnOrt?: string; maxAbsOutput: number };
}

function readResult(dir: string): { peer: { skipped?: string; version?: string }; cases: Case[]; allOk: boolean; floor: unknown; device: { kind: string } } {
  const files = readdirSync(dir).filter((f) => f.startsWith("cpu_inference-") && f.endsWith(".json"));
  expect(files).to.have.length(1);
  return JSON.parse(readFileSync(join(dir, files[0]), "utf8"));
}

describe("bench/cpu_inference", function () {
  this.timeout(60000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "kiln-bench-cpu-inference-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("runs in quick mode without peers and writes its JSON", async function () {
    if (!cpuKernels.compiler().compiler) return this.skip();
    await run({ repeats: 2, warmup: 1, quick: true, noPeers: true, outDir: dir });
    const r = readResult(dir);
    expect(r.device.kind).to.equal("cpu");
    expect(r.peer.skipped).to.equal("--no-peers");
    expect(r.floor).to.have.property("hostCopyGBps");
    expect(r.cases.map((c) => `${c.model} b${c.batch}`)).to.deep.equal(["mnist b1", "mnist b8", "lenet b1", "lenet b8"]);
    for (const c of r.cases) {
      expect(c.ok, c.kiln.error).to.equal(true);
      expect(c.kiln.ms.n).to.equal(2);
      expect(c.kiln.ms.median).to.be.greaterThan(0);
      expect(c.kiln.imagesPerS).to.be.greaterThan(0);
      expect(c.compare.maxAbsKilnVsReference).to.be.at.most(1e-3 * Math.max(1, c.compare.maxAbsOutput));
      expect(c.ort).to.equal(undefined);
    }
    expect(r.allOk).to.equal(true);
  });

  it("measures ONNX Runtime beside Kiln where onnxruntime-node is installed", async function () {
    if (!cpuKernels.compiler().compiler || !(await loadOrt()).ok) return this.skip();
    await run({ repeats: 2, warmup: 1, quick: true, noPeers: false, outDir: dir });
    const r = readResult(dir);
    expect(r.peer.version).to.match(/^\d+\.\d+/);
    for (const c of r.cases) {
      expect(c.ok, c.kiln.error).to.equal(true);
      expect(c.ort?.error).to.equal(undefined);
      expect(c.ort!.ms.median).to.be.greaterThan(0);
      expect(c.compare.maxAbsKilnVsOrt).to.be.at.most(1e-3 * Math.max(1, c.compare.maxAbsOutput));
      expect(c.compare.top1AgreeKilnOrt).to.equal(`${c.batch}/${c.batch}`);
    }
  });
});
