/**
 * Bad export requests fail before anything is written, with messages that say what is wrong:
 * a missing .params file, weights missing from it, shape specs that do not parse or do not fit
 * the model, an unknown target or architecture.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { nd, NDArray } from "../../index.js";
import { exportCommand, exportModel, parseShapeSpecs } from "../../runtime/export/index.js";
import { MODELS, paramsPath, symbolPath, tempDir } from "./helpers.js";

async function expectReject(p: Promise<unknown>, ...parts: string[]): Promise<void> {
  let msg = "";
  try {
    await p;
  } catch (e) {
    msg = (e as Error).message;
  }
  expect(msg, "an error was expected").to.not.equal("");
  for (const part of parts) expect(msg).to.include(part);
}

describe("export: errors", function () {
  this.timeout(60000);
  const root = tempDir("errors");
  const out = path.join(root, "out");
  after(() => fs.rmSync(root, { recursive: true, force: true }));
  const m = MODELS[0];
  const base = { shapes: { data: [1, 1, 28, 28] }, target: "cpu" as const, out };

  it("a params file that does not exist", async () => {
    await expectReject(exportModel(symbolPath(m), { ...base, params: path.join(root, "nope.params") }), "the params file", "nope.params does not exist");
    expect(fs.existsSync(out)).to.equal(false);
  });

  it("params without a weight the program reads name it with its shape", async () => {
    const params = nd.load(paramsPath(m)) as Record<string, NDArray>;
    delete params["arg:hybridsequential9_dense0_weight"];
    await expectReject(exportModel(symbolPath(m), { ...base, params }), "has no value for hybridsequential9_dense0_weight float32(20,400)", "name them in shapes");
    await expectReject(exportCommand({ symbol: symbolPath(m), shape: ["data=1,1,28,28"], target: "cpu", out }, () => {}), "params has no value for hybridsequential9_conv0_weight");
  });

  it("shape specs that do not parse", () => {
    expect(parseShapeSpecs(["data=1,1,28,28", "extra = 2, 3"])).to.deep.equal({ data: [1, 1, 28, 28], extra: [2, 3] });
    for (const bad of ["data", "data=", "data=1,x,28", "=1,2", "data=1,-1", "data=1,0,28,28", "data=1;2"])
      expect(() => parseShapeSpecs([bad]), bad).to.throw(`--shape "${bad}" must look like name=1,1,28,28`);
    expect(() => parseShapeSpecs([])).to.throw("give the input shapes");
    expect(() => parseShapeSpecs(["data=1", "data=2"])).to.throw("gives data twice");
  });

  it("shapes that do not fit the model or its weights", async () => {
    await expectReject(exportModel(symbolPath(m), { ...base, shapes: { images: [1, 1, 28, 28] }, params: paramsPath(m) }), "shapes names images, which is not an argument", "arguments: data,");
    await expectReject(exportModel(symbolPath(m), { ...base, shapes: { data: [1, 0, 28, 28] }, params: paramsPath(m) }), "the shape of data must be a non-empty list of positive integers");
    await expectReject(exportModel(symbolPath(m), { ...base, shapes: {}, params: paramsPath(m) }), "shapes names no input");
    // 32x32 images: the first dense layer would need 25*5*5 inputs, the weights have 400.
    await expectReject(exportModel(symbolPath(m), { ...base, shapes: { data: [1, 1, 32, 32] }, params: paramsPath(m) }), "hybridsequential9_dense0_weight has shape (20,400), the model needs (20,625)");
  });

  it("an unknown target, architecture or symbol file", async () => {
    await expectReject(exportModel(symbolPath(m), { ...base, target: "tpu" as "cpu", params: paramsPath(m) }), 'target must be "cpu" or "cuda", got "tpu"');
    await expectReject(exportModel(symbolPath(m), { ...base, target: "cuda", archs: ["volta"], params: paramsPath(m) }), 'archs entry "volta" is not a GPU architecture');
    await expectReject(exportModel(path.join(root, "no-symbol.json"), { ...base, params: paramsPath(m) }), "the symbol file", "no-symbol.json does not exist");
    await expectReject(exportCommand({ symbol: symbolPath(m), params: paramsPath(m), shape: ["data=1,1,28,28"], target: "gpu", out }, () => {}), "--target must be cpu or cuda");
  });
});
