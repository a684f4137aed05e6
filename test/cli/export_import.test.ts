/**
 * `kiln export` and `kiln import` as a user runs them: the shared mnist model exported for the
 * CPU (the folder's files; building and running it is test/export's job), and an ONNX file
 * (written by toONNX from the same model) imported back into MXNet files whose outputs equal
 * the original model's on the reference executor.
 */
import { expect } from "chai";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { nd, reference, sym, toONNX, loadCheckpoint } from "../../index.js";
import type { NDArray } from "../../index.js";
import { MODELS_DIR } from "../helpers/paths.js";
import { expectStatus, kiln, tempDir } from "./cli_helper.js";

describe("cli: kiln export and kiln import", () => {
  it("export writes a self-contained folder for the cpu target", function () {
    this.timeout(120000);
    const t = tempDir("export");
    try {
      const out = join(t.dir, "mnist");
      const r = expectStatus(
        kiln(["export", join(MODELS_DIR, "mnist-symbol.json"), "--params", join(MODELS_DIR, "mnist-0035.params"), "--shape", "data=1,1,28,28", "--out", out]),
        0,
      );
      for (const f of ["kiln_model.h", "weights.bin", "Makefile", "CMakeLists.txt", "example.c", "model.ts"]) expect(existsSync(join(out, f)), `${f} in ${r.stdout}`).to.equal(true);
    } finally {
      t.remove();
    }
  });

  it("export without --out is a usage error naming the option", () => {
    const r = kiln(["export", join(MODELS_DIR, "mnist-symbol.json"), "--shape", "data=1,1,28,28"]);
    expect(r.status).to.equal(2);
    expect(r.stderr).to.match(/out/);
  });

  it("import turns an ONNX file into MXNet files that compute the same outputs", function () {
    this.timeout(120000);
    const t = tempDir("import");
    try {
      const net = sym.load(join(MODELS_DIR, "mnist-symbol.json"));
      const params = nd.load(join(MODELS_DIR, "mnist-0035.params")) as Record<string, NDArray>;
      const args: Record<string, NDArray> = {};
      const aux: Record<string, NDArray> = {};
      for (const [k, v] of Object.entries(params)) (k.startsWith("aux:") ? aux : args)[k.slice(4)] = v;
      const onnx = join(t.dir, "mnist.onnx");
      writeFileSync(onnx, toONNX(net, args, aux, { shapes: { data: [2, 1, 28, 28] } }));
      const prefix = join(t.dir, "imported");
      const r = expectStatus(kiln(["import", onnx, "--out", prefix]), 0);
      expect(r.stdout).to.match(/wrote .*imported-symbol\.json and .*imported-0000\.params/);
      const back = loadCheckpoint(prefix, 0);
      const x = Array.from({ length: 2 * 784 }, (_, i) => (Math.sin(i * 0.37) + 1) / 2);
      const run = (s: typeof net, a: Record<string, NDArray>, u: Record<string, NDArray>): number[] => {
        const inputName = s.listArguments().find((n) => !(n in a))!;
        const exe = s.simpleBind({ ctx: reference(), shapes: { [inputName]: [2, 1, 28, 28] }, gradReq: "null" });
        exe.copyParamsFrom(a, u);
        exe.argDict[inputName].set(x);
        return exe.forward(false)[0].toArray();
      };
      const want = run(net, args, aux);
      const got = run(back.symbol, back.argParams, back.auxParams);
      expect(got.length).to.equal(want.length);
      got.forEach((g, i) => expect(Math.abs(g - want[i]), `output ${i}`).to.be.below(1e-5));
      expect(readFileSync(`${prefix}-symbol.json`, "utf8")).to.match(/"nodes"/);
    } finally {
      t.remove();
    }
  });

  it("import of a file that is not ONNX fails with a clear message and exit 1", () => {
    const t = tempDir("import-bad");
    try {
      const bad = join(t.dir, "bad.onnx");
      writeFileSync(bad, "not a protobuf at all");
      const r = kiln(["import", bad, "--out", join(t.dir, "x")]);
      expect(r.status).to.equal(1);
      expect(r.stderr).to.match(/kiln: /);
    } finally {
      t.remove();
    }
  });
});
