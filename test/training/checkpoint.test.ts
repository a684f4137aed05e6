import { expect } from "chai";
import { mkdtempSync, rmSync, readFileSync, existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sym, nd, reference, withNameManager, Symbol } from "../../index.js";
import type { NDArray } from "../../index.js";
import { saveCheckpoint, loadCheckpoint, paramsPath, listEpochs } from "../../runtime/training/checkpoint.js";
import { expectError } from "../helpers/expect_error.js";
import { MODELS_DIR } from "../helpers/paths.js";

interface RawArray {
  name: string;
  shape: number[];
  devType: number;
  devId: number;
  flag: number;
  data: Uint8Array;
}

/** A .params reader written from the format in shared/MXNET.md only (V2 records, dense). */
function readParamsIndependently(bytes: Uint8Array): RawArray[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let o = 0;
  const u64 = (): number => {
    const x = Number(v.getBigUint64(o, true));
    o += 8;
    return x;
  };
  const i32 = (): number => {
    const x = v.getInt32(o, true);
    o += 4;
    return x;
  };
  expect(u64(), "file magic").to.equal(0x112);
  expect(u64(), "reserved").to.equal(0);
  const n = u64();
  const sizes: Record<number, number> = { 0: 4, 1: 8, 2: 2, 3: 1, 4: 4, 5: 1, 6: 8 };
  const arrays: Omit<RawArray, "name">[] = [];
  for (let k = 0; k < n; k++) {
    expect(v.getUint32(o, true), "array magic (V2)").to.equal(0xf993fac9);
    o += 4;
    expect(i32(), "storage type").to.equal(0);
    const ndim = i32();
    const shape: number[] = [];
    for (let d = 0; d < ndim; d++) {
      shape.push(Number(v.getBigInt64(o, true)));
      o += 8;
    }
    const devType = i32();
    const devId = i32();
    const flag = i32();
    const len = shape.reduce((a, b) => a * b, 1) * sizes[flag];
    arrays.push({ shape, devType, devId, flag, data: new Uint8Array(bytes.subarray(o, o + len)) });
    o += len;
  }
  const k = u64();
  expect(k).to.equal(n);
  const names: string[] = [];
  for (let i = 0; i < k; i++) {
    const len = u64();
    names.push(new TextDecoder().decode(bytes.subarray(o, o + len)));
    o += len;
  }
  expect(o, "the file ends after the names").to.equal(bytes.byteLength);
  return arrays.map((a, i) => ({ ...a, name: names[i] }));
}

function net(): Symbol {
  return withNameManager(() => {
    let x = sym.FullyConnected({ data: sym.Variable("data"), num_hidden: 4, name: "fc1" });
    x = sym.BatchNorm({ data: x, name: "bn1" });
    x = sym.Activation({ data: x, act_type: "relu", name: "relu1" });
    x = sym.FullyConnected({ data: x, num_hidden: 3, name: "fc2" });
    return sym.SoftmaxOutput({ data: x, name: "softmax" });
  });
}

function f32(bytes: Uint8Array): number[] {
  return Array.from(new Float32Array(Uint8Array.from(bytes).buffer));
}

describe("training/checkpoint", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "kiln-ckpt-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function params(symbol: Symbol): { args: Record<string, NDArray>; aux: Record<string, NDArray> } {
    const [argShapes, , auxShapes] = symbol.inferShape({ data: [2, 5] });
    const args: Record<string, NDArray> = {};
    const aux: Record<string, NDArray> = {};
    let k = 0;
    symbol.listArguments().forEach((name, i) => {
      if (name === "data" || name === "softmax_label") return;
      args[name] = nd.array(Array.from({ length: argShapes[i].reduce((a, b) => a * b, 1) }, () => (k++ % 17) / 8 - 1), { shape: argShapes[i] });
    });
    symbol.listAuxiliaryStates().forEach((name, i) => {
      aux[name] = nd.array(Array.from({ length: auxShapes[i][0] }, (_, j) => j + 0.5), { shape: auxShapes[i] });
    });
    return { args, aux };
  }

  it("writes prefix-symbol.json and prefix-%04d.params in MXNet's format", () => {
    const symbol = net();
    const { args, aux } = params(symbol);
    const prefix = join(dir, "model");
    const file = saveCheckpoint(prefix, 3, symbol, args, aux);
    expect(file).to.equal(`${prefix}-0003.params`);
    expect(readFileSync(`${prefix}-symbol.json`, "utf8")).to.equal(symbol.toJSON());
    const json = JSON.parse(readFileSync(`${prefix}-symbol.json`, "utf8")) as { nodes: { op: string; name: string }[] };
    expect(json.nodes.filter((n) => n.op === "null").map((n) => n.name)).to.include.members(["fc1_weight", "bn1_moving_var", "softmax_label"]);

    const raw = readParamsIndependently(readFileSync(file));
    expect(raw.map((r) => r.name)).to.deep.equal([
      ...Object.keys(args).map((n) => `arg:${n}`),
      ...Object.keys(aux).map((n) => `aux:${n}`),
    ]);
    expect(raw.map((r) => r.name)).to.include.members(["arg:fc1_weight", "arg:fc1_bias", "arg:bn1_gamma", "arg:bn1_beta", "aux:bn1_moving_mean", "aux:bn1_moving_var"]);
    for (const r of raw) {
      const src = r.name.startsWith("arg:") ? args[r.name.slice(4)] : aux[r.name.slice(4)];
      expect(r.shape, r.name).to.deep.equal([...src.shape]);
      expect([r.devType, r.devId, r.flag], r.name).to.deep.equal([1, 0, 0]);
      expect(f32(r.data), r.name).to.deep.equal(src.toArray());
    }
  });

  it("reads back what it wrote, with dtypes, from arrays on any context", () => {
    const symbol = net();
    const { args, aux } = params(symbol);
    args.fc2_bias = nd.array([1.25, -2, 1e-30], { dtype: "float64", ctx: reference() });
    const prefix = join(dir, "round");
    saveCheckpoint(prefix, 12, symbol, args, aux);
    const back = loadCheckpoint(prefix, 12);
    expect(back.symbol.toJSON()).to.equal(symbol.toJSON());
    expect(Object.keys(back.argParams).sort()).to.deep.equal(Object.keys(args).sort());
    expect(Object.keys(back.auxParams).sort()).to.deep.equal(Object.keys(aux).sort());
    for (const [n, a] of Object.entries(args)) {
      expect(back.argParams[n].dtype, n).to.equal(a.dtype);
      expect(back.argParams[n].toArray(), n).to.deep.equal(a.toArray());
    }
    for (const [n, a] of Object.entries(aux)) expect(f32(back.auxParams[n].toBytes()), n).to.deep.equal(a.toArray());
    expect(paramsPath("p", 12345)).to.equal("p-12345.params");
    expect(listEpochs(prefix)).to.deep.equal([12]);
  });

  it("without a symbol writes only the parameters", () => {
    const prefix = join(dir, "nosym");
    saveCheckpoint(prefix, 0, null, { w: nd.array([1]) }, {});
    expect(existsSync(`${prefix}-0000.params`)).to.equal(true);
    expect(existsSync(`${prefix}-symbol.json`)).to.equal(false);
  });

  const shared: [string, number, number[]][] = [
    ["mnist", 35, [1, 1, 28, 28]],
    ["lenet", 1, [1, 1, 28, 28]],
    ["fashion-mnist", 39, [1, 1, 28, 28]],
    ["2-layer-mlp", 0, [1, 3, 224, 224]],
  ];
  for (const [name, epoch, dataShape] of shared)
    it(`loads MXNet's ${name}-${String(epoch).padStart(4, "0")} checkpoint`, () => {
      const { symbol, argParams, auxParams } = loadCheckpoint(join(MODELS_DIR, name), epoch);
      const [argShapes] = symbol.inferShape({ data: dataShape });
      const expected = symbol.listArguments().map((n, i) => [n, argShapes[i]] as const).filter(([n]) => n !== "data" && !n.endsWith("_label"));
      expect(Object.keys(argParams).sort()).to.deep.equal(expected.map(([n]) => n).sort());
      for (const [n, shape] of expected) expect([...argParams[n].shape], n).to.deep.equal(shape);
      expect(auxParams).to.deep.equal({});
      // The raw bytes match the file read independently.
      const raw = readParamsIndependently(readFileSync(join(MODELS_DIR, `${name}-${String(epoch).padStart(4, "0")}.params`)));
      for (const r of raw) expect(Uint8Array.from(argParams[r.name.slice(4)].toBytes()), r.name).to.deep.equal(r.data);
    });

  it("fails clearly on missing or foreign files", () => {
    expectError(() => loadCheckpoint(join(dir, "absent"), 1), "symbol file", "absent-symbol.json", "not found");
    const prefix = join(dir, "some");
    saveCheckpoint(prefix, 2, net(), { w: nd.array([1]) }, {});
    saveCheckpoint(prefix, 4, net(), { w: nd.array([1]) }, {});
    expectError(() => loadCheckpoint(prefix, 3), "some-0003.params", "not found", "2, 4");
    expectError(() => loadCheckpoint(prefix, -1), "epoch", "-1");
    nd.save(`${prefix}-0005.params`, { plain: nd.array([1]) });
    expectError(() => loadCheckpoint(prefix, 5), '"plain"', "arg:NAME");
    writeFileSync(`${prefix}-0006.params`, readFileSync(`${prefix}-0002.params`).subarray(0, 40));
    expectError(() => loadCheckpoint(prefix, 6), "some-0006.params", "at byte");
    writeFileSync(`${join(dir, "badsym")}-symbol.json`, "{ not json");
    saveCheckpoint(join(dir, "badsym"), 1, null, {}, {});
    expectError(() => loadCheckpoint(join(dir, "badsym"), 1), "badsym-symbol.json");
  });
});
