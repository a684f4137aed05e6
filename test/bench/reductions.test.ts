/**
 * bench/reductions.ts at its smallest (--quick, 2 repeats, no peers): on this machine without a
 * GPU it times Kiln's generated C++ on cpu() at the quick sizes, checks every output (and the
 * BatchNorm gradients) against float64 host computations and compile-checks the CUDA kernels
 * with nvcc; the JSON it writes is checked here.
 */
import { expect } from "chai";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../bench/reductions.js";
import { findNvcc } from "../../bench/harness.js";

describe("bench/reductions", function () {
  this.timeout(60000);
  let out: string;
  before(() => {
    out = mkdtempSync(join(tmpdir(), "kiln-bench-red-"));
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  it("runs --quick without peers and writes its JSON", async () => {
    await run({ repeats: 2, warmup: 1, quick: true, noPeers: true, outDir: out });
    const files = readdirSync(out).filter((f) => /^reductions-.*\.json$/.test(f));
    expect(files).to.have.length(1);
    const r = JSON.parse(readFileSync(join(out, files[0]), "utf8")) as {
      bench: string;
      device: { kind: string };
      gpu: boolean;
      floor: { gbps: number };
      peers: { ok: boolean; reason?: string };
      cases: {
        id: string;
        kind: string;
        backward: boolean;
        bytes: number;
        shape: number[];
        kiln: { ms: { median: number; n: number }; gbps: number; kernels: number; check: { ok: boolean; checked: number; replay?: { ok: boolean } } };
      }[];
      ptxas: { ok: boolean; error?: string; kernels: { name: string; registers: number }[]; cases: { id: string; kernels: { name: string; registers: number }[]; missing: string[] }[] };
    };
    expect(r.bench).to.equal("reductions");
    expect(r.device.kind).to.equal(r.gpu ? "gpu" : "cpu");
    expect(r.floor.gbps).to.be.greaterThan(0);
    expect(r.peers).to.deep.include({ ok: false, reason: "--no-peers" });
    expect(new Set(r.cases.map((c) => c.kind))).to.deep.equal(new Set(["reduce", "softmax", "batchnorm", "layernorm"]));
    expect(r.cases.some((c) => c.kind === "batchnorm" && c.backward)).to.equal(true);
    for (const c of r.cases) {
      const n = c.shape.reduce((a, b) => a * b, 1);
      expect(c.bytes, c.id).to.be.greaterThan(4 * n);
      expect(c.kiln.ms.median, c.id).to.be.greaterThan(0);
      expect(c.kiln.ms.n).to.equal(2);
      expect(c.kiln.kernels).to.be.greaterThan(0);
      expect(c.kiln.check.checked, c.id).to.be.greaterThan(0);
      expect(c.kiln.check.ok, `${c.id}: Kiln against the float64 host computation`).to.equal(true);
      expect(c.kiln.check.replay?.ok, `${c.id}: the timed runs leave the first run's values`).to.equal(true);
    }
    expect(r.ptxas.cases.map((c) => c.id)).to.deep.equal(r.cases.map((c) => c.id));
    if (!findNvcc()) {
      expect(r.ptxas.ok).to.equal(false);
      return;
    }
    expect(r.ptxas.ok, r.ptxas.error).to.equal(true);
    for (const c of r.ptxas.cases) {
      expect(c.kernels.length, `${c.id}: its kernels in ptxas's report`).to.be.greaterThan(0);
      expect(c.missing, c.id).to.deep.equal([]);
      for (const k of c.kernels) expect(k.registers).to.be.greaterThan(0);
    }
  });
});
