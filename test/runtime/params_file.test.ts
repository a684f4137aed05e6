/**
 * MXNet .params files: every version read, V2 written byte-for-byte as MXNet writes it.
 * Expected names, shapes and values below were read independently (Python `struct`) from
 * the files in shared/data/mxnet-models.
 */
import { expect } from "chai";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KilnError } from "../../compiler/base/errors.js";
import { DType } from "../../compiler/base/dtype.js";
import { NDArray } from "../../runtime/ndarray.js";
import { cpu, reference } from "../../runtime/context.js";
import { decodeParams, encodeParams, loadParams, saveParams } from "../../runtime/params_file.js";
import { MODELS_DIR } from "../helpers/paths.js";


/** Bytes from hex pairs, whitespace ignored. */
const hex = (s: string): Uint8Array => {
  const t = s.replace(/\s+/g, "");
  return Uint8Array.from({ length: t.length / 2 }, (_, i) => parseInt(t.slice(2 * i, 2 * i + 2), 16));
};

/** A little-endian byte builder for hand-made records. */
class LE {
  private parts: number[] = [];
  private put(n: number, f: (d: DataView) => void): this {
    const b = new Uint8Array(n);
    f(new DataView(b.buffer));
    this.parts.push(...b);
    return this;
  }
  u32 = (v: number): this => this.put(4, (d) => d.setUint32(0, v, true));
  i32 = (v: number): this => this.put(4, (d) => d.setInt32(0, v, true));
  i64 = (v: number | bigint): this => this.put(8, (d) => d.setBigInt64(0, BigInt(v), true));
  u64 = (v: number | bigint): this => this.put(8, (d) => d.setBigUint64(0, BigInt(v), true));
  f32 = (...vs: number[]): this => {
    for (const v of vs) this.put(4, (d) => d.setFloat32(0, v, true));
    return this;
  };
  raw = (b: ArrayLike<number>): this => {
    this.parts.push(...Array.from(b));
    return this;
  };
  header = (n: number): this => this.u64(0x112).u64(0).u64(n);
  done = (): Uint8Array => Uint8Array.from(this.parts);
}

const asList = (r: Record<string, NDArray> | NDArray[]): NDArray[] => {
  expect(Array.isArray(r), "a list").to.equal(true);
  return r as NDArray[];
};
const asRecord = (r: Record<string, NDArray> | NDArray[]): Record<string, NDArray> => {
  expect(Array.isArray(r), "a record").to.equal(false);
  return r as Record<string, NDArray>;
};

/** Runs f, expects a KilnError, returns its message. */
const kilnError = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e, String(e)).to.be.instanceOf(KilnError);
    return (e as Error).message;
  }
  expect.fail("expected a KilnError");
};

const sameArray = (got: NDArray, want: NDArray): void => {
  expect(got.shape).to.deep.equal(want.shape);
  expect(got.dtype).to.equal(want.dtype);
  expect(got.ctx.equals(cpu())).to.equal(true);
  expect(Array.from(got.toBytes())).to.deep.equal(Array.from(want.toBytes()));
};

const fromBytes = (shape: number[], dtype: DType, bytes: ArrayBufferView): NDArray =>
  new NDArray(shape, dtype, cpu()).setBytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));

interface Want {
  names: [string, number[]][];
  /** name → [first values, last value] */
  values: Record<string, [number[], number]>;
}

const REAL: Record<string, Want> = {
  "2-layer-mlp-0000.params": {
    names: [
      ["arg:fc1_bias", [2]],
      ["arg:fc2_weight", [2, 2]],
      ["arg:fc2_bias", [2]],
      ["arg:fc1_weight", [2, 150528]],
    ],
    values: {
      "arg:fc2_weight": [[0.005883198231458664, 0.0076459553092718124, -0.006803507450968027], 0.008621793240308762],
      "arg:fc1_weight": [[0.0026392294093966484, -0.004292687866836786, -0.0035165012814104557], -0.007790321949869394],
      "arg:fc1_bias": [[0, 0], 0],
    },
  },
  "fashion-mnist-0039.params": {
    names: [
      ["arg:hybridsequential16_conv0_weight", [8, 1, 4, 4]],
      ["arg:hybridsequential16_conv0_bias", [8]],
      ["arg:hybridsequential16_dense0_weight", [16, 1152]],
      ["arg:hybridsequential16_dense0_bias", [16]],
      ["arg:hybridsequential16_dense1_weight", [10, 16]],
      ["arg:hybridsequential16_dense1_bias", [10]],
    ],
    values: {
      "arg:hybridsequential16_conv0_weight": [[-0.33187955617904663, -0.08565118163824081, 0.05956805497407913], -0.12869569659233093],
      "arg:hybridsequential16_dense1_bias": [[-0.8358164429664612, -1.1500623226165771, -1.266167163848877], -1.075486421585083],
    },
  },
  "lenet-0001.params": {
    names: [
      ["arg:hybridsequential0_conv0_weight", [5, 1, 5, 5]],
      ["arg:hybridsequential0_conv0_bias", [5]],
      ["arg:hybridsequential0_conv1_weight", [5, 5, 5, 5]],
      ["arg:hybridsequential0_conv1_bias", [5]],
      ["arg:hybridsequential0_dense0_weight", [32, 80]],
      ["arg:hybridsequential0_dense0_bias", [32]],
      ["arg:hybridsequential0_dense1_weight", [10, 32]],
      ["arg:hybridsequential0_dense1_bias", [10]],
    ],
    values: {
      "arg:hybridsequential0_conv0_weight": [[0.1603482961654663, 0.21142618358135223, 0.2652505338191986], 0.02751464769244194],
      "arg:hybridsequential0_dense1_bias": [[-0.005922750104218721, -0.08831027895212173, 0.0027450344059616327], 0.00910626258701086],
    },
  },
  "mnist-0035.params": {
    names: [
      ["arg:hybridsequential9_conv0_weight", [10, 1, 5, 5]],
      ["arg:hybridsequential9_conv0_bias", [10]],
      ["arg:hybridsequential9_conv1_weight", [25, 10, 5, 5]],
      ["arg:hybridsequential9_conv1_bias", [25]],
      ["arg:hybridsequential9_dense0_weight", [20, 400]],
      ["arg:hybridsequential9_dense0_bias", [20]],
      ["arg:hybridsequential9_dense1_weight", [10, 20]],
      ["arg:hybridsequential9_dense1_bias", [10]],
    ],
    values: {
      "arg:hybridsequential9_conv1_weight": [[-0.0011289769317954779, -0.026852648705244064, -0.08552855253219604], -0.03063717670738697],
      "arg:hybridsequential9_dense0_weight": [[-0.056454647332429886, 0.04343429580330849, 0.12514258921146393], 0.1275014579296112],
    },
  },
};

describe(".params files", () => {
  describe("real MXNet files", () => {
    it("covers every .params file in shared/data/mxnet-models", () => {
      const files = readdirSync(MODELS_DIR).filter((f) => f.endsWith(".params"));
      expect(files.sort()).to.deep.equal(Object.keys(REAL).sort());
    });

    for (const [file, want] of Object.entries(REAL))
      it(`${file}: names, shapes, float32 on cpu, values`, () => {
        const rec = asRecord(loadParams(join(MODELS_DIR, file)));
        expect(Object.keys(rec)).to.deep.equal(want.names.map(([n]) => n));
        for (const [name, shape] of want.names) {
          expect(rec[name].shape, name).to.deep.equal(shape);
          expect(rec[name].dtype).to.equal("float32");
          expect(rec[name].ctx.equals(cpu())).to.equal(true);
        }
        for (const [name, [first, last]] of Object.entries(want.values)) {
          const v = rec[name].toArray();
          expect(v.slice(0, first.length), name).to.deep.equal(first);
          expect(v[v.length - 1], name).to.equal(last);
        }
      });

    it("re-encoding each real file reproduces it byte for byte (same V2 layout as MXNet)", () => {
      for (const file of Object.keys(REAL)) {
        const bytes = readFileSync(join(MODELS_DIR, file));
        const again = encodeParams(decodeParams(bytes));
        expect(Buffer.from(again).equals(bytes), file).to.equal(true);
      }
    });

    it("legacy_ndarray.v0 (oldest format): six float32 arrays of shape (128,), each arange(128)", () => {
      const list = asList(loadParams(join(MODELS_DIR, "legacy_ndarray.v0")));
      expect(list).to.have.length(6);
      const arange = Array.from({ length: 128 }, (_, i) => i);
      for (const a of list) {
        expect(a.shape).to.deep.equal([128]);
        expect(a.dtype).to.equal("float32");
        expect(a.toArray()).to.deep.equal(arange);
      }
    });
  });

  describe("writing", () => {
    it("a record {w: float32 [1.5, -2]} is exactly MXNet's bytes", () => {
      const w = new NDArray([2], "float32", cpu()).set([1.5, -2]);
      const want = hex(`
        1201000000000000 0000000000000000 0100000000000000
        c9fa93f9 00000000 01000000 0200000000000000 01000000 00000000 00000000
        0000c03f 000000c0
        0100000000000000 0100000000000000 77`);
      expect(Array.from(encodeParams({ w }))).to.deep.equal(Array.from(want));
    });

    it("a list [uint8 [255, 7]] is exactly MXNet's bytes (names count 0)", () => {
      const a = new NDArray([2], "uint8", cpu()).set([255, 7]);
      const want = hex(`
        1201000000000000 0000000000000000 0100000000000000
        c9fa93f9 00000000 01000000 0200000000000000 01000000 00000000 03000000
        ff07
        0000000000000000`);
      expect(Array.from(encodeParams([a]))).to.deep.equal(Array.from(want));
    });

    it("a zero-size array keeps its shape; a 0-d array switches the file to V3 records", () => {
      const empty = encodeParams([new NDArray([0], "int32", cpu())]);
      expect(Array.from(empty)).to.deep.equal(
        Array.from(hex("1201000000000000 0000000000000000 0100000000000000 c9fa93f9 00000000 01000000 0000000000000000 01000000 00000000 04000000 0000000000000000")),
      );
      const scalar = encodeParams([new NDArray([], "float32", cpu()).set([2]), new NDArray([1], "float32", cpu()).set([3])]);
      expect(Array.from(scalar)).to.deep.equal(
        Array.from(
          hex(`1201000000000000 0000000000000000 0200000000000000
               cafa93f9 00000000 00000000 01000000 00000000 00000000 00000040
               cafa93f9 00000000 01000000 0100000000000000 01000000 00000000 00000000 00004040
               0000000000000000`),
        ),
      );
    });

    it("rejects non-NDArray entries", () => {
      expect(kilnError(() => encodeParams({ a: [1, 2] as unknown as NDArray }))).to.match(/"a" is not an NDArray/);
      expect(kilnError(() => encodeParams([null as unknown as NDArray]))).to.match(/element #0 is not an NDArray/);
    });
  });

  describe("round trips", () => {
    const f16 = Uint16Array.from([0x0000, 0x8000, 0x0001, 0x8001, 0x03ff, 0x0400, 0x3c00, 0x7bff, 0x7c00, 0xfc00, 0x7e00, 0x7d01, 0xfe37]);
    const f32 = Uint32Array.from([0, 0x80000000, 1, 0x007fffff, 0x3f800000, 0x7f7fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffc01234]);
    const f64 = new Float64Array([0, -0, 5e-324, Number.MAX_VALUE, Infinity, -Infinity, NaN, Math.PI, -1e-300]);
    const i64 = BigInt64Array.from([0n, -1n, 2n ** 53n + 1n, -(2n ** 63n), 2n ** 63n - 1n, 123456789012345678n]);
    const cases: NDArray[] = [
      fromBytes([f16.length], "float16", f16),
      fromBytes([f32.length], "float32", f32),
      fromBytes([3, 3], "float64", f64),
      fromBytes([2, 3], "int64", i64),
      new NDArray([2, 2], "int32", cpu()).set([-(2 ** 31), 2 ** 31 - 1, 0, -7]),
      new NDArray([4], "uint8", cpu()).set([0, 1, 128, 255]),
      new NDArray([1, 4], "int8", cpu()).set([-128, -1, 0, 127]),
      new NDArray([0], "float32", cpu()),
      new NDArray([2, 0, 3], "int64", cpu()),
      new NDArray([1], "float16", cpu()).set([0.5]),
      new NDArray([1, 1, 1], "float64", reference()).set([-2.5]),
    ];

    it("as a list: exact for every dtype, zero-size and 1-element arrays", () => {
      const back = asList(decodeParams(encodeParams(cases)));
      expect(back).to.have.length(cases.length);
      back.forEach((a, i) => sameArray(a, cases[i]));
    });

    it("as a record (names kept as they are, arg:/aux: included)", () => {
      const rec: Record<string, NDArray> = {};
      cases.forEach((a, i) => (rec[i % 2 ? `aux:p${i}` : `arg:p${i}`] = a));
      rec["ünïcødé name"] = cases[0];
      rec["__proto__"] = cases[1];
      const back = asRecord(decodeParams(encodeParams(rec)));
      expect(Object.keys(back)).to.deep.equal(Object.keys(rec));
      for (const k of Object.keys(rec)) sameArray(back[k], rec[k]);
    });

    it("a 0-d array (V3 file) round-trips with its one value", () => {
      const back = asList(decodeParams(encodeParams([new NDArray([], "int32", cpu()).set([-9]), cases[3]])));
      expect(back[0].shape).to.deep.equal([]);
      expect(back[0].dtype).to.equal("int32");
      expect(back[0].toArray()).to.deep.equal([-9]);
      sameArray(back[1], cases[3]);
    });

    it("an empty list and an empty record both encode as an empty list", () => {
      expect(asList(decodeParams(encodeParams([])))).to.deep.equal([]);
      expect(asList(decodeParams(encodeParams({})))).to.deep.equal([]);
    });

    it("saveParams/loadParams through a file, replacing an old one and leaving no temp files", () => {
      const dir = mkdtempSync(join(tmpdir(), "kiln-params-"));
      try {
        const path = join(dir, "net-0001.params");
        writeFileSync(path, "old contents");
        saveParams(path, { "arg:x": cases[1], "aux:y": cases[3] });
        expect(readdirSync(dir)).to.deep.equal(["net-0001.params"]);
        const back = asRecord(loadParams(path));
        sameArray(back["arg:x"], cases[1]);
        sameArray(back["aux:y"], cases[3]);
        expect(() => saveParams(join(dir, "missing", "x.params"), [cases[0]])).to.throw(/ENOENT/);
        expect(readdirSync(dir)).to.deep.equal(["net-0001.params"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("older record versions", () => {
    it("V1 (0xF993FAC8: no storage type), V3 and the oldest format, in one file", () => {
      const bytes = new LE()
        .header(4)
        // V1: ndim 2, dims (1,2), cpu(0), float32
        .u32(0xf993fac8).i32(2).i64(1).i64(2).i32(1).i32(0).i32(0).f32(1.25, -3)
        // V3: ndim 1, dim 1, gpu(1), int32 — loads onto cpu
        .u32(0xf993faca).i32(0).i32(1).i64(1).i32(2).i32(1).i32(4).i32(-5)
        // oldest: u32 ndim 1, u32 dim 3, uint8
        .u32(1).u32(3).i32(1).i32(0).i32(3).raw([1, 2, 3])
        // V2 none array: ndim 0 ends the record
        .u32(0xf993fac9).i32(0).i32(0)
        .u64(0)
        .done();
      const [a, b, c, d] = asList(decodeParams(bytes));
      expect([a.shape, a.dtype, a.toArray()]).to.deep.equal([[1, 2], "float32", [1.25, -3]]);
      expect([b.shape, b.dtype, b.toArray(), b.ctx.equals(cpu())]).to.deep.equal([[1], "int32", [-5], true]);
      expect([c.shape, c.dtype, c.toArray()]).to.deep.equal([[3], "uint8", [1, 2, 3]]);
      expect([d.shape, d.dtype, d.size]).to.deep.equal([[0], "float32", 0]);
    });

    it("none arrays: oldest ndim 0, V1 ndim 0, V3 ndim -1 and V3 unknown dim end their records", () => {
      const bytes = new LE()
        .header(4)
        .u32(0)
        .u32(0xf993fac8).i32(0)
        .u32(0xf993faca).i32(0).i32(-1)
        .u32(0xf993faca).i32(0).i32(2).i64(3).i64(-1)
        .u64(4).u64(1).raw([97]).u64(1).raw([98]).u64(1).raw([99]).u64(1).raw([100])
        .done();
      const rec = asRecord(decodeParams(bytes));
      expect(Object.keys(rec)).to.deep.equal(["a", "b", "c", "d"]);
      for (const a of Object.values(rec)) expect([a.shape, a.size]).to.deep.equal([[0], 0]);
    });
  });

  describe("malformed input", () => {
    const small = encodeParams({ "arg:w": new NDArray([2, 3], "float16", cpu()).set([1, 2, 3, 4, 5, 6]), "aux:m": new NDArray([1], "int64", cpu()).set([7]) });
    const legacy = readFileSync(join(MODELS_DIR, "legacy_ndarray.v0"));

    it("truncation at every byte offset fails, naming an offset and what was expected", () => {
      for (const file of [small, encodeParams([new NDArray([2], "int8", cpu()), new NDArray([], "float32", cpu())]), new Uint8Array(legacy)])
        for (let len = 0; len < file.length; len++) {
          const msg = kilnError(() => decodeParams(file.subarray(0, len)));
          const m = /at byte (\d+): file ends early: expected .+ \(\d+ bytes\), only \d+ left/.exec(msg);
          expect(m, `prefix ${len}: ${msg}`).to.not.equal(null);
          expect(Number(m![1])).to.be.at.most(len);
        }
    });

    it("error messages name the file for loadParams", () => {
      const dir = mkdtempSync(join(tmpdir(), "kiln-params-"));
      try {
        const path = join(dir, "cut.params");
        writeFileSync(path, small.subarray(0, 26));
        expect(kilnError(() => loadParams(path))).to.match(new RegExp(`^${path.replace(/[.]/g, "\\.")}: at byte 24: file ends early: expected array #0's magic`));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("bad file magic, bad array magic", () => {
      const b = small.slice();
      b[0] = 0x13;
      expect(kilnError(() => decodeParams(b))).to.match(/at byte 0: bad file magic 0x113 \(expected 0x112\)/);
      expect(kilnError(() => decodeParams(new TextEncoder().encode("not a params file at all")))).to.match(/at byte 0: bad file magic 0x6170206120746F6E \(expected 0x112\)/);
      const c = small.slice();
      new DataView(c.buffer).setUint32(24, 0xdeadbeef, true);
      expect(kilnError(() => decodeParams(c))).to.match(/at byte 24: array #0: bad array magic 0xDEADBEEF \(expected 0xF993FAC9/);
    });

    it("unsupported type flags fail naming the flag, its MXNet name, the array and the offset", () => {
      for (const [flag, name] of [[7, "bool"], [8, "int16"], [9, "uint16"], [10, "uint32"], [11, "uint64"], [12, "bfloat16"]] as const) {
        const bytes = new LE()
          .header(2)
          .u32(0xf993fac9).i32(0).i32(1).i64(1).i32(1).i32(0).i32(0).f32(1)
          .u32(0xf993fac9).i32(0).i32(1).i64(2).i32(1).i32(0).i32(flag).raw(new Uint8Array(2 * [1, 2, 2, 4, 8, 2][flag - 7]))
          .u64(2).u64(5).raw([...Buffer.from("arg:a")]).u64(5).raw([...Buffer.from("arg:b")])
          .done();
        expect(kilnError(() => decodeParams(bytes))).to.match(
          new RegExp(`at byte 88: array #1 \\("arg:b"\\): type flag ${flag} \\(${name}\\) is not supported by Kiln \\(supported: 0 float32, 1 float64`),
        );
      }
      const unknown = new LE().header(1).u32(0xf993fac9).i32(0).i32(1).i64(1).i32(1).i32(0).i32(99).u64(0).done();
      expect(kilnError(() => decodeParams(unknown))).to.match(/at byte 52: array #0: unknown type flag 99/);
    });

    it("sparse storage types fail as not supported", () => {
      for (const [st, name] of [[1, "row_sparse"], [2, "csr"]] as const) {
        const bytes = new LE().header(1).u32(0xf993fac9).i32(st).i32(1).i64(4).u64(0).done();
        expect(kilnError(() => decodeParams(bytes))).to.match(new RegExp(`at byte 28: array #0: ${name} storage \\(type ${st}\\) is not supported`));
      }
      const odd = new LE().header(1).u32(0xf993fac9).i32(-1).u64(0).done();
      expect(kilnError(() => decodeParams(odd))).to.match(/at byte 28: array #0: expected storage type 0 \(dense\), got -1/);
    });

    it("impossible ndim, dims, dev_type and array count", () => {
      const rec = (...f: ((l: LE) => LE)[]): Uint8Array => f.reduce((l, g) => g(l), new LE().header(1)).u64(0).done();
      expect(kilnError(() => decodeParams(rec((l) => l.u32(0xf993fac9).i32(0).i32(-1))))).to.match(/at byte 32: array #0: impossible ndim -1 \(expected 0\.\.32\)/);
      expect(kilnError(() => decodeParams(rec((l) => l.u32(0xf993fac8).i32(1000))))).to.match(/at byte 28: array #0: impossible ndim 1000/);
      expect(kilnError(() => decodeParams(rec((l) => l.u32(0xf993faca).i32(0).i32(-2))))).to.match(/at byte 32: .*impossible ndim -2 \(expected 0\.\.32, or -1 for unknown\)/);
      expect(kilnError(() => decodeParams(rec((l) => l.u32(0xf993fac9).i32(0).i32(2).i64(3).i64(-4))))).to.match(/at byte 44: array #0: impossible dim 1 = -4/);
      expect(kilnError(() => decodeParams(rec((l) => l.u32(0xf993fac9).i32(0).i32(1).i64(2n ** 60n))))).to.match(/at byte 36: array #0: impossible dim 0 = 1152921504606846976/);
      expect(kilnError(() => decodeParams(rec((l) => l.u32(0xf993fac9).i32(0).i32(1).i64(1n << 40n).i32(1).i32(0).i32(0))))).to.match(
        /at byte 56: file ends early: expected float32 data of array #0, shape \(1099511627776,\) \(4398046511104 bytes\)/,
      );
      expect(kilnError(() => decodeParams(rec((l) => l.u32(0xf993fac9).i32(0).i32(1).i64(1).i32(7).i32(0).i32(0).f32(0))))).to.match(/at byte 44: array #0: expected dev_type 1 \(cpu\).*got 7/);
      expect(kilnError(() => decodeParams(new LE().header(2 ** 40).done()))).to.match(/at byte 24: file ends early: expected array #0's magic \(4 bytes\), only 0 left/);
      expect(kilnError(() => decodeParams(new LE().u64(0x112).u64(0).u64(2n ** 64n - 1n).done()))).to.match(/at byte 16: expected array count \(u64\), got impossible value/);
    });

    it("names count mismatch, bad names, trailing garbage", () => {
      const two = encodeParams([new NDArray([1], "int8", cpu()), new NDArray([1], "int8", cpu())]);
      const k = two.length - 8;
      const bad = two.slice();
      new DataView(bad.buffer).setBigUint64(k, 1n, true);
      expect(kilnError(() => decodeParams(bad))).to.match(new RegExp(`at byte ${k}: expected names count 0 or 2 \\(one per array\\), got 1`));
      const dup = new LE().raw(two.subarray(0, k)).u64(2).u64(1).raw([120]).u64(1).raw([120]).done();
      expect(kilnError(() => decodeParams(dup))).to.match(new RegExp(`at byte ${k + 17}: duplicate name "x" \\(name #1\\)`));
      const notUtf8 = new LE().raw(two.subarray(0, k)).u64(2).u64(1).raw([0xff]).u64(1).raw([120]).done();
      expect(kilnError(() => decodeParams(notUtf8))).to.match(new RegExp(`at byte ${k + 16}: name #0 is not valid UTF-8`));
      const longName = new LE().raw(two.subarray(0, k)).u64(2).u64(1000).done();
      expect(kilnError(() => decodeParams(longName))).to.match(new RegExp(`at byte ${k + 16}: file ends early: expected name #0 \\(1000 bytes of UTF-8\\)`));
      const trailing = new LE().raw(small).raw([0]).done();
      expect(kilnError(() => decodeParams(trailing))).to.match(new RegExp(`at byte ${small.length}: expected the end of the file after 2 names, found 1 more bytes`));
    });
  });
});
