import { expect } from "chai";
import { mkdtempSync, writeFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { readIdx, decodeIdx, mnistIter } from "../../runtime/training/idx.js";
import { expectError } from "../helpers/expect_error.js";

/** IDX bytes written independently of the reader: header and big-endian values by DataView. */
function idxBytes(code: number, shape: number[], values: number[]): Buffer {
  const size = { 0x08: 1, 0x09: 1, 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8 }[code] ?? 1;
  const buf = Buffer.alloc(4 + 4 * shape.length + size * values.length);
  buf[2] = code;
  buf[3] = shape.length;
  shape.forEach((d, i) => buf.writeUInt32BE(d, 4 + 4 * i));
  const off = 4 + 4 * shape.length;
  values.forEach((v, i) => {
    const at = off + size * i;
    if (code === 0x08) buf.writeUInt8(v, at);
    else if (code === 0x09) buf.writeInt8(v, at);
    else if (code === 0x0b) buf.writeInt16BE(v, at);
    else if (code === 0x0c) buf.writeInt32BE(v, at);
    else if (code === 0x0d) buf.writeFloatBE(v, at);
    else buf.writeDoubleBE(v, at);
  });
  return buf;
}

describe("training/idx", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "kiln-idx-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: { code: number; dtype: string; shape: number[]; values: number[] }[] = [
    { code: 0x08, dtype: "uint8", shape: [2, 3], values: [0, 1, 127, 128, 254, 255] },
    { code: 0x09, dtype: "int8", shape: [4], values: [-128, -1, 0, 127] },
    { code: 0x0b, dtype: "int16", shape: [2, 1, 2], values: [-32768, -2, 513, 32767] },
    { code: 0x0c, dtype: "int32", shape: [3], values: [-2147483648, 16909060, 2147483647] },
    { code: 0x0d, dtype: "float32", shape: [1, 2, 1, 2], values: [1.5, -0.25, 3e-8, 65504] },
    { code: 0x0e, dtype: "float64", shape: [2], values: [Math.PI, -1e300] },
    { code: 0x08, dtype: "uint8", shape: [], values: [42] },
  ];
  for (const c of cases)
    for (const gz of [false, true])
      it(`reads ${c.dtype} of rank ${c.shape.length}${gz ? ", gzip-compressed" : ""}`, () => {
        const file = join(dir, `t-${c.code}-${c.shape.length}${gz ? ".gz" : ""}`);
        const raw = idxBytes(c.code, c.shape, c.values);
        writeFileSync(file, gz ? gzipSync(raw) : raw);
        const r = readIdx(file);
        expect(r.shape).to.deep.equal(c.shape);
        expect(r.dtype).to.equal(c.dtype);
        expect(Array.from(r.data)).to.deep.equal(c.values.map((v) => (c.code === 0x0d ? Math.fround(v) : v)));
      });

  it("detects gzip by its magic, not by the file name", () => {
    const file = join(dir, "compressed-without-suffix");
    writeFileSync(file, gzipSync(idxBytes(0x08, [2], [7, 9])));
    expect(Array.from(readIdx(file).data)).to.deep.equal([7, 9]);
  });

  it("fails on truncated or malformed files naming the byte offset", () => {
    const good = idxBytes(0x0c, [2, 3], [1, 2, 3, 4, 5, 6]); // 12-byte header, 24 bytes of data
    expectError(() => decodeIdx(good.subarray(0, 30), "x.idx"), "x.idx", "truncated IDX data", "(2,3)", "24 bytes from offset 12", "ends at offset 30", "6 bytes missing");
    expectError(() => decodeIdx(good.subarray(0, 9), "x.idx"), "truncated IDX header", "bytes 4-11", "offset 9");
    expectError(() => decodeIdx(good.subarray(0, 2), "x.idx"), "truncated IDX header", "offset 0");
    expectError(() => decodeIdx(Buffer.concat([good, Buffer.from([0, 0])]), "x.idx"), "2 unexpected bytes at offset 36");
    const badMagic = Buffer.from(good);
    badMagic[1] = 8;
    expectError(() => decodeIdx(badMagic, "x.idx"), "bad IDX magic 0x00080c02 at offset 0");
    const badType = Buffer.from(good);
    badType[2] = 0x0a;
    expectError(() => decodeIdx(badType, "x.idx"), "unknown IDX type code 0x0a at offset 2");
    // Every cut of a small file fails (never reads garbage).
    for (let n = 0; n < good.length; n++) expectError(() => decodeIdx(good.subarray(0, n)), "offset");
    const gzFile = join(dir, "cut.gz");
    const gz = gzipSync(good);
    writeFileSync(gzFile, gz.subarray(0, gz.length - 6));
    expectError(() => readIdx(gzFile), gzFile, "gzip");
    const cutInside = join(dir, "cut-inside.gz");
    writeFileSync(cutInside, gzipSync(good.subarray(0, 20)));
    expectError(() => readIdx(cutInside), "(decompressed)", "truncated IDX data", "from offset 12");
    expectError(() => readIdx(join(dir, "missing.idx")), "missing.idx");
  });

  it("mnistIter makes scaled float32 batches, (N,1,rows,cols) or flat", () => {
    const n = 5;
    const pixels = Array.from({ length: n * 4 * 3 }, (_, k) => (k * 7) % 256);
    const images = join(dir, "img.gz");
    const labels = join(dir, "lab");
    writeFileSync(images, gzipSync(idxBytes(0x08, [n, 4, 3], pixels)));
    writeFileSync(labels, idxBytes(0x08, [n], [3, 1, 4, 1, 5]));
    const it = mnistIter({ images, labels, batchSize: 2 });
    expect(it.provideData).to.deep.equal([{ name: "data", shape: [2, 1, 4, 3], dtype: "float32" }]);
    expect(it.provideLabel).to.deep.equal([{ name: "softmax_label", shape: [2], dtype: "float32" }]);
    const b = it.next()!;
    b.data[0].toArray().forEach((v, k) => expect(v).to.equal(Math.fround(pixels[k] / 255)));
    expect(b.label[0].toArray()).to.deep.equal([3, 1]);
    const flat = mnistIter({ images, labels, batchSize: 5, flat: true, scale: 1 });
    const fb = flat.next()!;
    expect(fb.data[0].shape).to.deep.equal([5, 12]);
    expect(fb.data[0].toArray()).to.deep.equal(pixels);
    writeFileSync(join(dir, "lab4"), idxBytes(0x08, [4], [1, 2, 3, 4]));
    expectError(() => mnistIter({ images, labels: join(dir, "lab4"), batchSize: 2 }), "5 images", "4 labels");
    expectError(() => mnistIter({ images: labels, labels, batchSize: 2 }), "(count, rows, cols)");
  });

  const fashion = "/usr/share/datasets/fashion-mnist";
  (existsSync(join(fashion, "t10k-images-idx3-ubyte.gz")) ? it : it.skip)("reads the Fashion-MNIST test set (1,000 images of each class)", () => {
    const labels = readIdx(join(fashion, "t10k-labels-idx1-ubyte.gz"));
    expect(labels.shape).to.deep.equal([10000]);
    const counts = new Array<number>(10).fill(0);
    for (const l of labels.data) counts[l]++;
    expect(counts).to.deep.equal(new Array<number>(10).fill(1000));
    const it = mnistIter({ images: join(fashion, "t10k-images-idx3-ubyte.gz"), labels: join(fashion, "t10k-labels-idx1-ubyte.gz"), batchSize: 1000, flat: true });
    expect(it.provideData[0].shape).to.deep.equal([1000, 784]);
    let batches = 0;
    for (const b of it) {
      batches++;
      const v = b.data[0].toFloat64();
      expect(v.every((x) => x >= 0 && x <= 1)).to.equal(true);
    }
    expect(batches).to.equal(10);
  });
});
