/**
 * bench/elementwise.ts at its smallest (--quick, 2 repeats, no peers): on this machine without
 * a GPU it times Kiln's generated C++ on cpu(), checks every output against the float64 host
 * chain and compile-checks the CUDA kernels with nvcc; the JSON it writes is checked here.
 */
import { expect } from "chai";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run, compareWith, plan, CHAIN16, BCAST, OPS } from "../../bench/elementwise.js";
import { findNvcc } from "../../bench/harness.js";
import { REPO_ROOT } from "../helpers/paths.js";

interface Side {
  ms: { median: number; p10: number; p90: number; n: number };
  gbps: number;
  ofFloor: number;
  kernels: number;
  check: { ok: boolean; checked: number; replay?: { ok: boolean } };
}

describe("bench/elementwise", function () {
  this.timeout(60000);
  let out: string;
  before(() => {
    out = mkdtempSync(join(tmpdir(), "kiln-bench-ew-"));
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  it("compareWith flags a wrong value and passes close ones", () => {
    const got = Float32Array.from([1, 2, 3.0001]);
    expect(compareWith(got, (i) => [1, 2, 3][i]).ok).to.equal(true);
    const bad = compareWith(got, (i) => [1, 2.1, 3][i]);
    expect(bad.ok).to.equal(false);
    expect(bad.firstBad?.index).to.equal(1);
    expect(compareWith(Float32Array.from([NaN]), () => 1).ok).to.equal(false);
  });

  it("every op of the chains has a torch and a CuPy mapping in bench/peers/elementwise.py", () => {
    const py = readFileSync(join(REPO_ROOT, "bench", "peers", "elementwise.py"), "utf8");
    for (const op of new Set([...CHAIN16, ...BCAST])) {
      expect(OPS).to.have.property(op);
      expect(py).to.include(`op == "${op}"`);
      expect(py).to.match(new RegExp(`"${op}": f?"`));
    }
  });

  it("plans 2, 4, 8 and 16 ops at 2^20, 2^24, 2^26 on a GPU (2^28 for 2 ops), torch.compile at each chain's largest size", () => {
    const full = plan(false, true);
    expect(full.filter((c) => c.n === 2 ** 28).map((c) => c.id)).to.deep.equal(["chain2 2^28"]);
    for (const len of [2, 4, 8, 16]) {
      const cs = full.filter((c) => c.chain === `chain${len}`);
      expect(cs.every((c) => c.ops.length === len)).to.equal(true);
      expect(cs.filter((c) => c.compile).map((c) => c.n)).to.deep.equal([Math.max(...cs.map((c) => c.n))]);
    }
    expect(full.filter((c) => c.broadcast).map((c) => c.shape)).to.deep.equal([[1024, 1024], [16384, 1024], [65536, 1024]]);
    expect(plan(true, true).map((c) => c.id)).to.deep.equal(["chain2 2^16", "chain2 2^20", "chain8 2^16", "chain8 2^20", "bcast4 2^16", "bcast4 2^20"]);
  });

  it("runs --quick without peers and writes its JSON", async () => {
    await run({ repeats: 2, warmup: 1, quick: true, noPeers: true, outDir: out });
    const files = readdirSync(out).filter((f) => /^elementwise-.*\.json$/.test(f));
    expect(files).to.have.length(1);
    const r = JSON.parse(readFileSync(join(out, files[0]), "utf8")) as {
      bench: string;
      device: { kind: string };
      gpu: boolean;
      floor: { gbps: number };
      bytesRule: string;
      peers: { ok: boolean; reason?: string };
      cases: { id: string; bytes: number; elements: number; kiln: { fused: Side; unfused: Side } }[];
      ptxas: { fuse: boolean; ok: boolean; error?: string; chains: { chain: string; kernels: { name: string; registers: number; spillBytes: number }[] }[] }[];
    };
    expect(r.bench).to.equal("elementwise");
    expect(r.device.kind).to.equal(r.gpu ? "gpu" : "cpu");
    expect(r.floor.gbps).to.be.greaterThan(0);
    expect(r.bytesRule).to.be.a("string");
    expect(r.peers).to.deep.include({ ok: false, reason: "--no-peers" });
    expect(r.cases.map((c) => c.id)).to.include.members(["chain2 2^20", "chain8 2^20", "bcast4 2^20"]);
    for (const c of r.cases) {
      expect(c.bytes).to.be.at.least(8 * c.elements);
      for (const side of [c.kiln.fused, c.kiln.unfused]) {
        expect(side.ms.median, c.id).to.be.greaterThan(0);
        expect(side.ms.n).to.equal(2);
        expect(side.gbps).to.be.greaterThan(0);
        expect(side.check.ok, `${c.id}: Kiln's output against the host chain`).to.equal(true);
        expect(side.check.replay?.ok, `${c.id}: the timed runs leave the first run's values`).to.equal(true);
      }
      expect(c.kiln.fused.kernels, `${c.id}: fused into one kernel`).to.equal(1);
      expect(c.kiln.unfused.kernels).to.be.greaterThan(1);
    }
    expect(r.ptxas.map((p) => p.fuse)).to.deep.equal(r.gpu ? [true] : [true, false]);
    for (const p of r.ptxas) {
      if (!findNvcc()) {
        expect(p.error).to.equal("nvcc not found");
        continue;
      }
      expect(p.ok, `fuse=${p.fuse}: ${p.error ?? ""}`).to.equal(true);
      expect(p.chains.map((c) => c.chain)).to.deep.equal(["chain2", "chain8", "bcast4"]);
      for (const c of p.chains) {
        expect(c.kernels.length, `${c.chain} fuse=${p.fuse}: its kernels found in ptxas's report`).to.equal(p.fuse ? 1 : new Set(c.kernels.map((k) => k.name)).size);
        for (const k of c.kernels) expect(k.registers).to.be.greaterThan(0);
      }
    }
  });
});
