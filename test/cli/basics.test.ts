/** `kiln` as a whole: help for every command, exit codes, errors; `ops` and `info`. */
import { expect } from "chai";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MODELS_DIR } from "../helpers/paths.js";
import { expectStatus, kiln, kilnAsync, tempDir } from "./cli_helper.js";

const COMMANDS = ["ops", "info", "summary", "viz", "compile", "run", "train", "bench"];

describe("kiln CLI: help and errors", () => {
  it("lists every command, and each command's --help shows its options and examples", async function () {
    this.timeout(30000);
    const helps = ["", "info", "summary", "viz", "compile", "run"];
    const results = await Promise.all(helps.map((c) => kilnAsync(c ? [c, "--help"] : ["--help"])));
    const top = expectStatus(results[0], 0).stdout;
    for (const c of COMMANDS) expect(top, c).to.match(new RegExp(`kiln ${c}\\b`));
    results.slice(1).forEach((r, i) => {
      const h = expectStatus(r, 0).stdout;
      expect(h, helps[i + 1]).to.include("Examples:");
      expect(h, helps[i + 1]).to.include("Options:");
    });
  });

  it("exits 2 on usage errors and 1 on Kiln errors, with the message on stderr", async function () {
    this.timeout(30000);
    const t = tempDir("err");
    try {
      const bad = join(t.dir, "bad-symbol.json");
      writeFileSync(bad, '{"nodes": [');
      const [unknown, missingArg, badShape, noFile, malformed] = await Promise.all([
        kilnAsync(["frobnicate"]),
        kilnAsync(["summary"]),
        kilnAsync(["summary", join(MODELS_DIR, "mnist-symbol.json"), "--shape", "data=1,x,28"]),
        kilnAsync(["summary", "/nonexistent/net-symbol.json"]),
        kilnAsync(["summary", bad]),
      ]);
      expect(unknown.status).to.equal(2);
      expect(unknown.stderr).to.match(/Unknown argument|Unknown command/);
      expect(missingArg.status).to.equal(2);
      expect(badShape.status).to.equal(2);
      expect(badShape.stderr).to.include('--shape "data=1,x,28"');
      expect(noFile.status).to.equal(2);
      expect(noFile.stderr).to.include("/nonexistent/net-symbol.json does not exist");
      expect(malformed.status).to.equal(1);
      expect(malformed.stderr).to.include(bad);
      expect(malformed.stderr).not.to.include("    at "); // a message, not a stack trace
    } finally {
      t.remove();
    }
  });
});

describe("kiln ops", () => {
  it("--json lists the operators with MXNet's parameter names", () => {
    const ops = JSON.parse(expectStatus(kiln(["ops", "--json"]), 0).stdout) as { name: string; params: string[]; inputs: string[] }[];
    const conv = ops.find((o) => o.name === "Convolution");
    expect(conv?.inputs).to.deep.equal(["data", "weight", "bias"]);
    expect(conv?.params).to.include.members(["kernel", "num_filter"]);
    expect(ops.some((o) => o.name.startsWith("_backward_"))).to.equal(false);
  });
});

describe("kiln info", () => {
  it("without a symbol: devices, CUDA status (or why not), the C++ compiler, the kernel cache's entries and bytes", async function () {
    this.timeout(30000);
    const t = tempDir("cache");
    try {
      // A cache with one entry and one materialized library: 3 files, 100 + 50 + 7 bytes.
      mkdirSync(join(t.dir, "ab"));
      writeFileSync(join(t.dir, "ab", `ab${"0".repeat(62)}.kiln`), Buffer.alloc(100));
      writeFileSync(join(t.dir, "ab", `ab${"0".repeat(62)}.so`), Buffer.alloc(50));
      mkdirSync(join(t.dir, "cd"));
      writeFileSync(join(t.dir, "cd", `cd${"1".repeat(62)}.kiln`), Buffer.alloc(7));
      const [text, json, disabled] = await Promise.all([
        kilnAsync(["info"], { env: { KILN_CACHE_DIR: t.dir } }),
        kilnAsync(["info", "--json"], { env: { KILN_CACHE_DIR: t.dir } }),
        kilnAsync(["info"], { env: { KILN_CACHE: "0" } }),
      ]);
      const r = expectStatus(text, 0).stdout;
      const j = JSON.parse(expectStatus(json, 0).stdout) as {
        devices: string[];
        cuda: { available: boolean; reason?: string; devices: { computeCapability: number[] }[] };
        cxx: { compiler?: { command: string } };
        cache: { dir: string; entries: number; files: number; bytes: number };
      };
      expect(r).to.include(`Devices: ${j.devices.join(", ")}`);
      expect(j.devices[0]).to.equal("cpu(0)");
      if (j.cuda.available) {
        expect(r).to.match(/CUDA: available/);
        expect(r).to.match(/compute capability \d+\.\d+ \(sm_\d+\)/);
        expect(r).to.match(/NVRTC: \/.*version \d+\.\d+/);
      } else {
        // No GPU here: the report says why, in the words cuda.status() gives.
        expect(j.cuda.reason, "a reason").to.be.a("string").and.not.equal("");
        expect(r).to.include(`CUDA: not available: ${j.cuda.reason}`);
      }
      if (j.cxx.compiler) expect(r).to.include(`C++ compiler: ${j.cxx.compiler.command}`);
      expect(j.cache).to.include({ dir: t.dir, entries: 2, files: 3, bytes: 157 });
      expect(r).to.include(`Kernel cache: ${t.dir}`);
      expect(r).to.include("2 entries, 3 files, 157 B on disk");

      const off = expectStatus(disabled, 0).stdout;
      expect(off).to.include("disk level off (KILN_CACHE=0)");
    } finally {
      t.remove();
    }
  });

  it("with a symbol: arguments, aux states and outputs with inferred shapes", async function () {
    this.timeout(30000);
    const [withShape, without] = await Promise.all([
      kilnAsync(["info", join(MODELS_DIR, "mnist-symbol.json"), "--shape", "data=2,1,28,28"]),
      kilnAsync(["info", join(MODELS_DIR, "mnist-symbol.json")]),
    ]);
    const r = expectStatus(withShape, 0).stdout;
    expect(r).to.match(/argument\s+data\s+\(2, 1, 28, 28\)/);
    expect(r).to.match(/argument\s+hybridsequential9_conv0_weight\s+\(10, 1, 5, 5\)/);
    expect(r).to.match(/output\s+hybridsequential9_dense1_tanh_fwd_output\s+\(2, 10\)/);
    // Without shapes the unknowns print as ?.
    expect(expectStatus(without, 0).stdout).to.match(/output\s+\S+\s+\?/);
  });
});
