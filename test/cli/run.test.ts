/**
 * `kiln run`: the shared MNIST CNN classifies the first 500 MNIST test digits (the outputs
 * read back from the NPY file it writes, the labels read here from the IDX file); raw
 * float32 in and out give the same numbers.
 */
import { expect } from "chai";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { MODELS_DIR, SHARED_DATA } from "../helpers/paths.js";
import { expectStatus, kiln, kilnAsync, tempDir } from "./cli_helper.js";

/** An NPY file written by `kiln run`: '<f4', C order. */
function readNpy(file: string): { shape: number[]; data: Float32Array } {
  const b = readFileSync(file);
  expect([...b.subarray(0, 6)]).to.deep.equal([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);
  const len = b.readUInt16LE(8);
  const header = b.subarray(10, 10 + len).toString("latin1");
  expect(header).to.include("'descr': '<f4'");
  expect(header).to.include("'fortran_order': False");
  expect((10 + len) % 64).to.equal(0);
  const shape = /'shape': \(([^)]*)\)/.exec(header)![1].split(",").filter((s) => s.trim()).map(Number);
  const body = b.subarray(10 + len);
  return { shape, data: new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.length)) };
}

const argmax = (row: Float32Array): number => row.reduce((best, v, i) => (v > row[best] ? i : best), 0);

describe("kiln run", () => {
  const t = tempDir("run");
  after(() => t.remove());
  const mnist = join(MODELS_DIR, "mnist-symbol.json");
  const params = join(MODELS_DIR, "mnist-0035.params");
  const images = join(SHARED_DATA, "mnist", "t10k-images-idx3-ubyte.gz");
  const labelsFile = join(SHARED_DATA, "mnist", "t10k-labels-idx1-ubyte.gz");

  it("classifies at least 98% of the first 500 MNIST test digits (IDX .gz input, pixels / 255)", function () {
    this.timeout(60000);
    const out = join(t.dir, "pred.npy");
    const r = expectStatus(
      kiln(["run", mnist, "--params", params, "--input", `data=${images}`, "--shape", "data=100,1,28,28", "--scale", "255", "--limit", "500", "--labels", labelsFile, "--out", out, "--rows", "3"]),
      0,
    ).stdout;
    const { shape, data } = readNpy(out);
    expect(shape).to.deep.equal([500, 10]);
    const lab = gunzipSync(readFileSync(labelsFile));
    expect(lab.readUInt32BE(0)).to.equal(2049);
    let right = 0;
    for (let i = 0; i < 500; i++) if (argmax(data.subarray(i * 10, i * 10 + 10)) === lab[8 + i]) right++;
    expect(right / 500).to.be.at.least(0.98);
    // The printed accuracy and rows agree with the file.
    expect(r).to.include(`Accuracy: top-1 ${(right / 500).toFixed(4)} (${right}/500)`);
    expect(r).to.match(new RegExp(`^\\s+0: ${argmax(data.subarray(0, 10))}\\s+top-5: `, "m"));
    expect(r).to.include("… 497 more rows");
    expect(r).to.match(/Wrote .*pred\.npy 500×10/);

    // The same first three digits as raw float32 (already scaled), with raw float32 out.
    const img = gunzipSync(readFileSync(images));
    const px = new Float32Array(3 * 784);
    for (let i = 0; i < px.length; i++) px[i] = img[16 + i] / 255;
    const bin = join(t.dir, "three.bin");
    writeFileSync(bin, Buffer.from(px.buffer));
    const rawOut = join(t.dir, "three.out");
    expectStatus(kiln(["run", mnist, "--params", params, "--input", bin, "--shape", "data=3,1,28,28", "--out", rawOut]), 0);
    const rawBytes = readFileSync(rawOut);
    const raw = new Float32Array(rawBytes.buffer.slice(rawBytes.byteOffset, rawBytes.byteOffset + rawBytes.length));
    expect(raw.length).to.equal(30);
    raw.forEach((v, i) => expect(Math.abs(v - data[i]), `value ${i}`).to.be.below(1e-5));
  });

  it("rejects inputs that do not fit, and bad options, with exit codes 1 and 2", async function () {
    this.timeout(30000);
    const bin = join(t.dir, "bad.bin");
    writeFileSync(bin, Buffer.alloc(4 * 100));
    const [misfit, device, unknown] = await Promise.all([
      kilnAsync(["run", mnist, "--params", params, "--input", `data=${bin}`, "--shape", "data=1,1,28,28"]),
      kilnAsync(["run", mnist, "--params", params, "--input", `data=${bin}`, "--device", "tpu"]),
      kilnAsync(["run", mnist, "--params", params, "--input", `image=${bin}`]),
    ]);
    expect(misfit.status).to.equal(1);
    expect(misfit.stderr).to.include("100 values");
    expect(misfit.stderr).to.include("784 values each");
    expect(device.status).to.equal(2);
    expect(device.stderr).to.include("--device tpu");
    expect(unknown.status).to.equal(2);
    expect(unknown.stderr).to.include("no argument image");
  });
});
