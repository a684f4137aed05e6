/**
 * The export's two data files against their documented layouts: weights.bin read back with an
 * independent reader written here from the README's table (and compared with the .params
 * values), schedule.txt parsed back, and both readers' errors on damaged input.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { nd, NDArray } from "../../index.js";
import { decodeWeights, encodeWeights, exportCommand, exportModel, formatSchedule, parseSchedule } from "../../runtime/export/index.js";
import { KILN_MODULE, MODELS, paramsPath, symbolPath, tempDir } from "./helpers.js";

/** weights.bin as README.md documents it, read with a DataView and nothing else. */
function readByHand(bytes: Uint8Array): { magic: string; version: number; dataOffset: number; dataBytes: number; entries: { name: string; dtype: number; dims: number[]; offset: number; bytes: number }[] } {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = String.fromCharCode(...bytes.subarray(0, 8));
  const count = v.getUint32(12, true);
  const entries = [];
  let p = 32;
  for (let i = 0; i < count; i++) {
    const n = v.getUint32(p, true);
    const name = new TextDecoder().decode(bytes.subarray(p + 4, p + 4 + n));
    p += 4 + n;
    const dtype = v.getUint32(p, true);
    const ndim = v.getUint32(p + 4, true);
    p += 8;
    const dims = Array.from({ length: ndim }, (_, d) => Number(v.getBigInt64(p + 8 * d, true)));
    p += 8 * ndim;
    entries.push({ name, dtype, dims, offset: Number(v.getBigUint64(p, true)), bytes: Number(v.getBigUint64(p + 8, true)) });
    p += 16;
  }
  return { magic, version: v.getUint32(8, true), dataOffset: Number(v.getBigUint64(16, true)), dataBytes: Number(v.getBigUint64(24, true)), entries };
}

describe("export: file formats", function () {
  this.timeout(60000);
  const root = tempDir("formats");
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it("weights.bin holds the .params values at 64-byte aligned offsets, as documented", async () => {
    const m = MODELS[1];
    const r = await exportModel(symbolPath(m), { shapes: { data: [1, 1, 28, 28] }, params: paramsPath(m), target: "cpu", out: path.join(root, "lenet"), kilnModule: KILN_MODULE });
    const bytes = fs.readFileSync(path.join(r.dir, "weights.bin"));
    const f = readByHand(bytes);
    expect(f.magic).to.equal("KILNWTS\0");
    expect(f.version).to.equal(1);
    expect(f.dataOffset % 64).to.equal(0);
    expect(f.dataOffset + f.dataBytes).to.equal(bytes.length);
    const params = nd.load(paramsPath(m)) as Record<string, NDArray>;
    expect(f.entries.map((e) => e.name)).to.deep.equal(r.weights.map((w) => w.name));
    for (const e of f.entries) {
      const want = params[`arg:${e.name}`];
      expect(e.dtype, e.name).to.equal(0);
      expect(e.dims, e.name).to.deep.equal([...want.shape]);
      expect(e.offset % 64, e.name).to.equal(0);
      expect(e.bytes).to.equal(want.size * 4);
      const start = f.dataOffset + e.offset;
      const got = new Float32Array(Uint8Array.from(bytes.subarray(start, start + e.bytes)).buffer);
      expect(Array.from(got), e.name).to.deep.equal(want.toArray());
    }
  });

  it("encodeWeights/decodeWeights round-trip every dtype; damage is reported with its byte offset", () => {
    const entries = [
      { name: "a", dtype: "float16" as const, shape: [3], bytes: new Uint8Array([1, 2, 3, 4, 5, 6]) },
      { name: "bé", dtype: "int64" as const, shape: [2, 1], bytes: new Uint8Array(16).fill(7) },
      { name: "c", dtype: "uint8" as const, shape: [0], bytes: new Uint8Array(0) },
    ];
    const bytes = encodeWeights(entries);
    const back = decodeWeights(bytes);
    expect(back.entries.map((e) => [e.name, e.dtype, e.shape, Array.from(e.bytes)])).to.deep.equal(entries.map((e) => [e.name, e.dtype, e.shape, Array.from(e.bytes)]));
    expect(() => decodeWeights(bytes.subarray(0, 20), "w.bin")).to.throw("w.bin: file ends inside the header");
    const bad = Uint8Array.from(bytes);
    bad[0] = 0x4e;
    expect(() => decodeWeights(bad, "w.bin")).to.throw('not a Kiln weights file (magic "NILNWTS\\u0000"');
    const wrongSize = Uint8Array.from(bytes);
    new DataView(wrongSize.buffer).setBigUint64(32 + 4 + 1 + 8 + 8 + 8, 5n, true); // entry a's byte count
    expect(() => decodeWeights(wrongSize, "w.bin")).to.throw("entry 0 (a) holds 5 bytes, but float16(3,) needs 6 (at byte 32)");
    expect(() => encodeWeights([{ name: "x", dtype: "float32", shape: [2], bytes: new Uint8Array(4) }])).to.throw("x is float32(2,) (8 bytes) but 4 bytes were given");
  });

  it("schedule.txt parses back to the schedule; malformed text names the line", async () => {
    const m = MODELS[0];
    // Through the CLI's entry point, as `kiln export` runs it.
    const lines: string[] = [];
    const r = await exportCommand(
      { symbol: symbolPath(m), params: paramsPath(m), shape: "data=1,1,28,28", target: "cpu", out: path.join(root, "mnist"), kilnModule: KILN_MODULE },
      (l) => lines.push(l),
    );
    expect(lines.join("\n")).to.include("exported 6 kernels").and.include("inputs:  data float32(1,1,28,28)").and.include("make && ./example");
    const text = fs.readFileSync(path.join(r.dir, "schedule.txt"), "utf8");
    const s = parseSchedule(text);
    expect(s.target).to.equal("cpu");
    expect(s.inputs).to.deep.equal(r.inputs);
    expect(s.outputs).to.deep.equal(r.outputs);
    expect(s.arenaBytes).to.equal(r.arenaBytes);
    // Pool refs stay inside the arena; every weight and the output are used.
    for (const st of s.steps) for (const a of st.args) if (a.kind === "arena") expect(a.offset).to.be.lessThan(s.arenaBytes);
    const used = new Set(s.steps.flatMap((st) => st.args.filter((a) => a.kind === "weight").map((a) => (a as { index: number }).index)));
    expect(used.size).to.equal(s.weights.length);
    // Writing the parsed schedule gives the same records.
    const records = (t: string): string[] => t.split("\n").filter((l) => l && !l.startsWith("#"));
    expect(records(formatSchedule(s, "again"))).to.deep.equal(records(text));
    expect(() => parseSchedule(text.replace("kiln-schedule 1", "kiln-schedule 2"), "s.txt")).to.throw("s.txt:3: unsupported version 2");
    expect(() => parseSchedule(text.replace(/\nend\n$/, "\n"), "s.txt")).to.throw("s.txt: no `end` record");
    expect(() => parseSchedule(text.replace(/(step \d+ \d+ \d+ )w\d+/, "$1w99"), "s.txt")).to.throw("ref w99: there are 8 weights");
    expect(() => parseSchedule("hello\n", "s.txt")).to.throw("s.txt:1: not a Kiln schedule");
  });
});
